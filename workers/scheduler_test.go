package workers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
	"healthcode/devenv/redistest"
)

// TestSchedulersEnqueueEachSlotOnce runs two schedulers (two worker
// processes) across a minute boundary: the slot's task is enqueued once,
// with the slot in its task id.
func TestSchedulersEnqueueEachSlotOnce(t *testing.T) {
	t.Parallel()
	opt, err := asynq.ParseRedisURI(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	loc := Shanghai()
	// A clock 500 ms before the next minute boundary.
	real := time.Now()
	boundary := real.In(loc).Truncate(time.Minute).Add(time.Minute)
	offset := boundary.Sub(real) - 500*time.Millisecond
	now := func() time.Time { return time.Now().Add(offset) }
	every := PeriodicTask{Cron: "* * * * *", Task: func(slot time.Time) *asynq.Task {
		id := PeriodicTaskID("test:tick", slot.Format("2006-01-02T15:04"))
		return asynq.NewTask("test:tick", nil, asynq.TaskID(id), asynq.Queue(QueueLow), asynq.Retention(time.Hour))
	}}

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		s := &Scheduler{Queue: client, Location: loc, Tasks: []PeriodicTask{every}, now: now}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	stop()
	wg.Wait()

	tasks, err := insp.ListPendingTasks(QueueLow)
	if err != nil {
		t.Fatal(err)
	}
	want := "test:tick:" + boundary.Format("2006-01-02T15:04")
	if len(tasks) != 1 || tasks[0].ID != want {
		ids := []string{}
		for _, ti := range tasks {
			ids = append(ids, ti.ID)
		}
		t.Fatalf("tasks %v, want [%s]", ids, want)
	}
}

// The scheduler reads its slots on the platform's clock (Clock): with the
// dev clock 15 days ahead, the slot enqueued is the dev clock's minute.
func TestSchedulerFollowsThePlatformClock(t *testing.T) {
	t.Parallel()
	opt, err := asynq.ParseRedisURI(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	loc := Shanghai()
	clock := &healthcode.OffsetClock{}
	clock.Advance(15 * 24 * time.Hour)
	boundary := clock.Now().In(loc).Truncate(time.Minute).Add(time.Minute)
	clock.Set(boundary.Add(-500 * time.Millisecond))
	every := PeriodicTask{Cron: "* * * * *", Task: func(slot time.Time) *asynq.Task {
		id := PeriodicTaskID("test:tick", slot.Format("2006-01-02T15:04"))
		return asynq.NewTask("test:tick", nil, asynq.TaskID(id), asynq.Queue(QueueLow), asynq.Retention(time.Hour))
	}}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- (&Scheduler{Queue: client, Location: loc, Tasks: []PeriodicTask{every}, Clock: clock}).Run(ctx)
	}()
	time.Sleep(1500 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tasks, err := insp.ListPendingTasks(QueueLow)
	if err != nil {
		t.Fatal(err)
	}
	want := "test:tick:" + boundary.Format("2006-01-02T15:04")
	if len(tasks) != 1 || tasks[0].ID != want {
		ids := []string{}
		for _, ti := range tasks {
			ids = append(ids, ti.ID)
		}
		t.Fatalf("tasks %v, want [%s] (the dev clock's minute)", ids, want)
	}
}

func TestSchedulerRejectsBadSpec(t *testing.T) {
	t.Parallel()
	s := &Scheduler{Tasks: []PeriodicTask{{Cron: "every hour", Task: NewPurgeAuthTask}}}
	if err := s.Run(t.Context()); err == nil {
		t.Fatal("bad cron spec accepted")
	}
}

func TestDefaultSchedule(t *testing.T) {
	t.Parallel()
	s := DefaultSchedule()
	if len(s) != 6 || s[0].Cron != "0 * * * *" || s[1].Cron != "* * * * *" || s[2].Cron != "* * * * *" || s[3].Cron != "0 8 * * 5" ||
		s[4].Cron != "0 17 * * 5" || s[5].Cron != "*/5 * * * *" {
		t.Fatalf("schedule %+v", s)
	}
	at := time.Date(2026, 11, 27, 18, 0, 0, 0, Shanghai())
	if task := s[0].Task(at); string(task.Payload()) != `{"slot":"2026-11-27T18"}` {
		t.Fatalf("purge payload %s", task.Payload())
	}
	if task := s[1].Task(at.Add(5 * time.Minute)); task.Type() != healthcode.TaskReevaluateDue || string(task.Payload()) != `{"slot":"2026-11-27T18:05"}` {
		t.Fatalf("due task %s %s", task.Type(), task.Payload())
	}
	task := s[5].Task(at.Add(10 * time.Minute))
	if id := PeriodicTaskID(task.Type(), "2026-11-27T18:10"); task.Type() != healthcode.TaskIndicatorsRecompute || id != "indicators:recompute:2026-11-27T18:10" {
		t.Fatalf("indicators task %s %s", task.Type(), id)
	}
}
