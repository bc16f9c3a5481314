-- Appends the events in $1, a JSON array of {"job_id", "kind", "data"}, in
-- that order, at $2.
INSERT INTO job_events (job_id, kind, data, created_at)
SELECT value ->> 'job_id', value ->> 'kind', value ->> 'data', $2
FROM json_each($1)
ORDER BY key
