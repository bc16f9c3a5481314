-- Queues the jobs in $2, a JSON array of new jobs without idempotency keys
-- (id, owner_id, pipeline, upload_id, params as JSON text, max_attempts,
-- callback_url, notify_email), at $1. Returns their rows.
INSERT INTO jobs (id, owner_id, pipeline, upload_id, params, state, max_attempts,
                  run_after, callback_url, notify_email, created_at, updated_at)
SELECT value ->> 'id', value ->> 'owner_id', value ->> 'pipeline', value ->> 'upload_id',
       value ->> 'params', 'queued', value ->> 'max_attempts', $1,
       value ->> 'callback_url', value ->> 'notify_email', $1, $1
FROM json_each($2)
ORDER BY key
RETURNING *
