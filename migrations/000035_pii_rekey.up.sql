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
