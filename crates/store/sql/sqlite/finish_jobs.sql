-- Ends workers' holds on the jobs in $2, a JSON array with, for each job,
-- its id, lease and what its outcome writes; $1 is now. A job ends only
-- while running under that same lease. Returns each job that ended (only
-- the updated table's columns: SQLite allows nothing else there).
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
FROM (SELECT value ->> 'id' AS id, value ->> 'lease' AS lease, value ->> 'state' AS state,
             value ->> 'error' AS error, value ->> 'run_after' AS run_after,
             value ->> 'warnings' AS warnings, value ->> 'attempts_delta' AS attempts_delta,
             value ->> 'finished_at' AS finished_at, value ->> 'progress' AS progress
      FROM json_each($2)) AS ending
WHERE jobs.id = ending.id AND jobs.lease_token = ending.lease AND jobs.state = 'running'
RETURNING *
