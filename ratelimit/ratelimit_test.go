package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/devenv/redistest"
)

func TestGCRA(t *testing.T) {
	t.Parallel()
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	clock := &healthcode.OffsetClock{}
	clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	r := &Redis{Client: c, Clock: clock}
	ctx := context.Background()
	l := healthcode.Limit{Events: 3, Per: time.Minute}
	for i := range 3 {
		if wait, err := r.Allow(ctx, "k", l); err != nil || wait != 0 {
			t.Fatalf("event %d refused: %v %v", i, wait, err)
		}
	}
	wait, err := r.Allow(ctx, "k", l)
	if err != nil || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("fourth event: wait %v, %v; want (0, 20s]", wait, err)
	}
	if w, _ := r.Allow(ctx, "other", l); w != 0 {
		t.Fatal("keys are not independent")
	}
	clock.Advance(wait)
	if w, err := r.Allow(ctx, "k", l); err != nil || w != 0 {
		t.Fatalf("after the wait: %v %v", w, err)
	}
	c.Close()
	if _, err := r.Allow(ctx, "k", l); err == nil {
		t.Fatal("no error without Redis")
	}
}
