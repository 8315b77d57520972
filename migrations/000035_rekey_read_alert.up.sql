-- Personal-data key rotation (docs/security.md "Keys"): how far `healthcode
-- rekey` has re-encrypted each table under each target key, so that an
-- interrupted run resumes where it stopped.
CREATE TABLE pii_rekey_progress (
    key_id     integer NOT NULL,
    table_name text NOT NULL,
    last_id    bigint NOT NULL,
    rewritten  bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (key_id, table_name)
);

-- MASS_PERSON_READ counts one account's distinct persons over every kind of
-- read in the window (postgres/alerts.go).
CREATE INDEX access_log_actor_at_idx ON access_log (actor, at);

-- MASS_DESIGNATION counts the areas one account asks to designate HIGH (or
-- lift) as well as the persons: the area of an area-risk colour request.
ALTER TABLE colour_requests ADD COLUMN area_code text;
