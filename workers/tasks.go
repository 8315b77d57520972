// Package workers runs the platform's background jobs on asynq (Redis): the
// task types and their payloads, one handler per file, the shared mux, the
// scheduler of periodic tasks and the outbox relay. Run starts them all; the
// `healthcode worker` and `healthcode dev` commands call it.
//
// Tasks caused by a database write are written to the outbox in the same
// transaction (package postgres, Tx.Outbox) and enqueued only by the Relay, with the
// task id "outbox:<id>"; nothing else enqueues them. Handlers are idempotent,
// honour their context, are retried at most MaxRetry times and return an
// error wrapping asynq.SkipRetry for payloads that can never succeed.
package workers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

// Queues, with the weights Run gives them: login codes and notifications go
// first, maintenance last.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Retry and retention policy of every task.
const (
	// MaxRetry caps the retries of a task (DESIGN: 5–10).
	MaxRetry = 8
	// Retention keeps a completed task in Redis so that its task id stays
	// reserved: a second enqueue of the same outbox row or time slot within
	// this window fails with asynq.ErrTaskIDConflict and is dropped.
	Retention = 24 * time.Hour
)

// taskOptions are the per-type enqueue options beyond the task id.
func taskOptions(taskType string) []asynq.Option {
	switch taskType {
	case healthcode.TaskNotifySMS:
		return []asynq.Option{asynq.Queue(QueueCritical), asynq.MaxRetry(MaxRetry),
			asynq.Timeout(time.Minute), asynq.Retention(Retention)}
	case healthcode.TaskPurgeAuth, healthcode.TaskPurgeData:
		return []asynq.Option{asynq.Queue(QueueLow), asynq.MaxRetry(5),
			asynq.Timeout(10 * time.Minute), asynq.Retention(Retention)}
	}
	return []asynq.Option{asynq.Queue(QueueDefault), asynq.MaxRetry(MaxRetry),
		asynq.Timeout(5 * time.Minute), asynq.Retention(Retention)}
}

// OutboxPayload is the payload of every task relayed from the outbox: the
// outbox row id (handlers deduplicate their effects on it) and the payload
// the transaction wrote, unchanged.
type OutboxPayload struct {
	OutboxID int64           `json:"outboxId"`
	Payload  json.RawMessage `json:"payload"`
}

// OutboxTaskID returns the asynq task id of outbox row id, "outbox:<id>".
// It is also the idempotency key of the row's external effect (the SMS
// gateway's), whatever the generation of the task that performs it.
func OutboxTaskID(id int64) string { return "outbox:" + strconv.FormatInt(id, 10) }

// OutboxGenerationTaskID returns the task id of generation gen of outbox
// row id: OutboxTaskID for generation 0, "outbox:<id>:<gen>" after gen
// takeovers from dead workers (whose tasks still hold the earlier ids).
func OutboxGenerationTaskID(id int64, gen int) string {
	if gen <= 0 {
		return OutboxTaskID(id)
	}
	return OutboxTaskID(id) + ":" + strconv.Itoa(gen)
}

// ParseOutboxTaskID returns the outbox row id of a task id made by
// OutboxGenerationTaskID, and false for any other task id.
func ParseOutboxTaskID(taskID string) (int64, bool) {
	rest, ok := strings.CutPrefix(taskID, "outbox:")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, ":")
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// NewOutboxTask builds the task for an outbox row, with its task id (of the
// row's generation), queue, retry cap and retention. Only the Relay (and
// tests) call it.
// Errors: a payload that is not valid JSON.
func NewOutboxTask(row healthcode.OutboxRow) (*asynq.Task, error) {
	if !json.Valid(row.Payload) {
		return nil, fmt.Errorf("outbox %d: payload is not json", row.ID)
	}
	b, err := json.Marshal(OutboxPayload{OutboxID: row.ID, Payload: row.Payload})
	if err != nil {
		return nil, fmt.Errorf("encode outbox %d: %w", row.ID, err)
	}
	opts := append(taskOptions(row.TaskType), asynq.TaskID(OutboxGenerationTaskID(row.ID, row.Generation)))
	return asynq.NewTask(row.TaskType, b, opts...), nil
}

// ParseOutboxPayload decodes the payload of a relayed outbox task. Handlers
// call it. Errors: a malformed payload or a missing outbox id, wrapping
// asynq.SkipRetry (retrying cannot help).
func ParseOutboxPayload(t *asynq.Task) (OutboxPayload, error) {
	var p OutboxPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.OutboxID <= 0 || len(p.Payload) == 0 {
		return p, fmt.Errorf("decode %s payload: missing outbox id or payload: %w", t.Type(), asynq.SkipRetry)
	}
	return p, nil
}

// PurgeAuthSlotLayout formats the hourly time slot of a purge task.
const PurgeAuthSlotLayout = "2006-01-02T15"

// NewPurgeAuthTask builds the maintenance:purge_auth task of the hourly slot
// that contains at (in at's location), with the task id
// "maintenance:purge_auth:<slot>" so that one slot runs once however many
// schedulers enqueue it. The scheduler and the CLI may call it.
func NewPurgeAuthTask(at time.Time) *asynq.Task {
	slot := at.Format(PurgeAuthSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot}) // cannot fail
	opts := append(taskOptions(healthcode.TaskPurgeAuth), asynq.TaskID(PeriodicTaskID(healthcode.TaskPurgeAuth, slot)))
	return asynq.NewTask(healthcode.TaskPurgeAuth, b, opts...)
}

// PeriodicTaskID returns the task id of a periodic task for one time slot,
// "<type>:<slot>".
func PeriodicTaskID(taskType, slot string) string {
	return taskType + ":" + strings.TrimSpace(slot)
}

// ParsePurgeAuthPayload decodes a maintenance:purge_auth payload. An empty
// payload is accepted (a manual run). Errors: malformed JSON, wrapping
// asynq.SkipRetry.
func ParsePurgeAuthPayload(t *asynq.Task) (healthcode.SlotPayload, error) {
	var p healthcode.SlotPayload
	if len(t.Payload()) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p, nil
}
