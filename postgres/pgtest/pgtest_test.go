package pgtest_test

import (
	"context"
	"testing"

	"healthcode/postgres/pgtest"
)

func TestNewHasRegions(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM regions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 21809 {
		t.Fatalf("regions = %d, want 21809", n)
	}
}
