package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

// NewRankingReportsTask builds the task of the day of at, with the day in
// its task id ("supervision:ranking_reports:2026-11-27"). The scheduler calls
// it.
func NewRankingReportsTask(at time.Time) *asynq.Task {
	day := at.In(Shanghai()).Format("2006-01-02")
	b, _ := json.Marshal(healthcode.DayPayload{Day: day})
	return asynq.NewTask(healthcode.TaskRankingReports, b, asynq.Queue(QueueLow), asynq.MaxRetry(5), asynq.Timeout(10*time.Minute),
		asynq.Retention(48*time.Hour), asynq.TaskID(PeriodicTaskID(healthcode.TaskRankingReports, day)))
}

// RankingWeekBefore returns the Monday of the week before the one that
// contains day (in Asia/Shanghai): the week a Friday's reports rank.
func RankingWeekBefore(day time.Time) time.Time {
	d := day.In(Shanghai())
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, d.Location())
	offset := (int(d.Weekday()) + 6) % 7 // Monday = 0
	return d.AddDate(0, 0, -offset-7)
}

// RankingReportsHandler handles supervision:ranking_reports. It stores a
// report only where none exists for the week, so running it again changes
// nothing and a published report is never replaced.
type RankingReportsHandler struct {
	Rankings healthcode.RankingGenerator
}

// ProcessTask generates the reports. Errors: a bad payload wraps SkipRetry;
// database errors are returned for retry.
func (h *RankingReportsHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p healthcode.DayPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode %s: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	day, err := time.ParseInLocation("2006-01-02", p.Day, Shanghai())
	if err != nil {
		return fmt.Errorf("decode %s day: %w", t.Type(), asynq.SkipRetry)
	}
	_, err = h.Rankings.GenerateWeek(healthcode.NewContextWithActor(ctx, healthcode.SystemActor), RankingWeekBefore(day))
	return err
}
