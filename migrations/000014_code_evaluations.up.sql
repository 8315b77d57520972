-- Id ranges re-evaluated in bulk under a rule-set version (ReevaluateRange,
-- after a rule set is published), written in the same transaction as the
-- codes of the range. A code whose result did not change under the new rule
-- set is not rewritten just to relabel it: its effective rule-set version is
-- the published version when a row of the published version covers its
-- person id, otherwise its own codes.rule_set_version (docs/rules.md,
-- "The rule-set version of a code"). Rows of retired versions mean nothing
-- and are deleted as ranges are re-evaluated.
CREATE TABLE code_evaluations (
    -- No foreign key to rule_sets: each batch's check would share-lock the
    -- published rule set's row (a MultiXact per concurrent batch); a version
    -- that is not the published one means nothing anyway.
    rule_set_version text NOT NULL,
    from_id          bigint NOT NULL,
    to_id            bigint NOT NULL, -- exclusive
    evaluated_at     timestamptz NOT NULL,
    PRIMARY KEY (rule_set_version, from_id),
    -- At most BatchSize (1,000) ids, so that the rows overlapping an id range
    -- are found by from_id alone.
    CHECK (to_id > from_id AND to_id - from_id <= 1000)
);
CREATE INDEX code_evaluations_from_idx ON code_evaluations (from_id);

-- The effective rule-set version of the code of person pid stored with
-- rule_set_version label. The ranges of one version do not overlap (one
-- FanOutAll), so the nearest range starting at or below pid is the one that
-- can cover it.
CREATE FUNCTION code_rule_set_version(pid bigint, label text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((
        SELECT e.rule_set_version FROM rule_sets r
        CROSS JOIN LATERAL (SELECT rule_set_version, to_id FROM code_evaluations
            WHERE rule_set_version = r.version AND from_id <= pid ORDER BY from_id DESC LIMIT 1) e
        WHERE r.status = 'PUBLISHED' AND e.to_id > pid), label)
$$;
