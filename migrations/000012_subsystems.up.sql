-- City sub-systems (SPEC §7, docs/exchange.md): the records they push in the
-- unified format, the deviations between their colours and the unified rules
-- (纠正偏差, SPEC §6), and when each city's data of each day arrived.
--
-- No personal data in clear: the person is referenced by id (persons holds
-- the encrypted name, document and phone); content_hash is a keyed hash
-- (HMAC) of the normalised record, so a re-push can be recognised without
-- keeping the record.
CREATE TABLE subsystem_records (
    city_code         text NOT NULL REFERENCES regions (code),
    record_id         text NOT NULL CHECK (length(record_id) BETWEEN 1 AND 64),
    content_hash      bytea NOT NULL,
    person_id         bigint NOT NULL REFERENCES persons (id),
    region_code       text NOT NULL REFERENCES regions (code),
    region_path       ltree NOT NULL,
    colour            text NOT NULL CHECK (colour IN ('GREEN', 'YELLOW', 'RED')),          -- the sub-system's
    unified_colour    text NOT NULL CHECK (unified_colour IN ('GREEN', 'YELLOW', 'RED')),  -- the unified rules'
    issued_at         timestamptz NOT NULL,
    declaration_id    bigint NOT NULL REFERENCES declarations (id),
    api_key_id        bigint NOT NULL REFERENCES api_keys (id),
    versions          integer NOT NULL DEFAULT 1,  -- distinct contents received
    first_received_at timestamptz NOT NULL,
    received_at       timestamptz NOT NULL,
    PRIMARY KEY (city_code, record_id)
);
CREATE INDEX subsystem_records_person_idx ON subsystem_records (person_id);

CREATE TABLE subsystem_deviations (
    id               bigserial PRIMARY KEY,
    city_code        text NOT NULL,
    record_id        text NOT NULL,
    person_id        bigint NOT NULL REFERENCES persons (id),
    region_code      text NOT NULL REFERENCES regions (code),
    region_path      ltree NOT NULL,
    subsystem_colour text NOT NULL CHECK (subsystem_colour IN ('GREEN', 'YELLOW', 'RED')),
    unified_colour   text NOT NULL CHECK (unified_colour IN ('GREEN', 'YELLOW', 'RED')),
    clauses          jsonb NOT NULL,           -- the unified clauses with their reasons ([{ID, Colour, Citation, Reason, FactIDs}])
    rule_set_version text NOT NULL,
    opened_at        timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    corrected_at     timestamptz,
    corrected_by     text,
    CHECK (subsystem_colour <> unified_colour),
    CHECK ((corrected_at IS NULL) = (corrected_by IS NULL)),
    FOREIGN KEY (city_code, record_id) REFERENCES subsystem_records (city_code, record_id)
);
-- At most one open deviation per record.
CREATE UNIQUE INDEX subsystem_deviations_open_idx ON subsystem_deviations (city_code, record_id) WHERE corrected_at IS NULL;
CREATE INDEX subsystem_deviations_path_idx ON subsystem_deviations USING gist (region_path);
CREATE INDEX subsystem_deviations_city_idx ON subsystem_deviations (city_code, id);

-- Per city and data day (the China Standard Time day of the records' issue
-- time): when records of that day first and last arrived, and how many new or
-- changed records arrived. The timeliness indicator reads "the previous
-- day's data arrived before 10:00" from last_at. Duplicates change nothing.
CREATE TABLE subsystem_pushes (
    city_code text NOT NULL REFERENCES regions (code),
    day       date NOT NULL,
    first_at  timestamptz NOT NULL,
    last_at   timestamptz NOT NULL,
    records   integer NOT NULL CHECK (records > 0),
    PRIMARY KEY (city_code, day)
);
