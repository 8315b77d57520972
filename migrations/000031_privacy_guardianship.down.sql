DROP TABLE IF EXISTS guardianship_events;
ALTER TABLE account_persons DROP COLUMN IF EXISTS basis;
