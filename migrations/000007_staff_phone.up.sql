-- Staff phones (encrypted, found by keyed hash, masked for display), so that
-- fever reports and other notices can reach community staff by SMS.
ALTER TABLE staff ADD COLUMN phone_hash bytea;
ALTER TABLE staff ADD COLUMN phone_enc bytea;
ALTER TABLE staff ADD COLUMN phone_masked text NOT NULL DEFAULT '';
