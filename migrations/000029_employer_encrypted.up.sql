-- Issue 12 §5: the employer is personal data (GB/T 35273-2020 个人信息), stored
-- encrypted and shown masked like the address. The plaintext column stays
-- (emptied) until every process writes the new columns: at start-up
-- postgres.DB.EncryptEmployers moves the existing values into employer_enc in
-- batches (SQL does not hold the key); new writes never fill it.
ALTER TABLE persons
    ADD COLUMN employer_enc    bytea,
    ADD COLUMN employer_masked text NOT NULL DEFAULT '';

-- The rows still to encrypt, found without a scan of the whole table.
CREATE INDEX persons_employer_plain ON persons (id) WHERE employer <> '';
