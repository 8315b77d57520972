-- Code issuance: persons, resident bindings, declarations, facts, area risk
-- designations, rule sets, current codes and their colour history.

-- A person: identified by document (encrypted, found by keyed hash). Name,
-- phone and address are encrypted too; only masks are stored in clear.
CREATE TABLE persons (
    id             bigserial PRIMARY KEY,
    doc_type       text NOT NULL CHECK (doc_type IN ('ID_CARD', 'PASSPORT', 'HK_MACAO', 'TAIWAN')),
    doc_hash       bytea NOT NULL,
    doc_enc        bytea NOT NULL,
    doc_masked     text NOT NULL,
    name_enc       bytea NOT NULL,
    name_masked    text NOT NULL,
    phone_hash     bytea,
    phone_enc      bytea,
    phone_masked   text NOT NULL DEFAULT '',
    residence_code text NOT NULL REFERENCES regions (code),
    residence_path ltree NOT NULL,
    address_enc    bytea NOT NULL,
    employer       text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    UNIQUE (doc_type, doc_hash)
);
CREATE INDEX persons_residence_idx ON persons USING gist (residence_path);
CREATE INDEX persons_phone_idx ON persons (phone_hash);

-- Which resident account holds a person: as SELF, or as guardian of a
-- DEPENDENT (监护人代为申领). A person is held by at most one account.
CREATE TABLE account_persons (
    person_id  bigint PRIMARY KEY REFERENCES persons (id),
    account_id bigint NOT NULL REFERENCES resident_accounts (id),
    relation   text NOT NULL CHECK (relation IN ('SELF', 'DEPENDENT')),
    created_at timestamptz NOT NULL
);
CREATE INDEX account_persons_account_idx ON account_persons (account_id);
CREATE UNIQUE INDEX account_persons_self_idx ON account_persons (account_id) WHERE relation = 'SELF';

-- Declarations as submitted (the facts they imply are recorded separately).
CREATE TABLE declarations (
    id            bigserial PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES persons (id),
    form          text NOT NULL CHECK (form IN ('ARRIVAL', 'PUBLIC_SECTOR', 'RETURNING_WORKER', 'RESIDENT')),
    actor         text NOT NULL,
    origin        text NOT NULL DEFAULT '',
    arrival_date  date,
    transport     text NOT NULL DEFAULT '',
    close_contact boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE INDEX declarations_person_idx ON declarations (person_id, id);

-- Facts. Every fact has its source, the actor who entered it and when; a
-- fact is never deleted, only retracted with a reason.
CREATE TABLE stays (
    id             bigserial PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES persons (id),
    place          text NOT NULL,           -- a region code (any province) or ABROAD:<ISO>
    place_path     ltree,                   -- for places inside Shaanxi
    from_at        timestamptz NOT NULL,
    to_at          timestamptz,             -- NULL: ongoing (the residence)
    source         text NOT NULL CHECK (source IN ('RESIDENCE', 'TRAVEL', 'ARRIVAL', 'SCAN')),
    source_ref     text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    created_at     timestamptz NOT NULL,
    retracted_at   timestamptz,
    retracted_by   text,
    retract_reason text,
    CHECK (to_at IS NULL OR to_at >= from_at)
);
CREATE INDEX stays_person_idx ON stays (person_id) WHERE retracted_at IS NULL;
CREATE INDEX stays_place_idx ON stays USING gist (place_path) WHERE retracted_at IS NULL;
CREATE INDEX stays_abroad_idx ON stays (place) WHERE place LIKE 'ABROAD:%' AND retracted_at IS NULL;

CREATE TABLE medical_events (
    id             bigserial PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES persons (id),
    kind           text NOT NULL CHECK (kind IN ('CONFIRMED', 'SUSPECTED', 'SUSPECT_EXCLUDED', 'ASYMPTOMATIC',
                                                 'ISOLATION_RELEASED', 'CLOSE_CONTACT', 'DISCHARGED', 'FOLLOWUP_NORMAL')),
    at             timestamptz NOT NULL,
    note           text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    created_at     timestamptz NOT NULL,
    retracted_at   timestamptz,
    retracted_by   text,
    retract_reason text
);
CREATE INDEX medical_events_person_idx ON medical_events (person_id) WHERE retracted_at IS NULL;

CREATE TABLE health_records (
    id             bigserial PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES persons (id),
    at             timestamptz NOT NULL,
    temperature    numeric(3, 1) CHECK (temperature BETWEEN 34.0 AND 43.0),
    symptoms       text[] NOT NULL DEFAULT '{}',
    source         text NOT NULL CHECK (source IN ('DECLARATION', 'CHECKIN', 'SCAN')),
    source_ref     text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    created_at     timestamptz NOT NULL,
    retracted_at   timestamptz,
    retracted_by   text,
    retract_reason text
);
CREATE INDEX health_records_person_idx ON health_records (person_id, at) WHERE retracted_at IS NULL;

-- Manual designations (其他需要纳入高/中风险人员管理的人员). Red needs a second approver.
CREATE TABLE designations (
    id             bigserial PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES persons (id),
    colour         text NOT NULL CHECK (colour IN ('RED', 'YELLOW')),
    reason         text NOT NULL CHECK (length(reason) > 0),
    from_at        timestamptz NOT NULL,
    until_at       timestamptz NOT NULL CHECK (until_at > from_at),
    actor          text NOT NULL,
    created_at     timestamptz NOT NULL,
    approved_by    text,
    approved_at    timestamptz,
    retracted_at   timestamptz,
    retracted_by   text,
    retract_reason text
);
CREATE INDEX designations_person_idx ON designations (person_id) WHERE retracted_at IS NULL;

-- Area risk designations, with history: the row with the latest from_at at or
-- before now is the region's level in force.
CREATE TABLE area_risks (
    id          bigserial PRIMARY KEY,
    region_code text NOT NULL,
    region_path ltree,
    level       text NOT NULL CHECK (level IN ('HIGH', 'MEDIUM', 'LOW')),
    from_at     timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '',
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX area_risks_region_idx ON area_risks (region_code, from_at DESC, id DESC);

-- Rule sets: versioned JSON documents (rules.RuleSet). Exactly one is PUBLISHED.
CREATE TABLE rule_sets (
    version      text PRIMARY KEY,
    body         jsonb NOT NULL,
    status       text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'RETIRED')),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    approved_by  text,
    published_at timestamptz
);
CREATE UNIQUE INDEX rule_sets_published_idx ON rule_sets ((true)) WHERE status = 'PUBLISHED';

-- One current code per person.
CREATE TABLE codes (
    person_id        bigint PRIMARY KEY REFERENCES persons (id),
    colour           text NOT NULL CHECK (colour IN ('GREEN', 'YELLOW', 'RED')),
    clauses          jsonb NOT NULL,
    rule_set_version text NOT NULL,
    updated_at       timestamptz NOT NULL,
    reevaluate_at    timestamptz
);
CREATE INDEX codes_reevaluate_idx ON codes (reevaluate_at) WHERE reevaluate_at IS NOT NULL;

-- Every colour change, with its cause and actor.
CREATE TABLE code_history (
    id               bigserial PRIMARY KEY,
    person_id        bigint NOT NULL REFERENCES persons (id),
    from_colour      text,
    to_colour        text NOT NULL,
    clause_ids       text[] NOT NULL,
    rule_set_version text NOT NULL,
    cause            text NOT NULL,
    actor            text NOT NULL,
    at               timestamptz NOT NULL
);
CREATE INDEX code_history_person_idx ON code_history (person_id, id);
