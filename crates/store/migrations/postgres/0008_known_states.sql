-- A job's and a delivery's state is one the store knows: the database
-- refuses any other.
ALTER TABLE jobs ADD CONSTRAINT jobs_state_known
    CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_known
    CHECK (state IN ('pending', 'delivered', 'failed'));

-- The steps of compatible APIs' own schemas applied so far (the store's
-- own migrations are sqlx's to record).
CREATE TABLE extension_migrations (
    extension   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    description TEXT NOT NULL,
    applied_at  BIGINT NOT NULL,
    PRIMARY KEY (extension, version)
);
