DROP INDEX tickets_queue_idx;
CREATE INDEX tickets_queue_idx ON tickets (unit_id, (NOT overdue), (COALESCE(due_at, 'infinity'::timestamptz)), id)
    WHERE state NOT IN ('CLOSED', 'MERGED');

ALTER TABLE ticket_notices DROP COLUMN audience;
-- Notices of returns have no kind below; they are notices, not facts.
DELETE FROM ticket_notices WHERE kind = 'RETURNED';
ALTER TABLE ticket_notices DROP CONSTRAINT ticket_notices_kind_check;
ALTER TABLE ticket_notices ADD CONSTRAINT ticket_notices_kind_check
    CHECK (kind IN ('WARNING', 'OVERDUE', 'SUPERVISE', 'EXTENSION', 'ESCALATION', 'ASSIGNED'));
