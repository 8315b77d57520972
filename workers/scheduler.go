package workers

import (
	"context"
	"encoding/json"
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
// time slot (its type, payload and options). The scheduler writes one
// outbox row per slot (healthcode.PeriodicDedupKey), and the relay builds the
// task with the constructor and hands it over under the row's task id, so
// the slot id the constructor may set serves only callers that enqueue it
// directly (the CLI, tests).
type PeriodicTask struct {
	Cron string
	Task func(slot time.Time) *asynq.Task
}

// DefaultSchedule returns the platform's periodic tasks: purge_auth hourly;
// purge_data daily at 03:30;
// the re-evaluation of due codes and the hotline deadlines every minute; the
// weekly report drafts on Friday at 08:00; the ranking reports of the
// previous week on Friday at 17:00; the indicators every five minutes; the
// audit anchor every ten minutes. Run uses it.
func DefaultSchedule() []PeriodicTask {
	return []PeriodicTask{
		{Cron: "0 * * * *", Task: NewPurgeAuthTask},
		{Cron: "* * * * *", Task: NewReevaluateDueTask},
		{Cron: "* * * * *", Task: NewTicketDeadlinesTask},
		{Cron: "0 8 * * 5", Task: NewWeeklyDraftsTask},
		{Cron: "0 17 * * 5", Task: NewRankingReportsTask},
		{Cron: IndicatorsRecomputeCron, Task: NewIndicatorsRecomputeTask},
		{Cron: AuditAnchorCron, Task: NewAuditAnchorTask},
		{Cron: "30 3 * * *", Task: NewPurgeDataTask},
	}
}

// SlotWriter records the task of one periodic time slot; the outbox
// (healthcode.Outbox) implements it (ScheduleSlot: an outbox row with the slot in its dedup key).
type SlotWriter interface {
	ScheduleSlot(ctx context.Context, taskType string, slot time.Time, payload []byte) (bool, error)
}

// SlotPayload is the outbox payload of a periodic slot; the Relay builds the
// slot's task from it with the schedule's constructor.
type SlotPayload struct {
	Slot time.Time `json:"slot"`
}

// CatchUpHorizon is how far back a starting scheduler looks for the latest
// slot of each periodic task: a week and a day, so the Friday tasks missed
// while no worker ran (08:00 drafts, 17:00 rankings) are caught up on Monday.
const CatchUpHorizon = 8 * 24 * time.Hour

// Scheduler writes the tasks of periodic time slots to the outbox at their
// cron times (SlotWriter), one row per slot however many schedulers run (one
// per worker process), and the outbox hands them to the queue like any task,
// again if the queue loses them. When it starts it first catches up the
// latest slot of each task within CatchUpHorizon, so a slot that passed while
// no worker ran (a Friday 08:00 or 17:00) runs when one starts; a slot
// already written is not written again. Run calls it; tests may run it alone.
type Scheduler struct {
	Slots SlotWriter
	// Location is the time zone of the cron specs (default Asia/Shanghai).
	Location *time.Location
	Tasks    []PeriodicTask
	Logger   *slog.Logger
	// Clock is the platform's clock (default: the wall clock). Slots are
	// read on it, so a dev clock moved ahead fires the next slot of the new
	// time within a minute.
	Clock healthcode.Clock

	// wait waits for d (at most a minute) or ctx; tests replace it to move
	// a fake clock instead of sleeping.
	wait func(ctx context.Context, d time.Duration) bool
}

// allPeriodic maps the task type of every periodic task a scheduler of any
// worker may write (the default and national schedules, and schedule) to
// its constructor: a relay must build a slot's own task even when its own
// process does not schedule that task.
func allPeriodic(schedule []PeriodicTask) map[string]func(time.Time) *asynq.Task {
	all := append(append(DefaultSchedule(), NationalSchedule()...), schedule...)
	return periodicConstructors(all)
}

// periodicConstructors maps each task type of schedule to its constructor.
func periodicConstructors(schedule []PeriodicTask) map[string]func(time.Time) *asynq.Task {
	m := make(map[string]func(time.Time) *asynq.Task, len(schedule))
	for _, pt := range schedule {
		m[pt.Task(time.Unix(0, 0)).Type()] = pt.Task
	}
	return m
}

// Shanghai returns the Asia/Shanghai location, or the fixed UTC+8 zone
// (China has no daylight saving time) when the system has no zone data.
func Shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return healthcode.CST
}

// Run catches up the latest slot of each task, then writes each slot at its
// time until ctx is done, and then returns nil. Errors: an invalid cron spec
// (before anything runs). Write failures are retried for a minute, then
// logged and the slot left to the next start's catch-up.
func (s *Scheduler) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = Shanghai()
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := time.Now
	if s.Clock != nil {
		now = s.Clock.Now
	}
	wait := s.wait
	if wait == nil {
		wait = sleep
	}
	schedules := make([]cron.Schedule, len(s.Tasks))
	for i, pt := range s.Tasks {
		sch, err := cron.ParseStandard(pt.Cron)
		if err != nil {
			return fmt.Errorf("parse cron spec %q: %w", pt.Cron, err)
		}
		schedules[i] = sch
	}
	// Catch up: the latest slot of each task not after now.
	start := now().In(loc)
	for i, pt := range s.Tasks {
		if slot, ok := latestSlot(schedules[i], start); ok {
			task := pt.Task(slot)
			written, err := s.write(ctx, wait, task.Type(), slot)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				logger.Error("scheduler could not catch up a slot", "task", task.Type(), "slot", slot, "err", err)
			} else if written {
				logger.Info("scheduler caught up a slot", "task", task.Type(), "slot", slot)
			}
		}
	}
	var wg sync.WaitGroup
	for i, pt := range s.Tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				slot := schedules[i].Next(now().In(loc))
				// Wait a minute at most at a time: the clock may be moved
				// meanwhile (dev mode).
				for d := slot.Sub(now()); d > 0; d = slot.Sub(now()) {
					if !wait(ctx, min(d, time.Minute)) {
						return
					}
				}
				taskType := pt.Task(slot).Type()
				if _, err := s.write(ctx, wait, taskType, slot); err != nil {
					if ctx.Err() != nil {
						return
					}
					logger.Error("scheduler skipped a slot", "task", taskType, "slot", slot, "err", err)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// latestSlot returns the latest time of sch not after now and within
// CatchUpHorizon before it.
func latestSlot(sch cron.Schedule, now time.Time) (time.Time, bool) {
	var last time.Time
	for t := sch.Next(now.Add(-CatchUpHorizon)); !t.IsZero() && !t.After(now); t = sch.Next(t) {
		last = t
	}
	return last, !last.IsZero()
}

// write records the slot, retrying for about a minute.
func (s *Scheduler) write(ctx context.Context, wait func(context.Context, time.Duration) bool, taskType string, slot time.Time) (bool, error) {
	payload, _ := json.Marshal(SlotPayload{Slot: slot}) // cannot fail
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 && !wait(ctx, 10*time.Second) {
			return false, ctx.Err()
		}
		var written bool
		if written, err = s.Slots.ScheduleSlot(ctx, taskType, slot, payload); err == nil {
			return written, nil
		}
	}
	return false, fmt.Errorf("schedule %s: %w", taskType, err)
}
