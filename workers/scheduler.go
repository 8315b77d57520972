package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"healthcode"
)

// PeriodicTask is one entry of the schedule: a standard five-field cron spec,
// read in the scheduler's location, and the constructor of the task of one
// time slot. The constructor must put the slot in the task id (see
// PeriodicTaskID) so that every scheduler enqueues a slot's task once.
type PeriodicTask struct {
	Cron string
	Task func(slot time.Time) *asynq.Task
}

// DefaultSchedule returns the platform's periodic tasks: purge_auth hourly;
// the re-evaluation of due codes and the hotline deadlines every minute; the
// weekly report drafts on Friday at 08:00; the ranking reports of the
// previous week on Friday at 17:00; the indicators every five minutes. Run
// uses it.
func DefaultSchedule() []PeriodicTask {
	return []PeriodicTask{
		{Cron: "0 * * * *", Task: NewPurgeAuthTask},
		{Cron: "* * * * *", Task: NewReevaluateDueTask},
		{Cron: "* * * * *", Task: NewTicketDeadlinesTask},
		{Cron: "0 8 * * 5", Task: NewWeeklyDraftsTask},
		{Cron: "0 17 * * 5", Task: NewRankingReportsTask},
		{Cron: IndicatorsRecomputeCron, Task: NewIndicatorsRecomputeTask},
	}
}

// Scheduler enqueues periodic tasks at their cron times. Unlike
// asynq.Scheduler, whose enqueue options are fixed when a task is
// registered, it builds each task for its time slot, so the task id carries
// the slot ("maintenance:purge_auth:2026-11-27T18"): with one scheduler per
// worker process, the first enqueue of a slot wins and the others get
// asynq.ErrTaskIDConflict, which is not an error here. A slot that passes
// while no scheduler runs is skipped. Run calls it; tests may run it alone.
type Scheduler struct {
	Queue Enqueuer
	// Location is the time zone of the cron specs (default Asia/Shanghai).
	Location *time.Location
	Tasks    []PeriodicTask
	Logger   *slog.Logger
	// Clock is the platform's clock (default: the wall clock). Slots are
	// read on it, so a dev clock moved ahead fires the next slot of the new
	// time within a minute.
	Clock healthcode.Clock

	now func() time.Time // tests move the clock
}

// Shanghai returns the Asia/Shanghai location, or the fixed UTC+8 zone
// (China has no daylight saving time) when the system has no zone data.
func Shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return healthcode.CST
}

// Run enqueues each task at its times until ctx is done and then returns
// nil. Errors: an invalid cron spec (before anything runs). Enqueue failures
// are retried for a minute, then logged and the slot skipped.
func (s *Scheduler) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = Shanghai()
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := s.now
	if now == nil && s.Clock != nil {
		now = s.Clock.Now
	}
	if now == nil {
		now = time.Now
	}
	schedules := make([]cron.Schedule, len(s.Tasks))
	for i, pt := range s.Tasks {
		sch, err := cron.ParseStandard(pt.Cron)
		if err != nil {
			return fmt.Errorf("parse cron spec %q: %w", pt.Cron, err)
		}
		schedules[i] = sch
	}
	var wg sync.WaitGroup
	for i, pt := range s.Tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				slot := schedules[i].Next(now().In(loc))
				// Sleep a minute at most at a time: the clock may be moved
				// meanwhile (dev mode).
				for wait := slot.Sub(now()); wait > 0; wait = slot.Sub(now()) {
					if !sleep(ctx, min(wait, time.Minute)) {
						return
					}
				}
				task := pt.Task(slot)
				if err := s.enqueue(ctx, task); err != nil {
					if ctx.Err() != nil {
						return
					}
					logger.Error("scheduler skipped a slot", "task", task.Type(), "slot", slot, "err", err)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// enqueue enqueues task, retrying for about a minute; a task id conflict
// means another scheduler enqueued the slot first.
func (s *Scheduler) enqueue(ctx context.Context, task *asynq.Task) error {
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 && !sleep(ctx, 10*time.Second) {
			return ctx.Err()
		}
		_, err = s.Queue.EnqueueContext(ctx, task)
		if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
	}
	return fmt.Errorf("enqueue %s: %w", task.Type(), err)
}
