-- Machine clients and the two-person rule (issue 12 §1, docs/security-colour.md).
--
-- A city sub-system's pushed record that would make a person red or lift a
-- red is a colour change request (op SUBSYSTEM) until a health officer of the
-- person's residence — another natural person than the key's creator —
-- approves it. record_key ("<city>:<recordId>:<content hash>") makes a
-- re-push of the same pending record answer the same request.
ALTER TABLE colour_requests DROP CONSTRAINT colour_requests_op_check;
ALTER TABLE colour_requests ADD CONSTRAINT colour_requests_op_check
    CHECK (op IN ('MEDICAL', 'RETRACT', 'DECLARE', 'AREA_RISK', 'SUBSYSTEM'));
ALTER TABLE colour_requests ADD COLUMN record_key text;
CREATE UNIQUE INDEX colour_requests_record_idx ON colour_requests (record_key)
    WHERE record_key IS NOT NULL AND status = 'PENDING';

-- Medical institutions (hospital, CDC, clinic) beside the venues that check
-- codes; only a medical institution may hold a machine client key.
ALTER TABLE institutions ADD COLUMN kind text NOT NULL DEFAULT 'VENUE'
    CHECK (kind IN ('VENUE', 'HOSPITAL', 'CDC', 'CLINIC'));

-- API keys: a city sub-system's (institution_id NULL, city_code its city) or
-- a medical institution's machine client (institution_id set, city_code the
-- region it may record for: the county containing the institution). A
-- machine client key is pending until another natural person administering
-- the parent region approves it; a pending or revoked key authenticates
-- nobody.
ALTER TABLE api_keys
    ADD COLUMN institution_id bigint REFERENCES institutions (id),
    ADD COLUMN pending        boolean NOT NULL DEFAULT false,
    ADD COLUMN approved_by    bigint REFERENCES staff (id),
    ADD COLUMN approved_at    timestamptz,
    ADD COLUMN revoked_by     bigint REFERENCES staff (id);
CREATE INDEX api_keys_institution_idx ON api_keys (institution_id) WHERE institution_id IS NOT NULL;

-- The medical events a machine client recorded, by the institution's own
-- record id: a repeated record id is answered as a duplicate.
CREATE TABLE medical_client_records (
    institution_id   bigint NOT NULL REFERENCES institutions (id),
    record_id        text NOT NULL,
    content_hash     bytea NOT NULL,
    person_id        bigint NOT NULL REFERENCES persons (id),
    medical_event_id bigint NOT NULL REFERENCES medical_events (id),
    api_key_id       bigint NOT NULL REFERENCES api_keys (id),
    received_at      timestamptz NOT NULL,
    PRIMARY KEY (institution_id, record_id)
);
