DROP TRIGGER IF EXISTS grants_version_bump ON grants;
DROP FUNCTION IF EXISTS bump_grants_version();
DROP TABLE IF EXISTS grants_version;
DROP TABLE IF EXISTS ticket_changes;
DROP INDEX IF EXISTS outbox_failed_idx;
DROP INDEX IF EXISTS outbox_unfinished_idx;
DROP INDEX IF EXISTS outbox_handed_idx;
DROP INDEX IF EXISTS outbox_leased_idx;
DROP INDEX IF EXISTS outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;
ALTER TABLE outbox
    DROP COLUMN IF EXISTS done_at,
    DROP COLUMN IF EXISTS failed_at,
    DROP COLUMN IF EXISTS lease_owner,
    DROP COLUMN IF EXISTS lease_until,
    DROP COLUMN IF EXISTS generation;
