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

// NewTicketDeadlinesTask builds the hotline:deadlines task of the minute
// that contains at, with the slot in its task id.
func NewTicketDeadlinesTask(at time.Time) *asynq.Task {
	slot := at.Format(ReevaluateDueSlotLayout)
	b, _ := json.Marshal(healthcode.SlotPayload{Slot: slot})
	return asynq.NewTask(healthcode.TaskTicketDeadlines, b, asynq.Queue(QueueDefault), asynq.MaxRetry(5),
		asynq.Timeout(time.Minute), asynq.Retention(time.Hour), asynq.TaskID(PeriodicTaskID(healthcode.TaskTicketDeadlines, slot)))
}

// TicketDeadlinesHandler handles hotline:deadlines. It is idempotent: a
// ticket is warned and marked overdue once.
type TicketDeadlinesHandler struct {
	Tickets healthcode.DeadlineProcessor
	Logger  *slog.Logger
}

// ProcessTask runs one pass. Errors: database errors, returned for retry.
func (h *TicketDeadlinesHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	warned, overdue, err := h.Tickets.ProcessDeadlines(ctx)
	if err != nil {
		return fmt.Errorf("process ticket deadlines: %w", err)
	}
	if (warned > 0 || overdue > 0) && h.Logger != nil {
		h.Logger.Info("ticket deadlines", "warned", warned, "overdue", overdue)
	}
	return nil
}
