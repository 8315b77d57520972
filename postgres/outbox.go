package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutboxRow is one pending outbox task handed to the relay.
type OutboxRow struct {
	ID        int64
	TaskType  string
	Payload   []byte // the task's JSON payload as written by Tx.Outbox
	CreatedAt time.Time
	Attempts  int // enqueue attempts before this one
}

// OutboxResult counts what one RelayOutbox call did.
type OutboxResult struct {
	Claimed int // rows locked by this call
	Sent    int // rows marked sent
	Failed  int // rows whose enqueue failed and were pushed back
	// Err is the enqueue error of the failed row, recorded in its
	// last_error; nil when nothing failed.
	Err error
}

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

// RelayOutbox claims up to limit pending outbox rows (not sent, available
// now) in id order, skipping rows another relay holds, and calls enqueue for
// each in turn inside one transaction. A row for which enqueue returns nil is
// marked sent; a row for which it fails gets its error recorded and its next
// attempt pushed back (OutboxBackoff), and the rest of the batch is left
// untouched for the next call, since the queue is probably unreachable. The
// relay of package workers is the only caller; several relays may run at
// once. enqueue must be idempotent per row id (a crash after enqueue and
// before commit hands the row out again).
// Errors: only database errors (wrapped, INTERNAL); enqueue errors are
// recorded on the row, not returned. A done ctx stops the batch and returns
// ctx's error.
func (db *DB) RelayOutbox(ctx context.Context, limit int, enqueue func(ctx context.Context, row OutboxRow) error) (OutboxResult, error) {
	var res OutboxResult
	if limit <= 0 {
		limit = 100
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, task_type, payload, created_at, attempts FROM outbox
			WHERE sent_at IS NULL AND available_at <= $1
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, tx.Now, limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxRow, error) {
			var o OutboxRow
			err := r.Scan(&o.ID, &o.TaskType, &o.Payload, &o.CreatedAt, &o.Attempts)
			return o, err
		})
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		res.Claimed = len(batch)
		sent := make([]int64, 0, len(batch))
		for _, row := range batch {
			if err := ctx.Err(); err != nil {
				break
			}
			if err := enqueue(ctx, row); err != nil {
				res.Failed, res.Err = 1, err
				if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
					available_at = $3 WHERE id = $1`,
					row.ID, truncateError(res.Err), tx.Now.Add(OutboxBackoff(row.Attempts+1))); err != nil {
					return fmt.Errorf("record outbox %d failure: %w", row.ID, err)
				}
				break
			}
			sent = append(sent, row.ID)
		}
		if len(sent) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = ''
				WHERE id = ANY($1)`, sent, tx.Now); err != nil {
				return fmt.Errorf("mark outbox sent: %w", err)
			}
		}
		res.Sent = len(sent)
		return nil
	})
	if err != nil {
		// Rows enqueued before a failed commit are claimed again later; the
		// enqueue is idempotent per row, so nothing is lost or doubled.
		return OutboxResult{}, err
	}
	return res, nil
}

func truncateError(err error) string {
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}

// PendingOutbox returns how many outbox rows are not yet sent, for metrics
// and health checks. Any internal caller may use it.
// Errors: database errors (wrapped, INTERNAL).
func (db *DB) PendingOutbox(ctx context.Context) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending outbox: %w", err)
	}
	return n, nil
}
