ALTER TABLE grants DROP COLUMN approved_at;
ALTER TABLE grants DROP COLUMN approved_by;
ALTER TABLE grants DROP COLUMN pending;
DROP INDEX staff_person_hash_idx;
ALTER TABLE staff DROP COLUMN person_verified_at;
ALTER TABLE staff DROP COLUMN person_hash;
ALTER TABLE area_risks DROP COLUMN approved_by;
ALTER TABLE area_risks DROP COLUMN pending;
DROP TABLE colour_requests;
