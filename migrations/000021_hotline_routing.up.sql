-- Hotline routing (issue 11): notices for the dispatching operators (a
-- return 退单, the deadlines of tickets waiting for dispatch or callback), and
-- queues ordered by the deadline alone: a ticket is overdue when its deadline
-- has passed at the time of the read, so overdue tickets come first by
-- themselves.

ALTER TABLE ticket_notices DROP CONSTRAINT ticket_notices_kind_check;
ALTER TABLE ticket_notices ADD CONSTRAINT ticket_notices_kind_check
    CHECK (kind IN ('WARNING', 'OVERDUE', 'SUPERVISE', 'EXTENSION', 'ESCALATION', 'ASSIGNED', 'RETURNED'));
-- Who a notice is for inside its region: the unit's people (its handlers and
-- the administrators above) or the operators who dispatch the region's tickets.
ALTER TABLE ticket_notices ADD COLUMN audience text NOT NULL DEFAULT 'UNIT' CHECK (audience IN ('UNIT', 'DISPATCH'));

DROP INDEX tickets_queue_idx;
CREATE INDEX tickets_queue_idx ON tickets (unit_id, (COALESCE(due_at, 'infinity'::timestamptz)), id)
    WHERE state NOT IN ('CLOSED', 'MERGED');

-- Returned tickets other than appeals kept the deadlines of the unit that
-- returned them; nothing is due until they are dispatched again.
UPDATE tickets SET sign_started_at = NULL, sign_due = NULL, reply_started_at = NULL, reply_due = NULL,
       due_at = NULL, warn_at = NULL, warned = false, overdue = false
 WHERE state = 'ACCEPTED' AND kind <> 'CODE_APPEAL' AND (sign_due IS NOT NULL OR reply_due IS NOT NULL);
