-- The PostgreSQL twin of migrations/sqlite: the same tables and meaning.
-- Times are milliseconds since the Unix epoch, so that SQLite and PostgreSQL
-- store and compare them the same way.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    blob_key     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX uploads_owner ON uploads(owner_id, id);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES users(id),
    pipeline         TEXT NOT NULL,
    upload_id        TEXT REFERENCES uploads(id),
    params           TEXT NOT NULL,
    state            TEXT NOT NULL,
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
    stage            TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    run_after        BIGINT NOT NULL,
    lease_token      TEXT,
    lease_expires_at BIGINT,
    worker_id        TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    error            TEXT,
    warnings         TEXT NOT NULL DEFAULT '[]',
    idempotency_key  TEXT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    updated_at       BIGINT NOT NULL,
    UNIQUE (owner_id, idempotency_key)
);
CREATE INDEX jobs_claimable ON jobs(state, run_after);
CREATE INDEX jobs_owner ON jobs(owner_id, id);
CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);

CREATE TABLE job_events (
    id         BIGSERIAL PRIMARY KEY,
    job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, id);

CREATE TABLE artifacts (
    job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    blob_key     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (job_id, name)
);
