-- The encrypted employers cannot be decrypted in SQL: going down loses them
-- (run before the plaintext column is dropped, it keeps the rows not yet
-- encrypted).
DROP INDEX IF EXISTS persons_employer_plain;
ALTER TABLE persons DROP COLUMN IF EXISTS employer_masked, DROP COLUMN IF EXISTS employer_enc;
