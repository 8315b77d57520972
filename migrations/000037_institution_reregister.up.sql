-- A rejected self-registration no longer holds its credit code: the
-- institution may register again (to correct the application) while the
-- rejected row stays for the audit trail. A pending, active or suspended
-- institution still holds its code.
ALTER TABLE institutions DROP CONSTRAINT institutions_credit_code_key;
CREATE UNIQUE INDEX institutions_credit_code_current_key ON institutions (credit_code) WHERE status <> 'REJECTED';
