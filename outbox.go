package healthcode

import (
	"context"
	"time"
)

// The outbox: a task caused by a write is written to the outbox in the
// write's transaction (package postgres, Tx.Outbox) and owned by it until
// its handler finishes. The relay of package workers hands due rows to the
// job queue and the workers' ownership middleware leases a row while its
// handler runs, both through Outbox; package postgres implements it.

// Outbox is the outbox as the relay, the scheduler and the workers'
// ownership middleware use it. Only the workers call it (package postgres
// implements it, *postgres.DB). Errors: database errors (wrapped; UNAVAILABLE
// during an outage), besides those each method names.
type Outbox interface {
	// OutboxUnsent reports whether a row never handed over is due (available
	// now and not done): the relay's check after a short batch.
	OutboxUnsent(ctx context.Context) (bool, error)
	// RelayOutbox claims up to limit rows that need handing over to the
	// queue (never handed over, taken over from a dead worker, or handed
	// over more than redeliverAfter ago and not started; DefaultRedeliverAfter
	// when 0), in id order, skipping rows another relay holds, and calls
	// enqueue for each; a failed enqueue is recorded on its row and ends the
	// batch. enqueue must be idempotent per row id and generation. A done
	// ctx stops the batch and returns ctx's error.
	RelayOutbox(ctx context.Context, limit int, redeliverAfter time.Duration, enqueue func(ctx context.Context, row OutboxRow) error) (OutboxResult, error)
	// RequeueHanded makes every handed-over row that no worker holds pending
	// again (the queue was found emptied) and returns how many.
	RequeueHanded(ctx context.Context) (int64, error)
	// PurgeOutbox deletes periodic slots done more than keep ago and
	// ticket changes older than a day, and returns how many slots.
	PurgeOutbox(ctx context.Context, keep time.Duration) (int64, error)
	// ClaimOutboxTask takes the lease of row id for owner (a worker
	// process) for lease; false when the row is done or another live worker
	// holds it (the task is a duplicate).
	ClaimOutboxTask(ctx context.Context, id int64, owner string, lease time.Duration) (bool, error)
	// ExtendOutboxLeases extends owner's leases of rows ids by lease from now
	// (the heartbeat of the tasks it runs).
	ExtendOutboxLeases(ctx context.Context, ids []int64, owner string, lease time.Duration) error
	// FinishOutboxTask records how owner's run of row id ended (cause: the
	// handler's error, nil on success) and releases the lease.
	FinishOutboxTask(ctx context.Context, id int64, owner string, outcome OutboxOutcome, cause error) error
	// ScheduleSlot writes the task of one periodic time slot with the dedup
	// key PeriodicDedupKey(taskType, slot), once however many schedulers
	// write it, and reports whether this call wrote it.
	ScheduleSlot(ctx context.Context, taskType string, slot time.Time, payload []byte) (bool, error)
}

// OutboxWaker wakes the relay when a transaction wrote to the outbox
// (NOTIFY) and after each reconnection of its listener (package postgres,
// *postgres.Listener). wake must not block.
type OutboxWaker interface {
	OnOutbox(wake func())
}

// OutboxRow is one outbox task handed to the relay.
type OutboxRow struct {
	ID        int64
	TaskType  string
	Payload   []byte // the task's JSON payload as written by Tx.Outbox
	DedupKey  string // "" when the row has none
	CreatedAt time.Time
	Attempts  int // enqueue attempts before this one
	// Generation counts the takeovers of the row: 0 until a worker holding
	// its lease died; each takeover hands it over under a new task id
	// (the old one is still held by the dead worker's task in the queue).
	Generation int
}

// OutboxResult counts what one RelayOutbox call did.
type OutboxResult struct {
	Claimed int // rows locked by this call
	Sent    int // rows handed over (or found still queued)
	Taken   int // rows among Sent taken over from a dead worker
	Failed  int // rows whose enqueue failed and were pushed back
	// Err is the enqueue error of the failed row, recorded in its
	// last_error; nil when nothing failed.
	Err error
}

// DefaultRedeliverAfter is how long a handed-over task may wait in the queue
// before the relay hands it over again (OUTBOX_REDELIVER_AFTER): a task the
// queue still holds is refused by its task id and left alone; one the queue
// lost is queued again. It is the safety net for losses the relay cannot
// see (a failover that dropped the last writes, an eviction); a queue that
// came back empty is noticed at once (RequeueHanded).
const DefaultRedeliverAfter = 10 * time.Minute

// OutboxOutcome is how a task's run ended, for FinishOutboxTask.
type OutboxOutcome int

const (
	// OutboxCompleted: the handler succeeded; the row is done.
	OutboxCompleted OutboxOutcome = iota
	// OutboxRetry: the handler failed and the queue retries it; the lease
	// is released and the row stays handed over.
	OutboxRetry
	// OutboxArchived: the handler failed for the last time (retries
	// exhausted, or an error retrying cannot fix); the row is done and
	// failed.
	OutboxArchived
)

// PeriodicDedupKey is the outbox dedup key of a periodic task's slot.
func PeriodicDedupKey(taskType string, slot time.Time) string {
	return "periodic:" + taskType + ":" + slot.UTC().Format(time.RFC3339)
}
