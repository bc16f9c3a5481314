-- Ends workers' holds on the jobs in $2, a JSON array with, for each job,
-- its id, lease and what its outcome writes; $1 is now. A job ends only
-- while running under that same lease. Returns each job that ended.
UPDATE jobs SET
    state = ending.state,
    error = ending.error,
    run_after = COALESCE(ending.run_after, jobs.run_after),
    warnings = ending.warnings,
    attempts = jobs.attempts + ending.attempts_delta,
    finished_at = ending.finished_at,
    progress = COALESCE(ending.progress, jobs.progress),
    lease_token = NULL,
    lease_expires_at = NULL,
    updated_at = $1
FROM json_to_recordset($2::json) AS ending(
    id text, lease text, state text, error text, run_after bigint, warnings text,
    attempts_delta bigint, finished_at bigint, progress double precision)
WHERE jobs.id = ending.id AND jobs.lease_token = ending.lease AND jobs.state = 'running'
RETURNING jobs.*
