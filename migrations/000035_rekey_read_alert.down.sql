ALTER TABLE colour_requests DROP COLUMN area_code;
DROP INDEX access_log_actor_at_idx;
DROP TABLE pii_rekey_progress;
