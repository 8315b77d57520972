-- Issue 12 §5: the application connects as the least-privileged role
-- healthcode_app (docs/operations.md, docs/security.md); migrations run as
-- the owner. dev mode and the tests create the role before migrating.
--
-- The day partitions of scans are created on first use by RecordScans. The
-- application role holds no DDL privilege, so it calls this function, which
-- runs as its owner (the migration role), creates nothing but a partition of
-- scans for one day, and is serialised per day by an advisory lock.
CREATE FUNCTION create_scan_partition(day date) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := 'scans_' || to_char(day, 'YYYYMMDD');
    lo timestamptz := (day::timestamp AT TIME ZONE 'Asia/Shanghai');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(name));
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF scans FOR VALUES FROM (%L) TO (%L)',
        name, lo, lo + interval '1 day');
END;
$$;
REVOKE ALL ON FUNCTION create_scan_partition(date) FROM PUBLIC;

-- The grants of migration 000001, again: a database migrated before the
-- role existed (an older dev database) gets them now.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'healthcode_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO healthcode_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO healthcode_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO healthcode_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO healthcode_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM healthcode_app;
        GRANT EXECUTE ON FUNCTION create_scan_partition(date) TO healthcode_app;
    END IF;
END;
$$;
