-- Takes up to $6 jobs a node runs next, in one statement, fairly across
-- owners: `waiting` lists the owners with jobs waiting (one index probe
-- each) with their running count; `candidates` ranks each owner's $6
-- oldest jobs this node can run now (one of the pipelines in the JSON array
-- $4, due by $3) by the owner's load once it would run them (its k-th job:
-- running + k). The claim takes the least loaded first (ties: the older
-- job), passing over jobs that would put their owner above the cap ($5):
-- what as many single claims in a row would take. Each job gets a lease of
-- its own, expiring at $1, for node $2.
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
            WHERE r.state = 'running' AND r.owner_id = w.owner_id) AS running
    FROM waiting w WHERE w.owner_id IS NOT NULL),
candidates AS (
    SELECT h.id, h.run_after,
           o.running + ROW_NUMBER() OVER (PARTITION BY o.owner_id
                                          ORDER BY h.run_after, h.id) AS load
    FROM owners o JOIN jobs h ON h.id IN (
        SELECT x.id FROM jobs x INDEXED BY jobs_waiting_by_owner
        WHERE x.owner_id = o.owner_id AND x.state IN ('queued', 'retrying')
          AND x.run_after <= $3 AND x.pipeline IN (SELECT value FROM json_each($4))
        ORDER BY x.run_after, x.id LIMIT $6))
UPDATE jobs SET state = 'running', attempts = attempts + 1,
    lease_token = lower(hex(randomblob(16))), lease_expires_at = $1, worker_id = $2,
    started_at = COALESCE(started_at, $3), updated_at = $3, progress = 0, stage = NULL
WHERE id IN (SELECT id FROM candidates WHERE load <= $5
             ORDER BY load, run_after, id LIMIT $6)
  AND state IN ('queued', 'retrying')
RETURNING *
