-- A job's and a delivery's state is one the store knows: the database
-- refuses any other. SQLite adds a CHECK constraint only to a new table, so
-- each table is rebuilt: a new one with the same columns (in the same
-- order) and the constraint, the rows copied, the old one dropped and the
-- new one renamed, then the indexes made again. The store runs migrations
-- with foreign keys off, as SQLite asks for this: dropping the old table
-- must not delete the events, artifacts and deliveries that refer to it.
CREATE TABLE jobs_rebuilt (
    id                  TEXT PRIMARY KEY,
    owner_id            TEXT NOT NULL REFERENCES users(id),
    pipeline            TEXT NOT NULL,
    upload_id           TEXT REFERENCES uploads(id),
    params              TEXT NOT NULL,
    state               TEXT NOT NULL,
    progress            REAL NOT NULL DEFAULT 0,
    stage               TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    max_attempts        INTEGER NOT NULL,
    run_after           INTEGER NOT NULL,
    lease_token         TEXT,
    lease_expires_at    INTEGER,
    worker_id           TEXT,
    cancel_requested    INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    warnings            TEXT NOT NULL DEFAULT '[]',
    idempotency_key     TEXT,
    created_at          INTEGER NOT NULL,
    started_at          INTEGER,
    finished_at         INTEGER,
    updated_at          INTEGER NOT NULL,
    callback_url        TEXT,
    notify_email        TEXT,
    request_fingerprint TEXT,
    UNIQUE (owner_id, idempotency_key),
    CONSTRAINT jobs_state_known
        CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'))
);
INSERT INTO jobs_rebuilt (id, owner_id, pipeline, upload_id, params, state, progress, stage,
    attempts, max_attempts, run_after, lease_token, lease_expires_at, worker_id,
    cancel_requested, error, warnings, idempotency_key, created_at, started_at, finished_at,
    updated_at, callback_url, notify_email, request_fingerprint)
SELECT id, owner_id, pipeline, upload_id, params, state, progress, stage,
    attempts, max_attempts, run_after, lease_token, lease_expires_at, worker_id,
    cancel_requested, error, warnings, idempotency_key, created_at, started_at, finished_at,
    updated_at, callback_url, notify_email, request_fingerprint
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_rebuilt RENAME TO jobs;
CREATE INDEX jobs_claimable ON jobs(state, run_after);
CREATE INDEX jobs_owner ON jobs(owner_id, id);
CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);
CREATE INDEX jobs_queue ON jobs(run_after, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX jobs_upload ON jobs(upload_id);
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_waiting_by_owner ON jobs(owner_id, run_after, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX jobs_running_by_owner ON jobs(owner_id) WHERE state = 'running';

CREATE TABLE deliveries_rebuilt (
    id              TEXT PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    owner_id        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL,
    endpoint_id     TEXT,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    give_up_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT deliveries_state_known CHECK (state IN ('pending', 'delivered', 'failed'))
);
INSERT INTO deliveries_rebuilt (id, job_id, owner_id, channel, target, endpoint_id, event,
    payload, state, attempts, next_attempt_at, give_up_at, created_at, updated_at)
SELECT id, job_id, owner_id, channel, target, endpoint_id, event,
    payload, state, attempts, next_attempt_at, give_up_at, created_at, updated_at
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_rebuilt RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_job ON deliveries(job_id, id);

-- The steps of compatible APIs' own schemas applied so far (the store's
-- own migrations are sqlx's to record).
CREATE TABLE extension_migrations (
    extension   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL,
    PRIMARY KEY (extension, version)
);
