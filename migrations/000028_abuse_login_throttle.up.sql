-- Abuse limits (issue 12 §4): staff logins are throttled per (username,
-- client address) with growing delays, instead of locking the account for
-- everyone. The username is kept as a keyed hash (a mistyped password in the
-- name field is not stored), and a row exists for unknown names as for real
-- ones, so the answers do not tell them apart. staff.failed_logins and
-- staff.locked_until are no longer used.
CREATE TABLE login_throttle (
    username_hash bytea       NOT NULL,
    client_addr   text        NOT NULL,
    failures      integer     NOT NULL,
    blocked_until timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (username_hash, client_addr)
);
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at);
