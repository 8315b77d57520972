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

// PurgeAuthHandler handles maintenance:purge_auth. Purging is idempotent, so
// a repeated or overlapping run is harmless. The mux registers it.
type PurgeAuthHandler struct {
	Purger healthcode.AuthPurger // nil: the task fails without retry
	Logger *slog.Logger
}

// ProcessTask runs one purge. Errors: a bad payload or a missing purger wrap
// asynq.SkipRetry; a database error or ctx's error is returned for retry.
func (h *PurgeAuthHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := ParsePurgeAuthPayload(t)
	if err != nil {
		return err
	}
	if h.Purger == nil {
		return fmt.Errorf("purge auth: no purger configured: %w", asynq.SkipRetry)
	}
	n, err := h.Purger.PurgeExpiredAuth(ctx)
	if err != nil {
		return fmt.Errorf("purge auth slot %q: %w", p.Slot, err)
	}
	if h.Logger != nil {
		h.Logger.Info("purged expired auth", "slot", p.Slot, "rows", n)
	}
	return nil
}

// PurgeDataSlotLayout formats the daily time slot of a data purge.
const PurgeDataSlotLayout = "2006-01-02"

// NewPurgeDataTask builds the maintenance:purge_data task of the day that
// contains at, with the task id "maintenance:purge_data:<day>". The
// scheduler and the CLI may call it.
func NewPurgeDataTask(at time.Time) *asynq.Task {
	slot := at.Format(PurgeDataSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot}) // cannot fail
	opts := append(taskOptions(healthcode.TaskPurgeData), asynq.TaskID(PeriodicTaskID(healthcode.TaskPurgeData, slot)))
	return asynq.NewTask(healthcode.TaskPurgeData, b, opts...)
}

// PurgeDataHandler handles maintenance:purge_data: it enforces the
// retention periods (docs/privacy.md#retention). A purge is idempotent, so
// a repeated run is harmless. The mux registers it.
type PurgeDataHandler struct {
	Purger    healthcode.DataPurger // nil: the task fails without retry
	Retention healthcode.Retention  // zero: healthcode.DefaultRetention
	Logger    *slog.Logger
}

// ProcessTask runs one purge. Errors: a bad payload, a missing purger or
// invalid retention periods wrap asynq.SkipRetry; a database error is returned for retry.
func (h *PurgeDataHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := ParsePurgeAuthPayload(t)
	if err != nil {
		return err
	}
	if h.Purger == nil {
		return fmt.Errorf("purge data: no purger configured: %w", asynq.SkipRetry)
	}
	r := h.Retention
	if r == (healthcode.Retention{}) {
		r = healthcode.DefaultRetention
	}
	items, err := h.Purger.PurgeExpiredData(ctx, r, false)
	if healthcode.ErrorCode(err) == healthcode.EINVALID {
		return fmt.Errorf("purge data: %w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("purge data slot %q: %w", p.Slot, err)
	}
	if h.Logger != nil {
		for _, it := range items {
			if it.Rows > 0 {
				h.Logger.Info("purged expired data", "slot", p.Slot, "kind", it.Kind, "action", it.Action, "rows", it.Rows)
			}
		}
	}
	return nil
}
