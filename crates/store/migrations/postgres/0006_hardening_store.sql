-- What the store keeps so that nothing a client sends piles up unseen.
-- An idempotency key stands for one submission: its fingerprint (a hash of
-- pipeline, input, parameters and notices) is kept so that the key reused
-- with another submission can be refused.
ALTER TABLE jobs ADD COLUMN request_fingerprint TEXT;
-- Each PUT to kinoflow's own presigned URL writes an object of its own; the
-- row names the last one that arrived. A completed row stays until it
-- expires, so that the sweeper can remove what later PUTs leave behind.
ALTER TABLE presigned_uploads ADD COLUMN received_key TEXT;
ALTER TABLE presigned_uploads ADD COLUMN completed_at BIGINT;
CREATE INDEX presigned_uploads_expiry ON presigned_uploads(expires_at);
-- Deleting an upload asks whether a job still uses it.
CREATE INDEX jobs_upload ON jobs(upload_id);
-- Retention finds ended jobs and old uploads by age.
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX uploads_created ON uploads(created_at);
