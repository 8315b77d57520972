package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

func nationalTask(typ string, retries int) func(time.Time) *asynq.Task {
	return func(at time.Time) *asynq.Task {
		day := at.In(Shanghai()).AddDate(0, 0, -1).Format("2006-01-02")
		b, _ := json.Marshal(healthcode.DayPayload{Day: day})
		return asynq.NewTask(typ, b, asynq.Queue(QueueDefault), asynq.MaxRetry(retries), asynq.Timeout(30*time.Minute),
			asynq.Retention(48*time.Hour), asynq.TaskID(PeriodicTaskID(typ, day)))
	}
}

// NationalSchedule returns the periodic tasks of the national push; Run adds
// them when a push is configured.
func NationalSchedule() []PeriodicTask {
	return []PeriodicTask{
		{Cron: "30 0 * * *", Task: nationalTask(healthcode.TaskNationalPush, 10)},
		{Cron: "30 9 * * *", Task: nationalTask(healthcode.TaskNationalCheck, 3)},
	}
}

// NationalHandler handles the national push and its 09:30 check; both are
// idempotent per day.
type NationalHandler struct {
	Push healthcode.NationalPusher
}

// ProcessTask runs one push or check. Errors: a bad payload wraps SkipRetry;
// a failed send is returned so asynq retries with backoff.
func (h *NationalHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p healthcode.DayPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode %s: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	day, err := time.ParseInLocation("2006-01-02", p.Day, Shanghai())
	if err != nil {
		return fmt.Errorf("decode %s day: %w", t.Type(), asynq.SkipRetry)
	}
	if t.Type() == healthcode.TaskNationalCheck {
		_, err := h.Push.CheckPush(ctx, day)
		return err
	}
	return h.Push.Push(ctx, day)
}
