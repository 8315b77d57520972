-- A scan of one of our own codes is the person's stay at the venue's region:
-- the scan row itself is the fact, instead of a copy in stays (one row
-- written per scan instead of three; docs/scanning.md, "A scan is a stay").
--
-- stay_id is the scan's fact id, drawn from the sequence of stays so that a
-- STAY fact id names one row of stays or one scan, never both. Scans stored
-- before this migration have no stay_id: their stays are rows of stays.
-- Retracting the stay (an appeal's correction) retracts the scan as a fact;
-- the scan itself is kept as it was recorded.
ALTER TABLE scans ADD COLUMN stay_id bigint;
ALTER TABLE scans ALTER COLUMN stay_id SET DEFAULT nextval('stays_id_seq');
ALTER TABLE scans ADD COLUMN retracted_at timestamptz;
ALTER TABLE scans ADD COLUMN retracted_by text;
ALTER TABLE scans ADD COLUMN retract_reason text;

-- A person's scan stays (the rule engine's facts) and a stay by its fact id
-- (retraction).
CREATE INDEX scans_person_idx ON scans (person_id, scanned_at) WHERE person_id IS NOT NULL;
CREATE INDEX scans_stay_idx ON scans (stay_id) WHERE person_id IS NOT NULL;
