DROP INDEX institutions_pending_idx;
ALTER TABLE institutions DROP COLUMN reviewed_by, DROP COLUMN reviewed_at, DROP COLUMN review_reason;
UPDATE institutions SET status = 'SUSPENDED', suspend_reason = COALESCE(suspend_reason, '未获审核')
    WHERE status IN ('PENDING', 'REJECTED');
ALTER TABLE institutions DROP CONSTRAINT institutions_status_check;
ALTER TABLE institutions ADD CONSTRAINT institutions_status_check CHECK (status IN ('ACTIVE', 'SUSPENDED'));
