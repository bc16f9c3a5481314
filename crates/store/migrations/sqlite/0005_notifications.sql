-- Notifications. A job may name a URL to call and an address to mail when it
-- ends; users register webhook endpoints for the events they want. What is
-- to be sent goes to the outbox (deliveries) in the same transaction as the
-- state change it announces, and every attempt to send it is kept. A user
-- may ask to be mailed at the end of every job of theirs.
ALTER TABLE jobs ADD COLUMN callback_url TEXT;
ALTER TABLE jobs ADD COLUMN notify_email TEXT;
ALTER TABLE users ADD COLUMN notify_by_email INTEGER NOT NULL DEFAULT 0;

CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users(id),
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(owner_id, id);

-- Signs the calls to the callback_url of a user's jobs.
CREATE TABLE callback_secrets (
    owner_id   TEXT PRIMARY KEY REFERENCES users(id),
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE deliveries (
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
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_job ON deliveries(job_id, id);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    succeeded   INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
