package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

// NewWeeklyDraftsTask builds the task of the week that contains at, with the
// day in its task id.
func NewWeeklyDraftsTask(at time.Time) *asynq.Task {
	day := at.In(Shanghai()).Format("2006-01-02")
	b, _ := json.Marshal(healthcode.DayPayload{Day: day})
	return asynq.NewTask(healthcode.TaskWeeklyDrafts, b, asynq.Queue(QueueLow), asynq.MaxRetry(5), asynq.Timeout(10*time.Minute),
		asynq.Retention(48*time.Hour), asynq.TaskID(PeriodicTaskID(healthcode.TaskWeeklyDrafts, day)))
}

// WeeklyDraftsHandler handles supervision:weekly_drafts; generating again
// refreshes drafts and keeps submitted reports, so it is idempotent.
type WeeklyDraftsHandler struct {
	Supervision healthcode.SupervisionService
}

// ProcessTask generates the drafts. Errors: a bad payload wraps SkipRetry;
// database errors are returned for retry.
func (h *WeeklyDraftsHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p healthcode.DayPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode %s: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	day, err := time.ParseInLocation("2006-01-02", p.Day, Shanghai())
	if err != nil {
		return fmt.Errorf("decode %s day: %w", t.Type(), asynq.SkipRetry)
	}
	_, err = h.Supervision.GenerateWeeklyDrafts(healthcode.NewContextWithActor(ctx, healthcode.SystemActor), day.Add(8*time.Hour))
	return err
}
