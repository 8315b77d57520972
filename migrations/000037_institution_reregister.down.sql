-- Fails while a credit code has both a rejected and a current registration.
DROP INDEX IF EXISTS institutions_credit_code_current_key;
ALTER TABLE institutions ADD CONSTRAINT institutions_credit_code_key UNIQUE (credit_code);
