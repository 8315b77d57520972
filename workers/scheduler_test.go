package workers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/devenv/redistest"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// fakeClock stands still until a fakeWait moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// fakeWait returns a Scheduler.wait that moves clock instead of sleeping,
// and cancels the run (stop) once the clock has reached until.
func fakeWait(clock *fakeClock, until time.Time, stop func()) func(context.Context, time.Duration) bool {
	return func(ctx context.Context, d time.Duration) bool {
		clock.mu.Lock()
		defer clock.mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
		if !clock.t.Before(until) {
			stop()
			return false
		}
		clock.t = clock.t.Add(d)
		return true
	}
}

// slotRows returns the dedup keys of the periodic rows in the outbox.
func slotRows(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(t.Context(), `SELECT dedup_key FROM outbox WHERE dedup_key LIKE 'periodic:%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func testDB(t *testing.T) *postgres.DB {
	return &postgres.DB{Pool: pgtest.New(t)}
}

var tick = PeriodicTask{Cron: "* * * * *", Task: func(slot time.Time) *asynq.Task {
	return asynq.NewTask("test:tick", nil, asynq.Queue(QueueLow))
}}

// TestSchedulersWriteEachSlotOnce runs two schedulers (two worker
// processes) across minute boundaries on a moved clock: each slot is
// written to the outbox once, with the slot in its dedup key.
func TestSchedulersWriteEachSlotOnce(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	loc := Shanghai()
	start := time.Date(2026, 11, 27, 18, 4, 30, 0, loc) // a Friday, 18:04:30
	var wg sync.WaitGroup
	for range 2 {
		clock := &fakeClock{t: start}
		ctx, stop := context.WithCancel(t.Context())
		s := &Scheduler{Slots: db, Location: loc, Tasks: []PeriodicTask{tick}, Clock: clock,
			wait: fakeWait(clock, start.Add(90*time.Second), stop)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stop()
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := []string{}
	for _, m := range []string{"18:04", "18:05", "18:06"} {
		slot, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 "+m, loc)
		want = append(want, healthcode.PeriodicDedupKey("test:tick", slot))
	}
	if got := slotRows(t, db); !slices.Equal(got, want) {
		t.Fatalf("slots %v, want %v (18:04 caught up at the start, 18:05 and 18:06 on time)", got, want)
	}
}

// The scheduler reads its slots on the platform's clock (Clock): with the
// dev clock 15 days ahead, the slot written is the dev clock's minute.
func TestSchedulerFollowsThePlatformClock(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	loc := Shanghai()
	dev := &healthcode.OffsetClock{}
	dev.Advance(15 * 24 * time.Hour)
	boundary := dev.Now().In(loc).Truncate(time.Minute).Add(time.Minute)
	clock := &fakeClock{t: boundary.Add(-500 * time.Millisecond)} // the dev clock, held still
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	s := &Scheduler{Slots: db, Location: loc, Tasks: []PeriodicTask{tick}, Clock: clock,
		wait: fakeWait(clock, boundary.Add(time.Second), stop)}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := healthcode.PeriodicDedupKey("test:tick", boundary)
	if got := slotRows(t, db); !slices.Contains(got, want) {
		t.Fatalf("slots %v, want %s (the dev clock's minute)", got, want)
	}
}

// A worker that starts on a Friday at 17:30 after none ran all day catches
// up the day's 08:00 drafts and 17:00 rankings, and the latest slot of the
// frequent tasks, once however many workers start; the relay then hands
// each over as the schedule's own task.
func TestSchedulerCatchesUpMissedSlots(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	opt, err := asynq.ParseRedisURI(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	loc := Shanghai()
	friday := time.Date(2026, 11, 27, 17, 30, 0, 0, loc)
	for range 2 {
		clock := &fakeClock{t: friday}
		ctx, stop := context.WithCancel(t.Context())
		s := &Scheduler{Slots: db, Location: loc, Tasks: DefaultSchedule(), Clock: clock,
			wait: func(context.Context, time.Duration) bool { stop(); return false }}
		if err := s.Run(ctx); err != nil {
			t.Fatal(err)
		}
		stop()
	}
	at := func(hm string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 "+hm, loc)
		return t
	}
	want := []string{
		healthcode.PeriodicDedupKey(healthcode.TaskPurgeAuth, at("17:00")),
		healthcode.PeriodicDedupKey(healthcode.TaskReevaluateDue, at("17:30")),
		healthcode.PeriodicDedupKey(healthcode.TaskTicketDeadlines, at("17:30")),
		healthcode.PeriodicDedupKey(healthcode.TaskWeeklyDrafts, at("08:00")),
		healthcode.PeriodicDedupKey(healthcode.TaskRankingReports, at("17:00")),
		healthcode.PeriodicDedupKey(healthcode.TaskIndicatorsRecompute, at("17:30")),
		healthcode.PeriodicDedupKey(healthcode.TaskAuditAnchor, at("17:30")),
		healthcode.PeriodicDedupKey(healthcode.TaskPurgeData, at("03:30")),
	}
	if got := slotRows(t, db); !slices.Equal(got, want) {
		t.Fatalf("caught up %v, want %v", got, want)
	}
	relay := &Relay{Outbox: db, Queue: client}
	if n, err := relay.Drain(t.Context()); err != nil || n != len(want) {
		t.Fatalf("relayed %d, %v", n, err)
	}
	var id int64
	if err := db.Pool.QueryRow(t.Context(), "SELECT id FROM outbox WHERE dedup_key = $1",
		healthcode.PeriodicDedupKey(healthcode.TaskRankingReports, at("17:00"))).Scan(&id); err != nil {
		t.Fatal(err)
	}
	info, err := insp.GetTaskInfo(QueueLow, OutboxTaskID(id))
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != healthcode.TaskRankingReports || string(info.Payload) != `{"day":"2026-11-27"}` {
		t.Fatalf("ranking task %s %s", info.Type, info.Payload)
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
	if len(s) != 8 || s[6].Cron != AuditAnchorCron || s[6].Task(time.Unix(0, 0)).Type() != healthcode.TaskAuditAnchor || s[0].Cron != "0 * * * *" || s[1].Cron != "* * * * *" || s[2].Cron != "* * * * *" || s[3].Cron != "0 8 * * 5" ||
		s[4].Cron != "0 17 * * 5" || s[5].Cron != "*/5 * * * *" || s[7].Cron != "30 3 * * *" {
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
