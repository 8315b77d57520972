-- The dev-mode clock (devSetClock, devAdvanceClock): how far it runs ahead of
-- the wall clock, so that a restart keeps it and data is never dated in the
-- clock's future. At most one row; dev mode only.
CREATE TABLE dev_clock (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_us bigint NOT NULL,
    moved_at  timestamptz NOT NULL
);
