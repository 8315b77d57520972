// Package redistest lends each test a Redis database of its own on the server
// named by TEST_REDIS_URL (which `make test` starts), flushed before use.
package redistest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Databases is how many logical databases the test server has (devenv starts
// it with this many); database 0 holds the leases.
const Databases = 64

// URL leases a database for the test, flushes it and returns its URL. The
// lease is returned when the test ends. It fails the test when
// TEST_REDIS_URL is not set.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		t.Fatal("TEST_REDIS_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("parse TEST_REDIS_URL: %v", err)
	}
	opt.DB = 0
	ctl := redis.NewClient(opt)
	defer ctl.Close()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n < Databases; n++ {
			key := "hc:test:lease:" + strconv.Itoa(n)
			ok, err := ctl.SetNX(ctx, key, t.Name(), 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("lease redis database: %v", err)
			}
			if !ok {
				continue
			}
			o := *opt
			o.DB = n
			c := redis.NewClient(&o)
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("flush redis database: %v", err)
			}
			c.Close()
			t.Cleanup(func() {
				c := redis.NewClient(opt)
				defer c.Close()
				c.Del(context.Background(), key)
			})
			u, _ := url.Parse(base)
			u.Path = fmt.Sprintf("/%d", n)
			return u.String()
		}
		if time.Now().After(deadline) {
			t.Fatal("no free redis test database")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
