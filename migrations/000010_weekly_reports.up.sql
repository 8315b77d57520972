-- Weekly usage reports (上周健康码使用情况): each Friday a draft per city is
-- generated from the data; the city administrators add their comments and
-- submit it, on time before Friday 16:00 (notice, closing paragraph).
CREATE TABLE weekly_reports (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES regions (code),
    region_path  ltree NOT NULL,
    week_start   date NOT NULL,                 -- Monday of the week the report is due in
    figures      jsonb NOT NULL,                -- the draft's figures for the previous week
    comments     text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'SUBMITTED')),
    generated_at timestamptz NOT NULL,
    submitted_by text,
    submitted_at timestamptz,
    on_time      boolean NOT NULL DEFAULT false,
    UNIQUE (region_code, week_start)
);
