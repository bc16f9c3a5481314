-- Queues the jobs in $2, a JSON array of new jobs without idempotency keys
-- (id, owner_id, pipeline, upload_id, params as JSON text, max_attempts,
-- callback_url, notify_email), at $1. Returns their rows.
INSERT INTO jobs (id, owner_id, pipeline, upload_id, params, state, max_attempts,
                  run_after, callback_url, notify_email, created_at, updated_at)
SELECT job ->> 'id', job ->> 'owner_id', job ->> 'pipeline', job ->> 'upload_id',
       job ->> 'params', 'queued', (job ->> 'max_attempts')::bigint, $1,
       job ->> 'callback_url', job ->> 'notify_email', $1, $1
FROM json_array_elements($2::json) WITH ORDINALITY AS jobs(job, position)
ORDER BY position
RETURNING *
