-- The 12320 hotline: handling units, tickets with their steps, deadlines and
-- extensions, evidence images of code appeals, and the knowledge base.

-- Handling units (承办单位): a named unit serving a county or street.
CREATE TABLE handling_units (
    id          bigserial PRIMARY KEY,
    region_code text NOT NULL REFERENCES regions (code),
    region_path ltree NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX handling_units_path_idx ON handling_units USING gist (region_path);

CREATE TABLE tickets (
    id                bigserial PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('CONSULTATION', 'COMPLAINT', 'SUGGESTION', 'CODE_APPEAL')),
    channel           text NOT NULL CHECK (channel IN ('HOTLINE', 'ONLINE', 'TRANSFER_12345')),
    urgency           text NOT NULL CHECK (urgency IN ('NORMAL', 'URGENT')),
    state             text NOT NULL,
    person_id         bigint REFERENCES persons (id),
    caller_phone_hash bytea,
    caller_phone_enc  bytea,
    caller_masked     text NOT NULL DEFAULT '',
    subject           text NOT NULL,
    description       text NOT NULL,
    place_code        text NOT NULL,          -- the place concerned (residence for appeals)
    unit_id           bigint REFERENCES handling_units (id),
    region_code       text NOT NULL,          -- the responsible region: the unit's, or the place's county before dispatch
    region_path       ltree NOT NULL,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    sign_started_at   timestamptz,
    sign_due          timestamptz,
    reply_started_at  timestamptz,
    reply_due         timestamptz,
    callback_started_at timestamptz,
    callback_due      timestamptz,
    due_at            timestamptz,            -- the next deadline (sign, reply or callback)
    warn_at           timestamptz,            -- 80 % of the way to due_at
    warned            boolean NOT NULL DEFAULT false,
    overdue           boolean NOT NULL DEFAULT false,
    supervised        boolean NOT NULL DEFAULT false,
    extension_pending boolean NOT NULL DEFAULT false,
    reopen_count      integer NOT NULL DEFAULT 0,
    return_count      integer NOT NULL DEFAULT 0,
    merged_into       bigint REFERENCES tickets (id),
    satisfaction      text,
    signed_at         timestamptz,
    replied_at        timestamptz,
    closed_at         timestamptz
);
CREATE INDEX tickets_region_idx ON tickets USING gist (region_path);
-- A unit's open queue in its display order: overdue first, then by deadline.
CREATE INDEX tickets_queue_idx ON tickets (unit_id, (NOT overdue), (COALESCE(due_at, 'infinity'::timestamptz)), id)
    WHERE state NOT IN ('CLOSED', 'MERGED');
CREATE INDEX tickets_due_idx ON tickets (due_at) WHERE state NOT IN ('CLOSED', 'MERGED') AND NOT overdue;
CREATE INDEX tickets_person_idx ON tickets (person_id, kind, created_at);
CREATE INDEX tickets_updated_idx ON tickets (updated_at, id);

-- Every step of a ticket: actor, time, text; INTERNAL steps are never shown
-- to the resident.
CREATE TABLE ticket_steps (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    action      text NOT NULL,
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    role        text NOT NULL,
    actor       text NOT NULL,
    actor_name  text NOT NULL,
    text        text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    visibility  text NOT NULL CHECK (visibility IN ('PUBLIC', 'INTERNAL')),
    created_at  timestamptz NOT NULL
);
CREATE INDEX ticket_steps_ticket_idx ON ticket_steps (ticket_id, id);

CREATE TABLE ticket_extensions (
    id           bigserial PRIMARY KEY,
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    reason       text NOT NULL,
    extra        text NOT NULL,              -- the extension asked for, e.g. "2wd"
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    decided_by   text,
    decided_at   timestamptz,
    approved     boolean
);
CREATE INDEX ticket_extensions_ticket_idx ON ticket_extensions (ticket_id);

-- Evidence images of code appeals (type- and size-limited by the service).
CREATE TABLE ticket_evidence (
    id           bigserial PRIMARY KEY,
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    size         integer NOT NULL CHECK (size BETWEEN 1 AND 2097152),
    sha256       bytea NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL
);

-- Notices to units and their parent regions: warnings at 80 % of a
-- deadline, overdue tickets (督办), extension requests.
CREATE TABLE ticket_notices (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    region_code text NOT NULL,
    region_path ltree NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('WARNING', 'OVERDUE', 'SUPERVISE', 'EXTENSION', 'ESCALATION', 'ASSIGNED')),
    text        text NOT NULL,
    created_at  timestamptz NOT NULL,
    dedup_key   text UNIQUE
);
CREATE INDEX ticket_notices_region_idx ON ticket_notices USING gist (region_path);

-- Standard answers for consultations (知识库).
CREATE TABLE knowledge_answers (
    id         bigserial PRIMARY KEY,
    question   text NOT NULL,
    answer     text NOT NULL,
    tags       text[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);

INSERT INTO knowledge_answers (question, answer, tags, created_by, created_at) VALUES
('健康码是红码，什么时候能转绿？', '14天内有境外或高风险地区旅居史的人员、密切接触者，隔离期内体温正常、无咳嗽等症状的，隔离期满调整为绿码；疑似病人持出院诊断证明排除新冠肺炎的，调整为绿码（附件1 四(二)）。如认为赋码有误，可在健康码页面在线申诉。', '{红码,转码}', 'system', now()),
('健康码是黄码，怎样转绿？', '由绿码调整为黄码的居民，以及来自疫情中风险地区的人员连续14天体温正常、无咳嗽等症状的，可调整为绿码。请每日坚持健康打卡（附件1 四(三)）。', '{黄码,转码,打卡}', 'system', now()),
('没有智能手机的老人怎么办？', '可由监护人代为申领，或由社区工作人员代为申领并生成纸质健康码，有效期14天；也可向社区（村）申请健康通行卡（附件1 三）。', '{老人,纸质码,通行卡}', 'system', now()),
('外省来陕返陕人员如何申领健康码？', '最近14天内从外省进入陕西的人员，请选择“来陕返陕人员信息填报”申领。各地不得将外省入陕绿码人员一律设定为黄码（通知 四(二)）。', '{外省,来陕}', 'system', now());
