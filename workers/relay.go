package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"healthcode"
)

// Enqueuer puts tasks on the queue; *asynq.Client implements it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Relay hands committed outbox rows over to the job queue, and over again
// until their tasks finish (Outbox.RelayOutbox): it claims a batch with
// FOR UPDATE SKIP LOCKED and enqueues each row under its task id ("outbox:<id>",
// or "outbox:<id>:<generation>" after a takeover), so several relays (one per
// worker process) may run at once, and a row the queue still holds is refused
// by asynq's task id check and left alone. It wakes on Poke (the process's
// Listener pokes it on NOTIFY outbox and after each reconnection) and, as a
// fallback and to take over the tasks of dead workers, every Interval. Run
// calls it; tests may run it alone.
type Relay struct {
	Outbox healthcode.Outbox
	Queue  Enqueuer
	Logger *slog.Logger
	// BatchSize is the number of rows claimed per transaction (default 100).
	BatchSize int
	// Interval is the fallback poll interval (default 2 s).
	Interval time.Duration
	// RedeliverAfter is how long a handed-over task may sit in the queue
	// unstarted before it is handed over again (default
	// healthcode.DefaultRedeliverAfter).
	RedeliverAfter time.Duration
	// Periodic builds the tasks of periodic slots written to the outbox by
	// the Scheduler, by task type (default: allPeriodic(nil)).
	Periodic map[string]func(slot time.Time) *asynq.Task
	// Epoch, when set, tells the relay that the queue lost its content
	// (Redis restarted empty): everything handed over and not started is
	// then handed over again at once (Outbox.RequeueHanded).
	Epoch *QueueEpoch

	wake chan struct{}
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

func (r *Relay) wakeup() chan struct{} {
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	return r.wake
}

// Poke wakes the relay at once. The listener calls it on NOTIFY outbox and
// after it reconnected; it never blocks. Call Listen (or Poke once) before
// Run so the channel exists.
func (r *Relay) Poke() {
	select {
	case r.wakeup() <- struct{}{}:
	default:
	}
}

// Listen registers the relay on the process's listener: NOTIFY outbox wakes
// it, and so does every reconnection (rows committed meanwhile). Call it
// before Run.
func (r *Relay) Listen(l healthcode.OutboxWaker) {
	r.wakeup()
	l.OnOutbox(r.Poke)
}

// Run relays until ctx is done and then returns nil. Errors of the database
// or the queue are logged and retried, never returned. Once an hour it purges
// the periodic slots done more than eight days ago. Only Run of this package
// and tests call it.
func (r *Relay) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	wake := r.wakeup()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var purged time.Time
	failures := 0
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			failures++
			r.logger().Error("outbox relay", "err", err)
			// Back off on a failing database, but keep the fallback pace.
			if !sleep(ctx, min(time.Duration(failures)*interval/2, 5*time.Second)) {
				return nil
			}
			continue
		}
		failures = 0
		if time.Since(purged) > time.Hour {
			if _, err := r.Outbox.PurgeOutbox(ctx, 8*24*time.Hour); err != nil && ctx.Err() == nil {
				r.logger().Warn("purge outbox", "err", err)
			} else {
				purged = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		}
	}
}

// Drain relays batches until nothing more needs handing over now (a batch
// claims nothing, or a short one leaves no row never handed over) or an enqueue fails, and returns how many rows it handed
// over. Errors: database errors and ctx's error.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	if r.Epoch != nil {
		lost, err := r.Epoch.Lost(ctx)
		if err != nil {
			return 0, fmt.Errorf("check the queue: %w", err)
		}
		if lost {
			n, err := r.Outbox.RequeueHanded(ctx)
			if err != nil {
				r.Epoch.Forget(ctx) // noticed again next time
				return 0, err
			}
			if n > 0 {
				r.logger().Warn("the queue lost its content; handing its tasks over again", "tasks", n)
			}
		}
	}
	for {
		res, err := r.Outbox.RelayOutbox(ctx, r.batchSize(), r.RedeliverAfter, r.enqueue)
		total += res.Sent
		if err != nil {
			return total, fmt.Errorf("relay outbox: %w", err)
		}
		if res.Taken > 0 {
			r.logger().Warn("outbox tasks taken over from a worker whose lease ran out", "count", res.Taken)
		}
		if res.Failed > 0 {
			r.logger().Warn("outbox enqueue failed; row pushed back", "sent", res.Sent, "err", res.Err)
			return total, nil
		}
		if res.Claimed == 0 {
			return total, nil
		}
		if res.Claimed < r.batchSize() {
			// A short batch is not proof that nothing waits: another relay
			// may have held some of the rows this one picked (SKIP LOCKED),
			// and if both stop on their short batches, the rows after them
			// wait for the next tick. Go on while rows never handed over
			// remain (those the other relay holds count until it commits, and
			// it checks again then).
			more, err := r.Outbox.OutboxUnsent(ctx)
			if err != nil {
				return total, fmt.Errorf("relay outbox: %w", err)
			}
			if !more {
				return total, nil
			}
		}
	}
}

// enqueue puts one outbox row on the queue. A task id conflict means the
// queue still holds the task (or kept it after completion): nothing to do.
func (r *Relay) enqueue(ctx context.Context, row healthcode.OutboxRow) error {
	task, err := r.task(row)
	if err != nil {
		return err
	}
	if _, err := r.Queue.EnqueueContext(ctx, task, asynq.TaskID(OutboxGenerationTaskID(row.ID, row.Generation))); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return fmt.Errorf("enqueue outbox %d: %w", row.ID, err)
	}
	return nil
}

// task builds the task of row: a periodic slot's own task (its options and
// payload, under the row's task id), or NewOutboxTask.
func (r *Relay) task(row healthcode.OutboxRow) (*asynq.Task, error) {
	periodic := r.Periodic
	if periodic == nil {
		periodic = allPeriodic(nil)
	}
	if build, ok := periodic[row.TaskType]; ok {
		var p SlotPayload
		if err := json.Unmarshal(row.Payload, &p); err != nil || p.Slot.IsZero() {
			return nil, fmt.Errorf("outbox %d: bad periodic slot %s", row.ID, row.Payload)
		}
		return build(p.Slot), nil
	}
	return NewOutboxTask(row)
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

// QueueEpochKey is the Redis key that marks the queue's content: set once
// by the first relay, it disappears when Redis loses its data.
const QueueEpochKey = "healthcode:queue-epoch"

// QueueEpoch notices that Redis lost its content: a marker key that the
// relays set when it is missing, on every pass. When the key is gone, Redis
// restarted empty (or was flushed) and every task it held is gone with it;
// the relay that sets it again hands them over again. Run wires it to the
// Relay.
type QueueEpoch struct {
	Client redis.UniversalClient
}

// Lost reports whether the marker was missing (this call set it): the
// queue's content was lost, or this is the queue's first use.
// Errors: Redis errors.
func (q *QueueEpoch) Lost(ctx context.Context) (bool, error) {
	return q.Client.SetNX(ctx, QueueEpochKey, time.Now().UTC().Format(time.RFC3339Nano), 0).Result()
}

// Forget removes the marker, so that the next pass reports the loss again
// (after the hand-over failed).
func (q *QueueEpoch) Forget(ctx context.Context) {
	_ = q.Client.Del(context.WithoutCancel(ctx), QueueEpochKey).Err()
}
