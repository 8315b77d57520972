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

-- The retention purge drops whole day partitions of scans. The application
-- role holds no DDL privilege, so it calls this function, which runs as its
-- owner (the migration role, like create_scan_partition of migration 000030)
-- and drops nothing but a partition of scans for one day.
CREATE FUNCTION drop_scan_partition(day date) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := 'scans_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'scans'::regclass AND c.relname = name) THEN
        RETURN;
    END IF;
    EXECUTE format('DROP TABLE %I', name);
END;
$$;
REVOKE ALL ON FUNCTION drop_scan_partition(date) FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'healthcode_app') THEN
        GRANT EXECUTE ON FUNCTION drop_scan_partition(date) TO healthcode_app;
    END IF;
END $$;
