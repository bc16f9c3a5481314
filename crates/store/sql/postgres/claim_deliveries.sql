-- Takes up to $4 due deliveries (e-mail too when $3), counting an attempt for
-- each and holding them until $1; deliveries other nodes are taking are
-- passed over. $2 is now.
UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2
WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending'
             AND next_attempt_at <= $2 AND (channel = 'webhook' OR $3)
             ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
RETURNING *
