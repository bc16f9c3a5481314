-- Takes up to $6 jobs a node runs next, in one statement, fairly across
-- owners: `waiting` lists the owners with jobs waiting (one index probe
-- each) with their running count; `candidates` ranks each owner's $6
-- oldest jobs this node can run now (one of the pipelines in the JSON array
-- $4, due by $3) by the owner's load once it would run them (its k-th job:
-- running + k); `chosen` takes the least loaded first (ties: the older
-- job), passing over jobs that would put their owner above the cap ($5):
-- what as many single claims in a row would take. Rows other nodes hold at
-- this moment are skipped (SKIP LOCKED); without a cap ($7 true) the claim
-- then fills up with the oldest other due jobs rather than take fewer. Each
-- job gets a lease of its own, expiring at $1, for node $2.
WITH RECURSIVE waiting(owner_id) AS (
    SELECT MIN(owner_id) FROM jobs
    WHERE state IN ('queued', 'retrying')
    UNION ALL
    SELECT (SELECT MIN(n.owner_id) FROM jobs n
            WHERE n.state IN ('queued', 'retrying') AND n.owner_id > w.owner_id)
    FROM waiting w WHERE w.owner_id IS NOT NULL),
owners AS (
    SELECT w.owner_id,
           (SELECT COUNT(*) FROM jobs r
            WHERE r.state = 'running' AND r.owner_id = w.owner_id) AS running
    FROM waiting w WHERE w.owner_id IS NOT NULL),
candidates AS (
    SELECT c.id, c.run_after,
           o.running + ROW_NUMBER() OVER (PARTITION BY o.owner_id
                                          ORDER BY c.run_after, c.id) AS load
    FROM owners o CROSS JOIN LATERAL (
        SELECT h.id, h.run_after FROM jobs h
        WHERE h.owner_id = o.owner_id AND h.state IN ('queued', 'retrying')
          AND h.run_after <= $3 AND h.pipeline IN (SELECT json_array_elements_text($4::json))
        ORDER BY h.run_after, h.id LIMIT $6) c),
chosen AS (
    SELECT id FROM candidates WHERE load <= $5 ORDER BY load, run_after, id LIMIT $6),
fair AS (
    SELECT j.id FROM jobs j
    WHERE j.id IN (SELECT id FROM chosen) AND j.state IN ('queued', 'retrying')
    FOR UPDATE SKIP LOCKED),
extra AS (
    SELECT j.id FROM jobs j
    WHERE $7 AND j.owner_id IN (SELECT owner_id FROM owners)
      AND j.state IN ('queued', 'retrying') AND j.run_after <= $3
      AND j.pipeline IN (SELECT json_array_elements_text($4::json))
      AND j.id NOT IN (SELECT id FROM fair)
    ORDER BY j.run_after, j.id
    LIMIT GREATEST($6 - (SELECT COUNT(*) FROM fair), 0)
    FOR UPDATE SKIP LOCKED)
UPDATE jobs SET state = 'running', attempts = attempts + 1,
    lease_token = gen_random_uuid()::text, lease_expires_at = $1, worker_id = $2,
    started_at = COALESCE(started_at, $3), updated_at = $3, progress = 0, stage = NULL
WHERE id IN (SELECT id FROM fair UNION ALL SELECT id FROM extra)
  AND state IN ('queued', 'retrying')
RETURNING *
