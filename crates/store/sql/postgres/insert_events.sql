-- Appends the events in $1, a JSON array of {"job_id", "kind", "data"}, in
-- that order, at $2.
INSERT INTO job_events (job_id, kind, data, created_at)
SELECT event ->> 'job_id', event ->> 'kind', event ->> 'data', $2
FROM json_array_elements($1::json) WITH ORDINALITY AS events(event, position)
ORDER BY position
