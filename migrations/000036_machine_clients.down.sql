DROP TABLE IF EXISTS medical_client_records;
DROP INDEX IF EXISTS api_keys_institution_idx;
ALTER TABLE api_keys DROP COLUMN revoked_by, DROP COLUMN approved_at, DROP COLUMN approved_by,
    DROP COLUMN pending, DROP COLUMN institution_id;
ALTER TABLE institutions DROP COLUMN kind;
DROP INDEX IF EXISTS colour_requests_record_idx;
ALTER TABLE colour_requests DROP COLUMN record_key;
DELETE FROM colour_requests WHERE op = 'SUBSYSTEM';
ALTER TABLE colour_requests DROP CONSTRAINT colour_requests_op_check;
ALTER TABLE colour_requests ADD CONSTRAINT colour_requests_op_check
    CHECK (op IN ('MEDICAL', 'RETRACT', 'DECLARE', 'AREA_RISK'));
