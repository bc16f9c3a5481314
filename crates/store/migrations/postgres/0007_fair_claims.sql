-- Fair claims: the next free worker takes the oldest job of the user with the
-- fewest running. Each user's waiting jobs in claim order, so that a claim
-- finds the users with work waiting, and each one's oldest job, without
-- reading every waiting job; and each user's running jobs, to count them.
CREATE INDEX jobs_waiting_by_owner ON jobs(owner_id, run_after, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX jobs_running_by_owner ON jobs(owner_id) WHERE state = 'running';
