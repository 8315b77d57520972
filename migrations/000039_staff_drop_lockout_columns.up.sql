-- staff.failed_logins and staff.locked_until were never used: staff logins are
-- throttled per (username, client address) in login_throttle (000028), and an
-- account-wide lockout is left out on purpose (docs/security.md "Abuse
-- limits": anyone could lock an official out during an outbreak).
ALTER TABLE staff DROP COLUMN failed_logins, DROP COLUMN locked_until;
