-- What the staff console needs (issue 14): each step of a ticket names the
-- handling unit that held the ticket when it was taken (the unit it was sent
-- to, for a dispatch), so that a unit's returns and callbacks can be counted
-- and the history shows the unit; and an online appeal keeps the fact the
-- resident disputed, which the appeal desk shows first. Steps recorded
-- before this migration have no unit.
ALTER TABLE ticket_steps ADD COLUMN unit_id bigint REFERENCES handling_units (id);
CREATE INDEX ticket_steps_unit_idx ON ticket_steps (unit_id, created_at) WHERE unit_id IS NOT NULL;

ALTER TABLE tickets ADD COLUMN disputed_fact_kind text
    CHECK (disputed_fact_kind IN ('STAY', 'MEDICAL', 'HEALTH', 'DESIGNATION'));
ALTER TABLE tickets ADD COLUMN disputed_fact_id bigint;
