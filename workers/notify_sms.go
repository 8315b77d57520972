package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"healthcode"
	"healthcode/sms"
)

// NotifySMSHandler handles notify:sms: it opens the sealed message of the
// outbox row and sends it at most once per outbox id (SMSOutbox.DeliverOnce),
// with the key "outbox:<id>" so that the gateway also drops a repeat. The
// mux registers it; tests may call ProcessTask directly.
type NotifySMSHandler struct {
	DB     healthcode.SMSOutbox
	Sender healthcode.SMSSender
}

// ProcessTask sends the message of t. Errors: a bad payload or a message the
// gateway rejects (sms.ErrRejected) wrap asynq.SkipRetry; a failed send, a
// database error or ctx's error is returned for retry.
func (h *NotifySMSHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := ParseOutboxPayload(t)
	if err != nil {
		return err
	}
	msg, err := h.DB.OpenSMS(p.Payload)
	if err != nil {
		return fmt.Errorf("notify sms outbox %d: %w: %w", p.OutboxID, err, asynq.SkipRetry)
	}
	msg.Key = OutboxTaskID(p.OutboxID)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("notify sms outbox %d: %w", p.OutboxID, err)
	}
	err = h.DB.DeliverOnce(ctx, p.OutboxID, func(ctx context.Context) error {
		serr := h.Sender.Send(ctx, msg)
		if serr != nil && !errors.Is(serr, sms.ErrRejected) {
			return gatewayError{serr}
		}
		return serr
	})
	switch {
	case errors.Is(err, sms.ErrRejected):
		return fmt.Errorf("notify sms outbox %d: %w: %w", p.OutboxID, err, asynq.SkipRetry)
	case err != nil:
		return fmt.Errorf("notify sms outbox %d: %w", p.OutboxID, err)
	}
	return nil
}

// gatewayError is a failed gateway call. It hides the network error inside
// it from healthcode.Unavailable: an outage of the gateway is retried with
// the task's growing backoff and counts against its retries, unlike an
// outage of the platform's own database.
type gatewayError struct{ err error }

func (e gatewayError) Error() string { return e.err.Error() }
