-- The outbox owns a task until its handler has finished (issue 16): a row is
-- handed over to the queue (sent_at, the last hand-over), leased by the worker
-- that runs it (lease_owner, lease_until, extended while it runs) and done
-- when the handler completed or the queue archived it after its retries
-- (done_at; failed_at too when archived). Rows handed over but not done are
-- handed over again when their lease ran out (a worker died) or when they sat
-- in the queue longer than the relay's bound (the queue lost them).
ALTER TABLE outbox
    ADD COLUMN done_at     timestamptz,
    ADD COLUMN failed_at   timestamptz,
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN generation  integer NOT NULL DEFAULT 0;

-- Rows relayed before this migration count as done: their tasks ran under
-- the old rules, and nothing would tell us otherwise.
UPDATE outbox SET done_at = sent_at WHERE sent_at IS NOT NULL;

-- The relay's three kinds of candidates, each from its own index, so that a
-- large backlog handed over to the queue costs the relay nothing: never
-- handed over; leased (a lease that ran out is a dead worker's); handed
-- over and not started (the safety net for a queue that lost them).
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE done_at IS NULL AND sent_at IS NULL;
CREATE INDEX outbox_leased_idx ON outbox (lease_until) WHERE done_at IS NULL AND lease_until IS NOT NULL;
CREATE INDEX outbox_handed_idx ON outbox (sent_at) WHERE done_at IS NULL AND lease_until IS NULL AND sent_at IS NOT NULL;
CREATE INDEX outbox_unfinished_idx ON outbox (id) WHERE done_at IS NULL;
CREATE INDEX outbox_failed_idx ON outbox (failed_at) WHERE failed_at IS NOT NULL;


-- Each change of a ticket that queue subscribers see, so that a listener that
-- lost its connection replays what it missed.
CREATE TABLE ticket_changes (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX ticket_changes_changed_idx ON ticket_changes (changed_at);

-- The version of the grants, bumped by every statement that changes them (a
-- trigger, so a change made by hand counts too). Each request's session
-- lookup reads it, so a replica whose grants are older reloads them before
-- it authorizes the request: a revocation holds on every replica from the
-- next request on, however late its notification arrives.
CREATE TABLE grants_version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL
);
INSERT INTO grants_version (version) VALUES (1);
CREATE FUNCTION bump_grants_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grants_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER grants_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_grants_version();
