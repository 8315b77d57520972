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

// AuditAnchorCron anchors the audit chain every ten minutes: deleting the
// newest audit records goes unnoticed for at most that long.
const AuditAnchorCron = "*/10 * * * *"

// NewAuditAnchorTask builds the audit:anchor task of the minute slot that
// contains at, with the slot in its task id. The scheduler calls it.
func NewAuditAnchorTask(at time.Time) *asynq.Task {
	slot := at.Format(ReevaluateDueSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot})
	return asynq.NewTask(healthcode.TaskAuditAnchor, b, asynq.Queue(QueueDefault), asynq.MaxRetry(5),
		asynq.Timeout(time.Minute), asynq.Retention(time.Hour),
		asynq.TaskID(PeriodicTaskID(healthcode.TaskAuditAnchor, slot)))
}

// AuditAnchorHandler handles audit:anchor: one more signed anchor of the
// chain's head (a repeated run adds an anchor of the same head, harmless).
// The mux registers it when the anchorer is configured.
type AuditAnchorHandler struct {
	Anchorer healthcode.AuditAnchorer
	Logger   *slog.Logger
}

// ProcessTask signs and publishes one anchor. Errors: storage and file
// errors, returned for retry.
func (h *AuditAnchorHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	a, err := h.Anchorer.AnchorAudit(ctx)
	if err != nil {
		return fmt.Errorf("anchor audit chain: %w", err)
	}
	if h.Logger != nil {
		h.Logger.Info("audit chain anchored", "seq", a.Seq, "kid", a.Kid)
	}
	return nil
}
