-- Abuse alerts (issue 12 §4): one durable record per unusual pattern of one
-- account within a sliding window — MASS_UNMASK (many distinct persons
-- unmasked), MASS_DESIGNATION (red-making colour change requests for many
-- persons), MASS_PERSON_READ (many persons' data read). Raised in the
-- transaction of the action that crossed the threshold; later actions in
-- the same window raise count and last_at on the same row, so one burst is
-- one alert. region_* is the actor's home region (who audits that region
-- sees it). Auditors acknowledge an alert with a note.
CREATE TABLE alerts (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('MASS_UNMASK', 'MASS_DESIGNATION', 'MASS_PERSON_READ')),
    actor            text NOT NULL,          -- staff:12
    region_code      text NOT NULL,
    region_path      ltree NOT NULL,
    window_seconds   integer NOT NULL,
    count            integer NOT NULL,       -- distinct persons in the window, at last_at
    threshold        integer NOT NULL,
    first_at         timestamptz NOT NULL,
    last_at          timestamptz NOT NULL,
    detail           jsonb NOT NULL DEFAULT '{}',
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    acknowledge_note text NOT NULL DEFAULT ''
);
CREATE INDEX alerts_actor_idx ON alerts (kind, actor, last_at);
CREATE INDEX alerts_region_idx ON alerts USING gist (region_path);

-- The detection queries count one actor's rows inside a window.
CREATE INDEX access_log_actor_idx ON access_log (actor, what, at);
CREATE INDEX colour_requests_requester_idx ON colour_requests (requested_by, requested_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'healthcode_app') THEN
        REVOKE DELETE, TRUNCATE ON alerts FROM healthcode_app;
    END IF;
END $$;
