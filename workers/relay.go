package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"healthcode/postgres"
)

// Enqueuer puts tasks on the queue; *asynq.Client implements it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Relay moves committed outbox rows to the job queue. It claims a batch with
// FOR UPDATE SKIP LOCKED, enqueues each row as task "outbox:<id>" and marks
// it sent, so several relays (one per worker process) may run at once, and a
// row enqueued twice (a crash between enqueue and commit) is dropped by
// asynq's task id check. It wakes on NOTIFY outbox and, as a fallback, every
// Interval. Run calls it; tests may run it alone.
type Relay struct {
	DB     *postgres.DB
	Queue  Enqueuer
	Logger *slog.Logger
	// BatchSize is the number of rows claimed per transaction (default 100).
	BatchSize int
	// Interval is the fallback poll interval (default 2 s).
	Interval time.Duration
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

func (r *Relay) batchSize() int {
	if r.BatchSize <= 0 {
		return 100
	}
	return r.BatchSize
}

// Run relays until ctx is done and then returns nil. Errors of the database
// or the queue are logged and retried, never returned. Only Run of this
// package and tests call it.
func (r *Relay) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.listen(ctx, wake)
	}()
	defer wg.Wait()

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	failures := 0
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			failures++
			r.logger().Error("outbox relay", "err", err)
			// Back off on a failing database, but keep the fallback pace.
			if !sleep(ctx, min(time.Duration(failures)*interval, 30*time.Second)) {
				return nil
			}
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		}
	}
}

// Drain relays batches until a batch comes back short (nothing more is
// pending now) or an enqueue fails, and returns how many rows it marked sent.
// Errors: database errors and ctx's error.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		res, err := r.DB.RelayOutbox(ctx, r.batchSize(), r.enqueue)
		total += res.Sent
		if err != nil {
			return total, fmt.Errorf("relay outbox: %w", err)
		}
		if res.Failed > 0 {
			r.logger().Warn("outbox enqueue failed; row pushed back", "sent", res.Sent, "err", res.Err)
			return total, nil
		}
		if res.Claimed < r.batchSize() {
			return total, nil
		}
	}
}

// enqueue puts one outbox row on the queue. A task id conflict means the row
// was enqueued before (a relay crashed before marking it), which counts as
// sent.
func (r *Relay) enqueue(ctx context.Context, row postgres.OutboxRow) error {
	task, err := NewOutboxTask(row)
	if err != nil {
		return err
	}
	if _, err := r.Queue.EnqueueContext(ctx, task); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return fmt.Errorf("enqueue outbox %d: %w", row.ID, err)
	}
	return nil
}

// listen holds a dedicated connection that LISTENs on channel outbox and
// pokes wake on each notification, reconnecting with backoff until ctx is
// done.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake, func() { backoff = 500 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		r.logger().Warn("outbox listener disconnected; polling until it reconnects", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, r.DB.Pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN outbox"); err != nil {
		return fmt.Errorf("listen outbox: %w", err)
	}
	connected()
	// Rows committed while the listener was down are picked up now.
	poke(wake)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		poke(wake)
	}
}

func poke(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// sleep waits for d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
