-- The access log (issue 12 §5, §6): every read by staff of a person's
-- health, whereabouts or unmasked personal data, with its purpose, for the
-- person to see (docs/privacy.md#the-access-log). Append-only for the
-- application; kept apart from the hash-chained audit log, whose appends
-- serialise on one lock, because reads are many times more frequent than
-- changes. Rows leave only with the retention purge.
CREATE TABLE access_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    person_id   bigint NOT NULL,
    actor       text NOT NULL,           -- staff:12
    role        text NOT NULL DEFAULT '',
    region_code text NOT NULL,           -- the reader's home region
    what        text NOT NULL,
    purpose     text NOT NULL
);
CREATE INDEX access_log_person_idx ON access_log (person_id, id);
CREATE INDEX access_log_at_idx ON access_log (at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'healthcode_app') THEN
        REVOKE UPDATE, TRUNCATE ON access_log FROM healthcode_app;
    END IF;
END $$;
