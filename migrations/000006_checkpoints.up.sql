-- Checkpoints (SPEC §4): institutions and their venues, inspectors, the
-- emergency response level, scans partitioned by day, fever reports, and the
-- trust list of other issuers (互信互认).

CREATE TABLE institutions (
    id                   bigserial PRIMARY KEY,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    credit_code          text NOT NULL UNIQUE,       -- 统一社会信用代码, 18 characters (GB 32100)
    region_code          text NOT NULL REFERENCES regions (code),
    region_path          ltree NOT NULL,
    contact_name         text NOT NULL,
    contact_phone_hash   bytea,
    contact_phone_enc    bytea,
    contact_phone_masked text NOT NULL DEFAULT '',
    status               text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    suspend_reason       text,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL
);
CREATE INDEX institutions_region_idx ON institutions USING gist (region_path);

-- Staff accounts of an institution: its administrators and inspectors (防疫员).
CREATE TABLE institution_members (
    staff_id       bigint PRIMARY KEY REFERENCES staff (id),
    institution_id bigint NOT NULL REFERENCES institutions (id),
    role           text NOT NULL CHECK (role IN ('INSTITUTION_ADMIN', 'INSPECTOR')),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX institution_members_institution_idx ON institution_members (institution_id);

-- Venues (查验场所) with the checkpoint types of SPEC §4.
CREATE TABLE venues (
    id             bigserial PRIMARY KEY,
    institution_id bigint NOT NULL REFERENCES institutions (id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type           text NOT NULL CHECK (type IN ('TRAFFIC_CHECKPOINT', 'AIRPORT', 'RAILWAY_STATION', 'BUS_STATION',
                       'METRO_STATION', 'ENTRANCE', 'RESIDENTIAL_ENTRANCE', 'INDOOR_PUBLIC', 'MEDICAL', 'OTHER')),
    region_code    text NOT NULL REFERENCES regions (code),
    region_path    ltree NOT NULL,
    status         text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX venues_institution_idx ON venues (institution_id);
CREATE INDEX venues_region_idx ON venues USING gist (region_path);

-- The province's emergency response level (省级一/二/三级响应; 0: none), with history.
CREATE TABLE response_levels (
    id         bigserial PRIMARY KEY,
    level      integer NOT NULL CHECK (level BETWEEN 0 AND 3),
    from_at    timestamptz NOT NULL,
    reason     text NOT NULL DEFAULT '',
    actor      text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Scans, partitioned by the day of the scan; a scan id is unique with its
-- original time, which offline uploads keep.
CREATE TABLE scans (
    scan_id        uuid NOT NULL,
    scanned_at     timestamptz NOT NULL,
    received_at    timestamptz NOT NULL,
    venue_id       bigint NOT NULL,
    institution_id bigint NOT NULL,
    inspector_id   bigint NOT NULL,
    issuer         text NOT NULL,
    code_id        text NOT NULL,
    person_id      bigint,
    colour         text NOT NULL,
    temperature    numeric(3, 1),
    scan_role      text NOT NULL CHECK (scan_role IN ('EMPLOYEE', 'VISITOR')),
    fever          boolean NOT NULL,
    region_path    ltree NOT NULL,
    PRIMARY KEY (scan_id, scanned_at)
) PARTITION BY RANGE (scanned_at);
CREATE INDEX scans_venue_idx ON scans (venue_id, scanned_at);
CREATE INDEX scans_institution_idx ON scans (institution_id, scanned_at);

-- Fever reports (发热上报) to the person's community.
CREATE TABLE fever_reports (
    id          bigserial PRIMARY KEY,
    scan_id     uuid NOT NULL UNIQUE,
    scanned_at  timestamptz NOT NULL,
    person_id   bigint REFERENCES persons (id),
    venue_id    bigint NOT NULL REFERENCES venues (id),
    region_code text NOT NULL,
    region_path ltree NOT NULL,
    temperature numeric(3, 1) NOT NULL,
    status      text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'TRANSFERRED', 'FALSE_ALARM')),
    handled_by  text,
    handled_at  timestamptz,
    reason      text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX fever_reports_region_idx ON fever_reports USING gist (region_path);

-- Other issuers whose tokens are accepted (国家政务服务平台, other provinces,
-- city sub-systems), with their published keys and validity.
CREATE TABLE trusted_issuers (
    id          bigserial PRIMARY KEY,
    issuer_id   text NOT NULL,
    name        text NOT NULL,
    keys        jsonb NOT NULL,
    valid_from  timestamptz,
    valid_until timestamptz,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);
CREATE INDEX trusted_issuers_issuer_idx ON trusted_issuers (issuer_id);
