DROP TABLE IF EXISTS pass_card_applications;
DROP TABLE IF EXISTS printed_codes;
DROP INDEX IF EXISTS persons_code_id_idx;
ALTER TABLE persons DROP COLUMN IF EXISTS code_id;
