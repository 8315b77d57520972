package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// Outbox relay backoff after a failed enqueue: 1 s doubling per attempt, at
// most 5 minutes.
const (
	outboxBackoffBase = time.Second
	outboxBackoffMax  = 5 * time.Minute
)

// OutboxBackoff returns how long the relay waits before retrying a row whose
// enqueue has failed attempts times (attempts ≥ 1). Any caller may use it.
func OutboxBackoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	if attempts > 20 {
		return outboxBackoffMax
	}
	d := outboxBackoffBase << (attempts - 1)
	return min(d, outboxBackoffMax)
}

// OutboxUnsent reports whether a row never handed over is due (available
// now and not done): the relay's check after a short batch. Rows another
// transaction holds while it hands them over count until it commits. For the
// relay; errors are database errors.
func (db *DB) OutboxUnsent(ctx context.Context) (bool, error) {
	var more bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox
		WHERE done_at IS NULL AND sent_at IS NULL AND available_at <= $1)`, db.now()).Scan(&more)
	return more, err
}

// RelayOutbox claims up to limit outbox rows that need handing over to the
// queue, in id order, skipping rows another relay holds, and calls enqueue
// for each in turn inside one transaction. A row needs handing over when it
// is not done and available, and was never handed over, or its task's lease
// ran out (the worker running it died: the row is taken over, under the next
// generation's task id), or it was handed over more than redeliverAfter ago
// and no worker has started it (the queue may have lost it). A row for which
// enqueue returns nil is marked handed over now; a row for which it fails
// gets its error recorded and its next attempt pushed back (OutboxBackoff),
// and the rest of the batch is left for the next call, since the queue is
// probably unreachable. The relay of package workers is the only caller;
// several relays may run at once. enqueue must be idempotent per row id and
// generation (a task the queue still holds must be refused by its task id
// and reported as nil).
// Errors: only database errors (wrapped, INTERNAL); enqueue errors are
// recorded on the row, not returned. A done ctx stops the batch and returns
// ctx's error.
func (db *DB) RelayOutbox(ctx context.Context, limit int, redeliverAfter time.Duration, enqueue func(ctx context.Context, row healthcode.OutboxRow) error) (healthcode.OutboxResult, error) {
	var res healthcode.OutboxResult
	if limit <= 0 {
		limit = 100
	}
	if redeliverAfter <= 0 {
		redeliverAfter = healthcode.DefaultRedeliverAfter
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		// Leases and hand-over times are on the database's clock, shared
		// by every process; available_at is on the platform's clock.
		// The candidates come from three partial indexes (never handed
		// over; lease run out; handed over long ago and not started), so
		// a large backlog in the queue costs nothing here; the outer
		// condition checks them again once locked. (now(), the
		// transaction's start on the database's clock, is stable, so the
		// indexes bound the scans.)
		rows, err := tx.Query(ctx, `SELECT id, task_type, payload, COALESCE(dedup_key, ''), created_at, attempts,
				generation, lease_until IS NOT NULL AND lease_until < now()
			FROM outbox
			WHERE id = ANY(ARRAY(
				(SELECT id FROM outbox WHERE done_at IS NULL AND sent_at IS NULL AND available_at <= $1 ORDER BY id LIMIT $2)
				UNION ALL
				(SELECT id FROM outbox WHERE done_at IS NULL AND lease_until < now() ORDER BY lease_until LIMIT $2)
				UNION ALL
				(SELECT id FROM outbox WHERE done_at IS NULL AND lease_until IS NULL AND sent_at IS NOT NULL
					AND sent_at < now() - $3::interval ORDER BY sent_at LIMIT $2)))
			  AND done_at IS NULL AND available_at <= $1
			  AND (sent_at IS NULL
			       OR lease_until < now()
			       OR (lease_until IS NULL AND sent_at < now() - $3::interval))
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, tx.Now, limit, redeliverAfter)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		type claimed struct {
			healthcode.OutboxRow
			expired bool
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
			var o claimed
			err := r.Scan(&o.ID, &o.TaskType, &o.Payload, &o.DedupKey, &o.CreatedAt, &o.Attempts, &o.Generation, &o.expired)
			return o, err
		})
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		res.Claimed = len(batch)
		var sent, taken []int64
		for _, row := range batch {
			if err := ctx.Err(); err != nil {
				break
			}
			if row.expired {
				row.Generation++
			}
			if err := enqueue(ctx, row.OutboxRow); err != nil {
				res.Failed, res.Err = 1, err
				if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
					available_at = $3 WHERE id = $1`,
					row.ID, truncateError(res.Err), tx.Now.Add(OutboxBackoff(row.Attempts+1))); err != nil {
					return fmt.Errorf("record outbox %d failure: %w", row.ID, err)
				}
				break
			}
			if row.expired {
				taken = append(taken, row.ID)
			} else {
				sent = append(sent, row.ID)
			}
		}
		if len(sent) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = clock_timestamp(), attempts = attempts + 1, last_error = ''
				WHERE id = ANY($1)`, sent); err != nil {
				return fmt.Errorf("mark outbox handed over: %w", err)
			}
		}
		if len(taken) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = clock_timestamp(), attempts = attempts + 1,
				generation = generation + 1, lease_owner = NULL, lease_until = NULL,
				last_error = 'taken over: the lease of ' || COALESCE(lease_owner, '?') || ' ran out'
				WHERE id = ANY($1)`, taken); err != nil {
				return fmt.Errorf("mark outbox taken over: %w", err)
			}
		}
		res.Sent, res.Taken = len(sent)+len(taken), len(taken)
		return nil
	})
	if err != nil {
		// Rows enqueued before a failed commit are claimed again later; the
		// enqueue is idempotent per row, so nothing is lost or doubled.
		return healthcode.OutboxResult{}, err
	}
	return res, nil
}

// RequeueHanded makes every row handed over to the queue and not started
// (no lease) pending again, so the relay hands it over at once. The relay
// calls it when it finds the queue emptied (Redis restarted without its
// data); rows the queue still holds are refused by their task ids when
// handed over again. It returns how many rows it made pending.
// Errors: database errors (wrapped).
func (db *DB) RequeueHanded(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE outbox SET sent_at = NULL
		WHERE done_at IS NULL AND sent_at IS NOT NULL AND lease_until IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("requeue handed-over outbox rows: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ClaimOutboxTask takes the lease of outbox row id for owner (a worker
// process) for lease: the row is not done and nobody else holds a live
// lease. It reports false, without error, when the row is done or leased by
// another live worker (the task is a duplicate: nothing to do). The worker's
// outbox middleware calls it before a handler runs.
// Errors: database errors (wrapped; UNAVAILABLE during an outage).
func (db *DB) ClaimOutboxTask(ctx context.Context, id int64, owner string, lease time.Duration) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE outbox SET lease_owner = $2, lease_until = clock_timestamp() + $3::interval
		WHERE id = $1 AND done_at IS NULL
		  AND (lease_until IS NULL OR lease_until < clock_timestamp() OR lease_owner = $2)`, id, owner, lease)
	if err != nil {
		return false, fmt.Errorf("claim outbox %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ExtendOutboxLeases extends owner's leases of the rows ids (the tasks it is
// running) by lease from now. The worker's heartbeat calls it.
// Errors: database errors (wrapped).
func (db *DB) ExtendOutboxLeases(ctx context.Context, ids []int64, owner string, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET lease_until = clock_timestamp() + $3::interval
		WHERE id = ANY($1) AND lease_owner = $2 AND done_at IS NULL`, ids, owner, lease); err != nil {
		return fmt.Errorf("extend outbox leases: %w", err)
	}
	return nil
}

// FinishOutboxTask records how owner's run of outbox row id ended (cause is
// the handler's error, nil on success) and releases the lease. The worker's
// outbox middleware calls it after the handler.
// Errors: database errors (wrapped).
func (db *DB) FinishOutboxTask(ctx context.Context, id int64, owner string, outcome healthcode.OutboxOutcome, cause error) error {
	msg := ""
	if cause != nil {
		msg = truncateError(cause)
	}
	var err error
	switch outcome {
	case healthcode.OutboxCompleted:
		_, err = db.Pool.Exec(ctx, `UPDATE outbox SET done_at = clock_timestamp(), lease_owner = NULL, lease_until = NULL,
			last_error = $2 WHERE id = $1 AND done_at IS NULL`, id, msg)
	case healthcode.OutboxArchived:
		_, err = db.Pool.Exec(ctx, `UPDATE outbox SET done_at = clock_timestamp(), failed_at = clock_timestamp(),
			lease_owner = NULL, lease_until = NULL, last_error = $2 WHERE id = $1 AND done_at IS NULL`, id, msg)
	default:
		_, err = db.Pool.Exec(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = NULL, last_error = $3
			WHERE id = $1 AND lease_owner = $2 AND done_at IS NULL`, id, owner, msg)
	}
	if err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	}
	return nil
}

// ScheduleSlot writes the task of one periodic time slot to the outbox with
// the dedup key "periodic:<taskType>:<slot>", so that however many schedulers
// (one per worker process) write a slot, and however often a starting worker
// catches it up, it is written once, and then owned by the outbox like any
// task: handed over again if the queue loses it. It reports whether this
// call wrote it. The scheduler of package workers calls it.
// Errors: database errors (wrapped).
func (db *DB) ScheduleSlot(ctx context.Context, taskType string, slot time.Time, payload []byte) (bool, error) {
	var written bool
	err := db.InTx(ctx, func(tx *Tx) error {
		id, err := tx.Outbox(ctx, taskType, payload, healthcode.PeriodicDedupKey(taskType, slot))
		written = id != 0
		return err
	})
	return written, err
}

// PurgeOutbox deletes what no longer matters: periodic slots done more than
// keep ago (a slot must stay while a starting worker may still catch it up)
// and ticket changes older than a day (a listener replays at most its own
// outage). Other outbox rows stay: their dedup keys keep a notification
// from being sent twice. The relay calls it hourly.
// Errors: database errors (wrapped).
func (db *DB) PurgeOutbox(ctx context.Context, keep time.Duration) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM outbox WHERE dedup_key LIKE 'periodic:%' AND done_at < clock_timestamp() - $1::interval`, keep)
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM ticket_changes WHERE changed_at < $1`, db.now().Add(-24*time.Hour)); err != nil {
		return 0, fmt.Errorf("purge ticket changes: %w", err)
	}
	return tag.RowsAffected(), nil
}

func truncateError(err error) string {
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}

// OutboxBacklog is the outbox's unfinished work.
type OutboxBacklog struct {
	Pending    int64 // rows never handed over to the queue
	Unfinished int64 // rows handed over whose task has not finished
	Running    int64 // rows among Unfinished whose task a worker runs now (live lease)
	// OldestUnfinished is the age of the oldest unfinished row, 0 when
	// there is none.
	OldestUnfinished time.Duration
	Failed           int64 // rows archived after their retries, in the last 24 hours
}

// Backlog returns the outbox's unfinished work, for metrics and health
// checks. Any internal caller may use it.
// Errors: database errors (wrapped).
func (db *DB) Backlog(ctx context.Context) (OutboxBacklog, error) {
	var b OutboxBacklog
	var oldest float64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sent_at IS NULL),
			count(*) FILTER (WHERE sent_at IS NOT NULL),
			count(*) FILTER (WHERE lease_until >= clock_timestamp()),
			COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at) FILTER (WHERE sent_at IS NOT NULL)), 0),
			(SELECT count(*) FROM outbox WHERE failed_at > now() - interval '1 day')
		FROM outbox WHERE done_at IS NULL`).Scan(&b.Pending, &b.Unfinished, &b.Running, &oldest, &b.Failed)
	if err != nil {
		return b, fmt.Errorf("read outbox backlog: %w", err)
	}
	b.OldestUnfinished = time.Duration(oldest * float64(time.Second))
	return b, nil
}

// OnOutbox implements healthcode.OutboxWaker: wake runs on every NOTIFY of
// OutboxChannel and after every (re)connection of l, so that a relay catches
// up what was written while it was not listening.
func (l *Listener) OnOutbox(wake func()) {
	l.Handle(OutboxChannel, func(string) { wake() }, func(context.Context) error { wake(); return nil })
}

var (
	_ healthcode.Outbox      = (*DB)(nil)
	_ healthcode.OutboxWaker = (*Listener)(nil)
)
