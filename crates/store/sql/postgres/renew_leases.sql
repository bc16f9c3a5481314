-- Renews the leases of the jobs in $3, a JSON array of {"id", "lease"}: to
-- expire at $1, at $2 now. A job renews only while running under that same
-- lease. Returns the id and cancel flag of each job renewed.
UPDATE jobs SET lease_expires_at = $1, updated_at = $2
FROM json_to_recordset($3::json) AS held(id text, lease text)
WHERE jobs.id = held.id AND jobs.lease_token = held.lease AND jobs.state = 'running'
RETURNING jobs.id, jobs.cancel_requested
