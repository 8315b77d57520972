-- Foundation: regions, staff, grants, residents, sessions, API keys, SMS
-- codes, the outbox and the audit log.

CREATE EXTENSION IF NOT EXISTS ltree;

-- The administrative tree. Codes are prefix-hierarchical (61, 6101, 610113,
-- 610113001, 610113001001, and compounds of 15 digits); path is the ltree of
-- codes from the province, indexed for subtree queries (path <@ '61.6101').
CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^61([0-9]{2}|[0-9]{4}|[0-9]{7}|[0-9]{10}|[0-9]{13})?$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    level       text NOT NULL CHECK (level IN ('PROVINCE', 'CITY', 'COUNTY', 'STREET', 'COMMUNITY', 'COMPOUND')),
    parent_code text REFERENCES regions (code),
    path        ltree NOT NULL UNIQUE,
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 'PROVINCE') = (parent_code IS NULL))
);
CREATE INDEX regions_path_idx ON regions USING gist (path);
CREATE INDEX regions_parent_idx ON regions (parent_code, code);
CREATE UNIQUE INDEX regions_compound_name_idx ON regions (parent_code, name) WHERE level = 'COMPOUND';

-- Staff accounts. region_code is the home region: its administrators manage
-- the account.
CREATE TABLE staff (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9_.-]{2,31}$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 50),
    password_hash text NOT NULL,
    region_code   text NOT NULL REFERENCES regions (code),
    region_path   ltree NOT NULL,
    created_by    bigint REFERENCES staff (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz
);
CREATE UNIQUE INDEX staff_username_idx ON staff (username);
CREATE INDEX staff_region_path_idx ON staff USING gist (region_path);

-- Role grants: (staff, role, region). The role's permissions hold inside the region.
CREATE TABLE grants (
    id          bigserial PRIMARY KEY,
    staff_id    bigint NOT NULL REFERENCES staff (id),
    role        text NOT NULL,
    region_code text NOT NULL REFERENCES regions (code),
    granted_by  bigint REFERENCES staff (id),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (staff_id, role, region_code)
);
CREATE INDEX grants_region_idx ON grants (region_code);

-- Resident accounts log in by phone; the phone is stored encrypted and found
-- by its keyed hash.
CREATE TABLE resident_accounts (
    id         bigserial PRIMARY KEY,
    phone_hash bytea NOT NULL UNIQUE,
    phone_enc  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Sessions: opaque bearer tokens, stored as SHA-256 hashes.
CREATE TABLE sessions (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('STAFF', 'RESIDENT')),
    staff_id    bigint REFERENCES staff (id),
    resident_id bigint REFERENCES resident_accounts (id),
    client_addr text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK ((kind = 'STAFF') = (staff_id IS NOT NULL) AND (kind = 'RESIDENT') = (resident_id IS NOT NULL))
);
CREATE INDEX sessions_staff_idx ON sessions (staff_id) WHERE revoked_at IS NULL;

-- API keys of city sub-systems, scoped to a city.
CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    city_code    text NOT NULL REFERENCES regions (code),
    key_hash     bytea NOT NULL UNIQUE,
    created_by   bigint REFERENCES staff (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- SMS login codes and the per-phone lockout.
CREATE TABLE sms_codes (
    id          bigserial PRIMARY KEY,
    phone_hash  bytea NOT NULL,
    code_hash   bytea NOT NULL,
    client_addr text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX sms_codes_phone_idx ON sms_codes (phone_hash, created_at DESC);
CREATE INDEX sms_codes_addr_idx ON sms_codes (client_addr, created_at DESC);

CREATE TABLE phone_lockouts (
    phone_hash   bytea PRIMARY KEY,
    failures     integer NOT NULL DEFAULT 0,
    locked_until timestamptz
);

-- Messages recorded by the dev SMS sender (dev mode and tests only).
CREATE TABLE dev_sms_messages (
    id         bigserial PRIMARY KEY,
    phone_hash bytea NOT NULL,
    body       text NOT NULL,
    dedup_key  text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dev_sms_messages_phone_idx ON dev_sms_messages (phone_hash, id DESC);

-- The transactional outbox: tasks caused by a write, committed with it, and
-- relayed to the job queue by the worker.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    task_type    text NOT NULL,
    payload      jsonb NOT NULL,
    dedup_key    text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- Deliveries of outbox tasks with external effects, one row per outbox id: a
-- task that runs twice finds its row and does nothing.
CREATE TABLE task_deliveries (
    outbox_id    bigint PRIMARY KEY,
    delivered_at timestamptz NOT NULL DEFAULT now()
);

-- The append-only, hash-chained audit log.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor       text NOT NULL,
    actor_name  text NOT NULL,
    role        text NOT NULL,
    region_code text NOT NULL,
    region_path ltree NOT NULL,
    action      text NOT NULL,
    object      text NOT NULL,
    reason      text NOT NULL,
    detail      json NOT NULL,
    at          timestamptz NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL UNIQUE
);
CREATE INDEX audit_log_region_idx ON audit_log USING gist (region_path);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The application role, when the deployment has one (docs/operations.md):
-- it reads and writes every table, including those of later migrations
-- (default privileges), but may only read and append the audit log.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'healthcode_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO healthcode_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO healthcode_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO healthcode_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO healthcode_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM healthcode_app;
    END IF;
END;
$$;
