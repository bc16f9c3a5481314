-- The queue in claim order, holding only the jobs waiting to run: a claim
-- reads its first matching entry instead of sorting every waiting job.
CREATE INDEX jobs_queue ON jobs(run_after, id) WHERE state IN ('queued', 'retrying');
