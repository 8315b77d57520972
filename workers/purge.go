package workers

import (
	"context"
	"fmt"
	"log/slog"

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
