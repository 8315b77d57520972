-- Colour change requests (issue 12 §1): a change that would make a person
-- red or lift a red, asked for by one member of staff, takes effect only when
-- a different natural person with colour.approve at the person's residence
-- (or the area's region) approves it. op says what the change is; payload
-- holds what the requester entered, replayed on approval; effect names what
-- the approval produced (medical:12, retract:stay:5, declaration:7,
-- area_risk:3), so that the evidence shows both people.
CREATE TABLE colour_requests (
    id              bigserial PRIMARY KEY,
    op              text NOT NULL CHECK (op IN ('MEDICAL', 'RETRACT', 'DECLARE', 'AREA_RISK')),
    person_id       bigint REFERENCES persons (id),
    region_code     text NOT NULL,
    region_path     ltree NOT NULL,
    payload         bytea NOT NULL, -- encrypted JSON: it may hold personal data
    summary         text NOT NULL,
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text NOT NULL DEFAULT '',
    effect          text
);
CREATE INDEX colour_requests_pending_idx ON colour_requests USING gist (region_path) WHERE status = 'PENDING';
CREATE INDEX colour_requests_person_idx ON colour_requests (person_id);
CREATE UNIQUE INDEX colour_requests_effect_idx ON colour_requests (effect) WHERE effect IS NOT NULL;

-- A HIGH area risk (or lowering one) waits for its approval: a pending row
-- is not in force (approved_at NULL); approval sets from_at to its time.
ALTER TABLE area_risks ADD COLUMN pending boolean NOT NULL DEFAULT false;
ALTER TABLE area_risks ADD COLUMN approved_by text;

-- A role that can approve (ADMIN, HEALTH_OFFICER, RULE_ADMIN) granted by a
-- member of staff waits for an administrator of the parent region: a pending
-- grant gives nothing (the enforcer loads grants in force only).
ALTER TABLE grants ADD COLUMN pending boolean NOT NULL DEFAULT false;
ALTER TABLE grants ADD COLUMN approved_by bigint REFERENCES staff (id);
ALTER TABLE grants ADD COLUMN approved_at timestamptz;

-- Staff bound to a verified natural person (issue 12 §2): the phone the
-- account verified by SMS code, by keyed hash; one phone backs at most one
-- account, and "a different person" compares these hashes.
ALTER TABLE staff ADD COLUMN person_hash bytea;
ALTER TABLE staff ADD COLUMN person_verified_at timestamptz;
CREATE UNIQUE INDEX staff_person_hash_idx ON staff (person_hash) WHERE person_hash IS NOT NULL;
