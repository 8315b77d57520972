package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/devenv/redistest"
)

func localPair(t *testing.T) (a, b *Local, clock *healthcode.OffsetClock, c *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	c = redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	clock = &healthcode.OffsetClock{}
	clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	shared := &Redis{Client: c, Clock: clock}
	return &Local{Shared: shared}, &Local{Shared: shared}, clock, c
}

func allowed(t *testing.T, l *Local, key string, lim healthcode.Limit) bool {
	t.Helper()
	wait, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatal(err)
	}
	return wait == 0
}

// One replica alone limits exactly as the Redis limiter does, and its counts
// reach Redis: a second replica (or the Redis limiter) sees them after a
// sync, and a replica that met the key earlier adopts them at its next sync.
func TestLocalSharesCounts(t *testing.T) {
	t.Parallel()
	a, b, clock, c := localPair(t)
	ctx := context.Background()
	l := healthcode.Limit{Events: 3, Per: time.Minute}
	if !allowed(t, b, "k", l) { // b meets the key first (one event)
		t.Fatal("b's first event refused")
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if !allowed(t, a, "k", l) {
			t.Fatalf("a's event %d refused", i)
		}
	}
	wait, err := a.Allow(ctx, "k", l)
	if err != nil || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("a's third event after b's one: wait %v, %v; want (0, 20s]", wait, err)
	}
	// b has not synced since: its stale view admits one more (the bound).
	if !allowed(t, b, "k", l) {
		t.Fatal("b refused before syncing")
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if allowed(t, b, "k", l) {
		t.Fatal("b admitted an event after syncing a's two")
	}
	// The exact limiter reads the same key.
	if w, err := (&Redis{Client: c, Clock: clock}).Allow(ctx, "k", l); err != nil || w <= 0 {
		t.Fatalf("the Redis limiter after the syncs: %v %v; want a wait", w, err)
	}
	// A third replica meets the key late and reads the shared state.
	third := &Local{Shared: &Redis{Client: c, Clock: clock}}
	if allowed(t, third, "k", l) {
		t.Fatal("a replica meeting the key late admitted an event")
	}
	// Time passes: all admit again; keys idle for Idle are forgotten.
	clock.Advance(time.Minute)
	if !allowed(t, a, "k", l) || !allowed(t, a, "other", l) {
		t.Fatal("refused after the period")
	}
	clock.Advance(2 * time.Minute)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	n := len(a.keys)
	a.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys kept after two idle minutes", n)
	}
}

// While Redis cannot be reached, Allow answers an error (the GraphQL layer
// then fails open or closed), and the events counted meanwhile go to Redis
// with the first sync that works.
func TestLocalRedisDown(t *testing.T) {
	t.Parallel()
	a, _, clock, c := localPair(t)
	ctx := context.Background()
	l := healthcode.Limit{Events: 5, Per: time.Minute}
	if !allowed(t, a, "k", l) || !allowed(t, a, "k", l) {
		t.Fatal("refused")
	}
	good := a.Shared.Client
	opt := c.Options()
	down := *opt
	down.Addr = "127.0.0.1:1" // nothing listens there
	dc := redis.NewClient(&down)
	defer dc.Close()
	a.Shared = &Redis{Client: dc, Clock: clock}
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush without Redis: no error")
	}
	if _, err := a.Allow(ctx, "k", l); err == nil {
		t.Fatal("Allow with the last sync failed: no error")
	}
	if _, err := (&Local{Shared: a.Shared}).Allow(ctx, "new", l); err == nil {
		t.Fatal("a key's first read without Redis: no error")
	}
	a.Shared = &Redis{Client: good, Clock: clock}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The two events reached Redis: a fresh replica admits three more, not five.
	b := &Local{Shared: a.Shared}
	for i := range 3 {
		if !allowed(t, b, "k", l) {
			t.Fatalf("event %d refused", i)
		}
	}
	if allowed(t, b, "k", l) {
		t.Fatal("the events counted while Redis was down were lost")
	}
}

// Calls at once on one replica, with syncs running beside them, admit
// exactly the burst, and every admitted event reaches Redis.
func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	a, _, clock, c := localPair(t)
	ctx := context.Background()
	l := healthcode.Limit{Events: 50, Per: time.Hour}
	var wg sync.WaitGroup
	var admitted atomic.Int64
	stop, flushed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				_ = a.Flush(ctx)
			}
		}
	}()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if w, err := a.Allow(ctx, "k", l); err == nil && w == 0 {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-flushed // a flush still under way would hold the last events past the check below
	if n := admitted.Load(); n != 50 {
		t.Fatalf("%d admitted, want the burst of 50", n)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if w, err := (&Redis{Client: c, Clock: clock}).Allow(ctx, "k", l); err != nil || w <= 0 {
		t.Fatalf("Redis after the burst: %v %v; want a wait", w, err)
	}
}
