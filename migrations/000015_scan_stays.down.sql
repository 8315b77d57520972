-- The stays of scans recorded since the up migration become rows of stays
-- again, with their fact ids and retractions, so that going down loses no fact.
INSERT INTO stays (id, person_id, place, place_path, from_at, to_at, source, source_ref, actor, created_at,
                   retracted_at, retracted_by, retract_reason)
SELECT stay_id, person_id, ltree2text(subpath(region_path, -1)), region_path, scanned_at, scanned_at, 'SCAN',
       'scan:' || scan_id, 'staff:' || inspector_id, received_at, retracted_at, retracted_by, retract_reason
  FROM scans WHERE stay_id IS NOT NULL AND person_id IS NOT NULL;
DROP INDEX scans_stay_idx;
DROP INDEX scans_person_idx;
ALTER TABLE scans DROP COLUMN retract_reason;
ALTER TABLE scans DROP COLUMN retracted_by;
ALTER TABLE scans DROP COLUMN retracted_at;
ALTER TABLE scans DROP COLUMN stay_id;
