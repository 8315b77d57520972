-- Verified guardianship (issue 12 §3): why a dependent is bound to a
-- guardian account, and every binding and unbinding, kept for the person
-- and community staff to see.
ALTER TABLE account_persons ADD COLUMN basis text NOT NULL DEFAULT 'SELF'
    CHECK (basis IN ('SELF', 'CHILD', 'ELDER', 'COMMUNITY', 'LEGACY'));
UPDATE account_persons SET basis = 'LEGACY' WHERE relation = 'DEPENDENT';

CREATE TABLE guardianship_events (
    id         bigserial PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES persons (id),
    account_id bigint NOT NULL REFERENCES resident_accounts (id),
    event      text NOT NULL CHECK (event IN ('BIND', 'UNBIND')),
    -- BIND: CHILD, ELDER, COMMUNITY, LEGACY; UNBIND: CLAIMED, COMMUNITY
    basis      text NOT NULL,
    actor      text NOT NULL,
    role       text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL
);
CREATE INDEX guardianship_events_person_idx ON guardianship_events (person_id, id);
CREATE INDEX guardianship_events_account_idx ON guardianship_events (account_id);

INSERT INTO guardianship_events (person_id, account_id, event, basis, actor, at)
SELECT person_id, account_id, 'BIND', 'LEGACY', 'resident:' || account_id, created_at
  FROM account_persons WHERE relation = 'DEPENDENT';
