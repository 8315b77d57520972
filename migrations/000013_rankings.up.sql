-- Weekly ranking reports (排名通报, SPEC §6): the ranking of one week frozen
-- when it was generated, with the policy it was scored under, so that later
-- recomputation of indicator_daily does not change a published report. The
-- Friday task stores revision 1 when none exists; every generation on demand
-- adds the next revision.
CREATE TABLE ranking_reports (
    id           bigserial PRIMARY KEY,
    week_start   date NOT NULL,                   -- Monday (China Standard Time) of the ranked week
    level        text NOT NULL CHECK (level IN ('CITY', 'COUNTY')),
    parent_code  text NOT NULL REFERENCES regions (code),   -- 61 for the cities, the city for its counties
    parent_path  ltree NOT NULL,
    revision     integer NOT NULL CHECK (revision > 0),
    rows         jsonb NOT NULL,                  -- []healthcode.RankingRow in rank order
    policy       jsonb NOT NULL,                  -- healthcode.RankingPolicy
    generated_at timestamptz NOT NULL,
    generated_by text NOT NULL,
    UNIQUE (week_start, level, parent_code, revision)
);
CREATE INDEX ranking_reports_parent_idx ON ranking_reports USING gist (parent_path);
CREATE INDEX ranking_reports_week_idx ON ranking_reports (week_start DESC, id DESC);
