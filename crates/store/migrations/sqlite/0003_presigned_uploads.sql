-- Uploads that a client sends straight to storage through a presigned URL.
-- The row is made at presign time; the PUT fills in what arrived; completing
-- it turns it into an ordinary upload.
CREATE TABLE presigned_uploads (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES users(id),
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    declared_size   INTEGER NOT NULL,
    blob_key        TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    received_size   INTEGER,
    received_sha256 TEXT,
    created_at      INTEGER NOT NULL
);
