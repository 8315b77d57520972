DROP INDEX IF EXISTS colour_requests_requester_idx;
DROP INDEX IF EXISTS access_log_actor_idx;
DROP TABLE IF EXISTS alerts;
