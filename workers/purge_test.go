package workers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
)

type fakeDataPurger struct {
	got healthcode.Retention
	err error
}

func (f *fakeDataPurger) PurgeExpiredData(_ context.Context, r healthcode.Retention, dryRun bool) ([]healthcode.PurgeItem, error) {
	if dryRun {
		return nil, errors.New("the task never dry-runs")
	}
	f.got = r
	return []healthcode.PurgeItem{{Kind: "declarations", Action: "delete", Rows: 3}}, f.err
}

// The daily purge runs with the configured periods (the defaults when none),
// and invalid periods are not retried.
func TestPurgeDataHandler(t *testing.T) {
	t.Parallel()
	task := NewPurgeDataTask(time.Date(2026, 11, 27, 3, 30, 0, 0, Shanghai()))
	if string(task.Payload()) != `{"slot":"2026-11-27"}` || task.Type() != healthcode.TaskPurgeData {
		t.Fatalf("task %s %s", task.Type(), task.Payload())
	}
	p := &fakeDataPurger{}
	if err := (&PurgeDataHandler{Purger: p}).ProcessTask(t.Context(), task); err != nil || p.got != healthcode.DefaultRetention {
		t.Fatalf("default run: %v, %+v", err, p.got)
	}
	custom := healthcode.DefaultRetention
	custom.Tickets = 365 * healthcode.Day
	if err := (&PurgeDataHandler{Purger: p, Retention: custom}).ProcessTask(t.Context(), task); err != nil || p.got != custom {
		t.Fatalf("configured run: %v, %+v", err, p.got)
	}
	p.err = healthcode.Errorf(healthcode.EINVALID, "too short")
	if err := (&PurgeDataHandler{Purger: p}).ProcessTask(t.Context(), task); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("invalid periods: %v", err)
	}
	p.err = errors.New("connection refused")
	if err := (&PurgeDataHandler{Purger: p}).ProcessTask(t.Context(), task); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("storage error: %v", err)
	}
}
