package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

// DefaultLease is how long a worker's claim on a running outbox task lasts
// without a heartbeat (OUTBOX_LEASE): a killed worker's tasks are taken over
// by another worker this long after its last heartbeat (plus the relay's
// poll interval). The heartbeat renews it every third of it.
const DefaultLease = 10 * time.Second

// Ownership tracks the outbox tasks this worker process runs: before a
// handler runs it takes the row's lease (Outbox.ClaimOutboxTask), a
// heartbeat renews the leases of running tasks, and afterwards it records
// how the run ended (Outbox.FinishOutboxTask) — done when the handler
// succeeded or the queue archives the task, released for the queue's retry
// otherwise. A task whose row is done, or leased by another live worker, is
// a duplicate (a takeover raced the original, or the queue re-ran a task
// whose row finished) and completes without running. Run installs it as the
// mux's middleware.
type Ownership struct {
	Outbox healthcode.Outbox
	Logger *slog.Logger
	// Owner names this process in the rows' lease_owner (default:
	// host:pid:random).
	Owner string
	// Lease is the lease of a running task (default DefaultLease).
	Lease time.Duration

	mu      sync.Mutex
	running map[int64]int // outbox id → runs in progress
}

func (o *Ownership) lease() time.Duration {
	if o.Lease <= 0 {
		return DefaultLease
	}
	return o.Lease
}

func (o *Ownership) owner() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d:%04x", host, os.Getpid(), rand.IntN(1<<16))
	}
	return o.Owner
}

// Middleware wraps h: tasks whose id is an outbox task id run under the
// row's lease; other tasks run as they are.
func (o *Ownership) Middleware(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		taskID, _ := asynq.GetTaskID(ctx)
		id, ok := ParseOutboxTaskID(taskID)
		if !ok {
			return h.ProcessTask(ctx, t)
		}
		owner := o.owner()
		claimed, err := o.Outbox.ClaimOutboxTask(ctx, id, owner, o.lease())
		if err != nil {
			return fmt.Errorf("claim %s: %w", taskID, err)
		}
		if !claimed {
			if o.Logger != nil {
				o.Logger.Debug("outbox task done or run elsewhere; skipped", "task", taskID)
			}
			return nil
		}
		o.track(id, 1)
		defer o.track(id, -1)
		herr := h.ProcessTask(ctx, t)
		outcome := healthcode.OutboxCompleted
		if herr != nil {
			outcome = healthcode.OutboxRetry
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			if errors.Is(herr, asynq.SkipRetry) || retried >= maxRetry {
				outcome = healthcode.OutboxArchived
			}
		}
		// Record the outcome even when the task's context ended (shutdown).
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := o.Outbox.FinishOutboxTask(fctx, id, owner, outcome, herr); err != nil {
			if herr != nil {
				return herr
			}
			// The effect happened but is not recorded: run again (handlers
			// are idempotent); the row stays leased until it runs out.
			return fmt.Errorf("record completion of %s: %w", taskID, err)
		}
		return herr
	})
}

func (o *Ownership) track(id int64, delta int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running == nil {
		o.running = map[int64]int{}
	}
	o.running[id] += delta
	if o.running[id] <= 0 {
		delete(o.running, id)
	}
}

// Running returns the ids of the outbox rows whose tasks run here now.
func (o *Ownership) Running() []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]int64, 0, len(o.running))
	for id := range o.running {
		ids = append(ids, id)
	}
	return ids
}

// Heartbeat renews the leases of the running tasks every third of the lease
// until ctx is done. Run starts it.
func (o *Ownership) Heartbeat(ctx context.Context) {
	t := time.NewTicker(o.lease() / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := o.Outbox.ExtendOutboxLeases(ctx, o.Running(), o.owner(), o.lease()); err != nil && ctx.Err() == nil && o.Logger != nil {
			o.Logger.Warn("outbox lease heartbeat failed", "err", err)
		}
	}
}

// isFailure tells asynq whether a handler's error counts against the task's
// retries: an unreachable dependency (a database outage) does not.
func isFailure(err error) bool { return !healthcode.Unavailable(err) }

// retryDelay retries a task that failed on an unreachable dependency within
// a few seconds (so work resumes soon after an outage), and anything else
// with asynq's growing default delay.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if healthcode.Unavailable(err) {
		return time.Second + rand.N(2*time.Second)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}
