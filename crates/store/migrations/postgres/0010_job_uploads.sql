-- Uploads that a job's parameters name besides its input (a render's scene
-- images, its music): kept, like the input, while the job has not ended.
CREATE TABLE job_uploads (
    job_id    TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    upload_id TEXT NOT NULL,
    PRIMARY KEY (job_id, upload_id)
);
CREATE INDEX job_uploads_upload ON job_uploads(upload_id);
