-- The daily push of the previous day's new and changed codes to the national
-- government service platform (SPEC §7): one row per day, its batches with
-- their receipts.
CREATE TABLE national_pushes (
    day        date PRIMARY KEY,
    batches    integer NOT NULL,
    records    integer NOT NULL,
    started_at timestamptz NOT NULL,
    acked_at   timestamptz,
    late       boolean NOT NULL DEFAULT false,  -- acknowledged after 10:00 of the next day
    alerted_at timestamptz                      -- the 09:30 alert, when it had to be sent
);

CREATE TABLE national_push_batches (
    day        date NOT NULL REFERENCES national_pushes (day),
    seq        integer NOT NULL,
    batch_id   text NOT NULL UNIQUE,
    records    integer NOT NULL,
    sha256     text NOT NULL,
    payload    bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    receipt    text,
    acked_at   timestamptz,
    PRIMARY KEY (day, seq)
);
