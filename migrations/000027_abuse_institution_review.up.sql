-- Abuse limits (issue 12 §4): a self-registered institution starts PENDING
-- until an administrator of its county (a six-level ADMIN of a region
-- containing it) approves or rejects it. Institutions registered before keep
-- their status; the service sets the status of every new row (the column's
-- default stays ACTIVE for rows written by tools). review_* record the
-- decision.
ALTER TABLE institutions DROP CONSTRAINT institutions_status_check;
ALTER TABLE institutions ADD CONSTRAINT institutions_status_check
    CHECK (status IN ('PENDING', 'ACTIVE', 'SUSPENDED', 'REJECTED'));
ALTER TABLE institutions
    ADD COLUMN reviewed_by   text,
    ADD COLUMN reviewed_at   timestamptz,
    ADD COLUMN review_reason text;
CREATE INDEX institutions_pending_idx ON institutions USING gist (region_path) WHERE status = 'PENDING';
