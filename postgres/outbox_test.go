package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

type outboxBundle struct {
	db  *postgres.DB
	ctx context.Context
}

func setupOutbox(t *testing.T) outboxBundle {
	t.Helper()
	return outboxBundle{db: &postgres.DB{Pool: pgtest.New(t)}, ctx: t.Context()}
}

// writeOutbox commits n outbox rows of type test:noop and returns their ids.
func (b outboxBundle) writeOutbox(t *testing.T, n int) []int64 {
	t.Helper()
	var ids []int64
	err := b.db.InTx(b.ctx, func(tx *postgres.Tx) error {
		for i := range n {
			id, err := tx.Outbox(b.ctx, "test:noop", fmt.Appendf(nil, `{"n":%d}`, i), "")
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

type outboxState struct {
	sent      bool
	attempts  int
	lastError string
	available time.Time
}

func (b outboxBundle) state(t *testing.T, id int64) outboxState {
	t.Helper()
	var s outboxState
	err := b.db.Pool.QueryRow(b.ctx, `SELECT sent_at IS NOT NULL, attempts, last_error, available_at
		FROM outbox WHERE id = $1`, id).Scan(&s.sent, &s.attempts, &s.lastError, &s.available)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRelayOutboxSendsInOrderAndMarksSent(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	ids := b.writeOutbox(t, 5)

	var got []int64
	enqueue := func(_ context.Context, row healthcode.OutboxRow) error {
		if row.TaskType != "test:noop" || len(row.Payload) == 0 || row.CreatedAt.IsZero() {
			t.Errorf("row %+v", row)
		}
		got = append(got, row.ID)
		return nil
	}
	res, err := b.db.RelayOutbox(b.ctx, 3, 0, enqueue)
	if err != nil {
		t.Fatal(err)
	}
	if res != (healthcode.OutboxResult{Claimed: 3, Sent: 3}) {
		t.Fatalf("first batch = %+v", res)
	}
	if bl, err := b.db.Backlog(b.ctx); err != nil || bl.Pending != 2 || bl.Unfinished != 3 {
		t.Fatalf("backlog = %+v, %v; want 2 pending, 3 handed over", bl, err)
	}
	res, err = b.db.RelayOutbox(b.ctx, 3, 0, enqueue)
	if err != nil || res != (healthcode.OutboxResult{Claimed: 2, Sent: 2}) {
		t.Fatalf("second batch = %+v, %v", res, err)
	}
	res, err = b.db.RelayOutbox(b.ctx, 3, 0, enqueue)
	if err != nil || res != (healthcode.OutboxResult{}) {
		t.Fatalf("third batch = %+v, %v", res, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("enqueued %v, want %v in order", got, ids)
	}
	for _, id := range ids {
		if s := b.state(t, id); !s.sent || s.attempts != 1 {
			t.Fatalf("outbox %d: %+v", id, s)
		}
	}
	// Handed over is not done: the rows stay the outbox's until their
	// tasks finish.
	if bl, _ := b.db.Backlog(b.ctx); bl.Pending != 0 || bl.Unfinished != 5 {
		t.Fatalf("backlog = %+v; want 5 handed over, unfinished", bl)
	}
}

// TestOutboxOwnsTaskUntilDone: a handed-over row whose task never started is
// handed over again after the bound (the queue lost it: Redis restarted
// empty), under the same task id; a running task (live lease) is left alone;
// one whose worker died (lease ran out) is taken over under the next
// generation; a completed task's row is never handed over again, and a
// duplicate run of it finds nothing to do.
func TestOutboxOwnsTaskUntilDone(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	ids := b.writeOutbox(t, 3)
	relay := func(bound time.Duration) map[int64]int {
		t.Helper()
		got := map[int64]int{}
		if _, err := b.db.RelayOutbox(b.ctx, 10, bound, func(_ context.Context, row healthcode.OutboxRow) error {
			got[row.ID] = row.Generation
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := relay(time.Hour); len(got) != 3 {
		t.Fatalf("first hand-over %v", got)
	}
	if got := relay(time.Hour); len(got) != 0 {
		t.Fatalf("handed over again within the bound: %v", got)
	}
	// ids[0] runs on worker w1; ids[1] runs on w2, which dies.
	for i, w := range []string{"w1", "w2"} {
		if ok, err := b.db.ClaimOutboxTask(b.ctx, ids[i], w, time.Minute); err != nil || !ok {
			t.Fatalf("claim %d by %s: %v %v", ids[i], w, ok, err)
		}
	}
	if ok, err := b.db.ClaimOutboxTask(b.ctx, ids[0], "w2", time.Minute); err != nil || ok {
		t.Fatalf("a second worker claimed a running task: %v %v", ok, err)
	}
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE outbox SET lease_until = clock_timestamp() - interval '1 second' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err) // w2's lease ran out
	}
	// Past the bound (0 s): the unstarted row again under the same task
	// id, the dead worker's under the next generation, the running one not.
	got := relay(time.Nanosecond)
	if len(got) != 2 || got[ids[1]] != 1 || got[ids[2]] != 0 {
		t.Fatalf("after the bound: %v, want {%d: 1, %d: 0}", got, ids[1], ids[2])
	}
	if err := b.db.ExtendOutboxLeases(b.ctx, []int64{ids[0]}, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	// Each finishes: the rows are done and never handed over again.
	if err := b.db.FinishOutboxTask(b.ctx, ids[0], "w1", healthcode.OutboxCompleted, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.db.ClaimOutboxTask(b.ctx, ids[1], "w3", time.Minute); err != nil || !ok {
		t.Fatalf("takeover claim: %v %v", ok, err)
	}
	if err := b.db.FinishOutboxTask(b.ctx, ids[1], "w3", healthcode.OutboxArchived, errors.New("bad payload")); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.db.ClaimOutboxTask(b.ctx, ids[1], "w2", time.Minute); err != nil || ok {
		t.Fatalf("the dead worker's task, run again by the queue, claimed a done row: %v %v", ok, err)
	}
	if ok, _ := b.db.ClaimOutboxTask(b.ctx, ids[2], "w1", time.Minute); !ok {
		t.Fatal("claim of the re-handed row")
	}
	if err := b.db.FinishOutboxTask(b.ctx, ids[2], "w1", healthcode.OutboxRetry, errors.New("database down")); err != nil {
		t.Fatal(err)
	}
	bl, err := b.db.Backlog(b.ctx)
	if err != nil || bl.Pending != 0 || bl.Unfinished != 1 || bl.Running != 0 || bl.Failed != 1 {
		t.Fatalf("backlog %+v %v: want ids[2] unfinished (released for retry), ids[1] failed", bl, err)
	}
	if got := relay(time.Nanosecond); len(got) != 1 || got[ids[2]] != 0 {
		t.Fatalf("done rows handed over again: %v", got)
	}
}

func TestRelayOutboxFailureBacksOffAndLeavesTheRest(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	ids := b.writeOutbox(t, 3)

	before := time.Now()
	res, err := b.db.RelayOutbox(b.ctx, 10, 0, func(_ context.Context, row healthcode.OutboxRow) error {
		if row.ID == ids[1] {
			return errors.New("redis down")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Claimed != 3 || res.Sent != 1 || res.Failed != 1 || res.Err == nil || res.Err.Error() != "redis down" {
		t.Fatalf("result = %+v", res)
	}
	if s := b.state(t, ids[0]); !s.sent {
		t.Fatalf("first row not sent: %+v", s)
	}
	s := b.state(t, ids[1])
	if s.sent || s.attempts != 1 || s.lastError != "redis down" || s.available.Before(before.Add(500*time.Millisecond)) {
		t.Fatalf("failed row: %+v", s)
	}
	if s := b.state(t, ids[2]); s.sent || s.attempts != 0 || s.lastError != "" {
		t.Fatalf("untried row was touched: %+v", s)
	}

	// The failed row waits out its backoff; the untried one goes next.
	var got []int64
	res, err = b.db.RelayOutbox(b.ctx, 10, 0, func(_ context.Context, row healthcode.OutboxRow) error {
		got = append(got, row.ID)
		return nil
	})
	if err != nil || res.Sent != 1 || len(got) != 1 || got[0] != ids[2] {
		t.Fatalf("second call: %+v %v %v", res, got, err)
	}
}

func TestRelayOutboxSkipsLockedRows(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	b.writeOutbox(t, 4)

	// The first relay holds its batch (2 rows) until the second has run.
	held := make(chan struct{})
	release := make(chan struct{})
	var first []int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := b.db.RelayOutbox(b.ctx, 2, 0, func(_ context.Context, row healthcode.OutboxRow) error {
			first = append(first, row.ID)
			if len(first) == 1 {
				close(held)
				<-release
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-held
	var second []int64
	_, err := b.db.RelayOutbox(b.ctx, 10, 0, func(_ context.Context, row healthcode.OutboxRow) error {
		second = append(second, row.ID)
		return nil
	})
	close(release)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(second) != 2 {
		t.Fatalf("first %v, second %v: want 2 each", first, second)
	}
	for _, a := range first {
		for _, b := range second {
			if a == b {
				t.Fatalf("row %d claimed twice", a)
			}
		}
	}
}

func TestOutboxBackoff(t *testing.T) {
	t.Parallel()
	for attempts, want := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 9: 256 * time.Second,
		10: 5 * time.Minute, 100: 5 * time.Minute,
	} {
		if got := postgres.OutboxBackoff(attempts); got != want {
			t.Errorf("OutboxBackoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}
