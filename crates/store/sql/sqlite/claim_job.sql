-- Takes the job a worker runs next, fairly across owners: `waiting` lists
-- the owners with jobs waiting (one index probe each), `eligible` those of
-- them under the cap ($6) with a job this worker can run now (one of the
-- pipelines in the JSON array $5, due by $4), with their running count and
-- that oldest job. The claim takes the oldest job of the owner with the
-- fewest running (ties: whose oldest job is older), else the oldest job of
-- any eligible owner. $1 is the new lease, $2 when it expires, $3 the worker.
--
-- SQLite locks the whole database for a write, so there is no row lock to
-- ask for. Without statistics its planner picks a state index and sorts
-- every waiting job: the INDEXED BY hints name the indexes that give the
-- jobs in claim order.
WITH RECURSIVE waiting(owner_id) AS (
    SELECT MIN(owner_id) FROM jobs INDEXED BY jobs_waiting_by_owner
    WHERE state IN ('queued', 'retrying')
    UNION ALL
    SELECT (SELECT MIN(n.owner_id) FROM jobs n INDEXED BY jobs_waiting_by_owner
            WHERE n.state IN ('queued', 'retrying') AND n.owner_id > w.owner_id)
    FROM waiting w WHERE w.owner_id IS NOT NULL),
owners AS (
    SELECT w.owner_id,
           (SELECT COUNT(*) FROM jobs r
            WHERE r.state = 'running' AND r.owner_id = w.owner_id) AS running,
           (SELECT h.id FROM jobs h INDEXED BY jobs_waiting_by_owner
            WHERE h.owner_id = w.owner_id AND h.state IN ('queued', 'retrying')
              AND h.run_after <= $4 AND h.pipeline IN (SELECT value FROM json_each($5))
            ORDER BY h.run_after, h.id LIMIT 1) AS oldest_id
    FROM waiting w WHERE w.owner_id IS NOT NULL),
eligible AS (
    SELECT o.owner_id, o.running, h.run_after, h.id
    FROM owners o JOIN jobs h ON h.id = o.oldest_id WHERE o.running < $6)
UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $1,
    lease_expires_at = $2, worker_id = $3, started_at = COALESCE(started_at, $4),
    updated_at = $4, progress = 0, stage = NULL
WHERE id = COALESCE(
    (SELECT j.id FROM jobs j INDEXED BY jobs_waiting_by_owner
     WHERE j.owner_id = (SELECT e.owner_id FROM eligible e
                         ORDER BY e.running, e.run_after, e.id LIMIT 1)
       AND j.state IN ('queued', 'retrying') AND j.run_after <= $4
       AND j.pipeline IN (SELECT value FROM json_each($5))
     ORDER BY j.run_after, j.id LIMIT 1),
    (SELECT j.id FROM jobs j INDEXED BY jobs_queue
     WHERE j.owner_id IN (SELECT e.owner_id FROM eligible e)
       AND j.state IN ('queued', 'retrying') AND j.run_after <= $4
       AND j.pipeline IN (SELECT value FROM json_each($5))
     ORDER BY j.run_after, j.id LIMIT 1))
  AND state IN ('queued', 'retrying')
RETURNING *
