package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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
	enqueue := func(_ context.Context, row postgres.OutboxRow) error {
		if row.TaskType != "test:noop" || len(row.Payload) == 0 || row.CreatedAt.IsZero() {
			t.Errorf("row %+v", row)
		}
		got = append(got, row.ID)
		return nil
	}
	res, err := b.db.RelayOutbox(b.ctx, 3, enqueue)
	if err != nil {
		t.Fatal(err)
	}
	if res != (postgres.OutboxResult{Claimed: 3, Sent: 3}) {
		t.Fatalf("first batch = %+v", res)
	}
	if n, err := b.db.PendingOutbox(b.ctx); err != nil || n != 2 {
		t.Fatalf("pending = %d, %v; want 2", n, err)
	}
	res, err = b.db.RelayOutbox(b.ctx, 3, enqueue)
	if err != nil || res != (postgres.OutboxResult{Claimed: 2, Sent: 2}) {
		t.Fatalf("second batch = %+v, %v", res, err)
	}
	res, err = b.db.RelayOutbox(b.ctx, 3, enqueue)
	if err != nil || res != (postgres.OutboxResult{}) {
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
	if n, _ := b.db.PendingOutbox(b.ctx); n != 0 {
		t.Fatalf("pending = %d", n)
	}
}

func TestRelayOutboxFailureBacksOffAndLeavesTheRest(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	ids := b.writeOutbox(t, 3)

	before := time.Now()
	res, err := b.db.RelayOutbox(b.ctx, 10, func(_ context.Context, row postgres.OutboxRow) error {
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
	res, err = b.db.RelayOutbox(b.ctx, 10, func(_ context.Context, row postgres.OutboxRow) error {
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
		_, err := b.db.RelayOutbox(b.ctx, 2, func(_ context.Context, row postgres.OutboxRow) error {
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
	_, err := b.db.RelayOutbox(b.ctx, 10, func(_ context.Context, row postgres.OutboxRow) error {
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
