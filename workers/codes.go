package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

// The time budget of one codes:reevaluate_due run.
const (
	reevaluateDueBudget  = 50 * time.Second
	reevaluateDueTimeout = time.Minute
)

// ReevaluateDueSlotLayout formats the per-minute slot of a due task.
const ReevaluateDueSlotLayout = "2006-01-02T15:04"

// NewReevaluateDueTask builds the codes:reevaluate_due task of the minute
// that contains at, with the slot in its task id.
func NewReevaluateDueTask(at time.Time) *asynq.Task {
	slot := at.Format(ReevaluateDueSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot})
	return asynq.NewTask(healthcode.TaskReevaluateDue, b, asynq.Queue(QueueDefault), asynq.MaxRetry(5),
		asynq.Timeout(reevaluateDueTimeout), asynq.Retention(time.Hour),
		asynq.TaskID(PeriodicTaskID(healthcode.TaskReevaluateDue, slot)))
}

// CodesHandler handles the bulk re-evaluation tasks. Every one of them is
// idempotent: re-evaluating a person twice with no new fact changes nothing.
type CodesHandler struct {
	DB     healthcode.Reevaluator
	Logger *slog.Logger
}

// ProcessTask dispatches on the task type. Errors: bad payloads wrap
// asynq.SkipRetry; database errors are returned for retry.
func (h *CodesHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if t.Type() == healthcode.TaskReevaluateDue {
		n, err := h.DB.ReevaluateDue(ctx, reevaluateDueBudget)
		if err != nil {
			return fmt.Errorf("re-evaluate due codes: %w", err)
		}
		if n > 0 && h.Logger != nil {
			h.Logger.Info("re-evaluated due codes", "count", n)
		}
		return nil
	}
	p, err := ParseOutboxPayload(t)
	if err != nil {
		return err
	}
	switch t.Type() {
	case healthcode.TaskFanOutArea:
		var in healthcode.FanOutAreaPayload
		if err := json.Unmarshal(p.Payload, &in); err != nil || in.AreaRiskID <= 0 {
			return fmt.Errorf("decode %s: %w", t.Type(), asynq.SkipRetry)
		}
		fanOut := h.DB.FanOutArea
		if in.Late {
			fanOut = h.DB.FanOutAreaLate
		}
		n, err := fanOut(ctx, in.AreaRiskID)
		if err != nil {
			return fmt.Errorf("fan out area risk %d: %w", in.AreaRiskID, err)
		}
		h.log("area designation fanned out", "areaRisk", in.AreaRiskID, "late", in.Late, "batches", n)
	case healthcode.TaskFanOutAll:
		var in healthcode.FanOutAllPayload
		if err := json.Unmarshal(p.Payload, &in); err != nil || in.Cause == "" {
			return fmt.Errorf("decode %s: %w", t.Type(), asynq.SkipRetry)
		}
		n, err := h.DB.FanOutAll(ctx, in.Cause)
		if err != nil {
			return fmt.Errorf("fan out %s: %w", in.Cause, err)
		}
		h.log("re-evaluation of everyone fanned out", "cause", in.Cause, "batches", n)
	case healthcode.TaskReevaluateBatch:
		var in healthcode.BatchPayload
		if err := json.Unmarshal(p.Payload, &in); err != nil || len(in.IDs) == 0 || len(in.IDs) > healthcode.ReevaluateBatchSize {
			return fmt.Errorf("decode %s: %w", t.Type(), asynq.SkipRetry)
		}
		if _, err := h.DB.ReevaluateIDs(ctx, in.IDs, in.Cause); err != nil {
			return fmt.Errorf("re-evaluate batch: %w", err)
		}
	case healthcode.TaskReevaluateRange:
		var in healthcode.RangePayload
		if err := json.Unmarshal(p.Payload, &in); err != nil || in.To <= in.From || in.To-in.From > healthcode.ReevaluateBatchSize {
			return fmt.Errorf("decode %s: %w", t.Type(), asynq.SkipRetry)
		}
		if _, err := h.DB.ReevaluateRange(ctx, in.From, in.To, in.Cause); err != nil {
			return fmt.Errorf("re-evaluate range: %w", err)
		}
	default:
		return fmt.Errorf("unexpected task %s: %w", t.Type(), asynq.SkipRetry)
	}
	return nil
}

func (h *CodesHandler) log(msg string, args ...any) {
	if h.Logger != nil {
		h.Logger.Info(msg, args...)
	}
}
