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

// IndicatorsRecomputeCron is the schedule of indicators:recompute.
const IndicatorsRecomputeCron = "*/5 * * * *"

// NewIndicatorsRecomputeTask builds the indicators:recompute task of the
// minute slot that contains at, with the slot in its task id. The scheduler
// and the CLI may call it.
func NewIndicatorsRecomputeTask(at time.Time) *asynq.Task {
	slot := at.Format(ReevaluateDueSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot})
	return asynq.NewTask(healthcode.TaskIndicatorsRecompute, b, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Timeout(30*time.Minute), asynq.Retention(time.Hour),
		asynq.TaskID(PeriodicTaskID(healthcode.TaskIndicatorsRecompute, slot)))
}

// IndicatorsHandler handles indicators:recompute. It is idempotent: a run
// recomputes the days marked dirty (rewriting a day gives the same rows for
// the same data) and clears their marks.
type IndicatorsHandler struct {
	Indicators healthcode.IndicatorRecomputer
	Logger     *slog.Logger
}

// ProcessTask runs one pass. Errors: database errors, returned for retry
// (the days not recomputed keep their marks).
func (h *IndicatorsHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if err := h.Indicators.MarkRecentDays(ctx); err != nil {
		return err
	}
	n, err := h.Indicators.RecomputeDirty(ctx)
	if err != nil {
		return fmt.Errorf("recompute indicators: %w", err)
	}
	if n > 2 && h.Logger != nil {
		h.Logger.Info("indicators recomputed", "days", n)
	}
	return nil
}
