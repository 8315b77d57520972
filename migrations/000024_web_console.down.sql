ALTER TABLE tickets DROP COLUMN IF EXISTS disputed_fact_id;
ALTER TABLE tickets DROP COLUMN IF EXISTS disputed_fact_kind;
DROP INDEX IF EXISTS ticket_steps_unit_idx;
ALTER TABLE ticket_steps DROP COLUMN IF EXISTS unit_id;
