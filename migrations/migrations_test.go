package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"healthcode/migrations"
	"healthcode/postgres/pgtest"
)

func count(t *testing.T, url, query string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Migrations go up, all the way down, and up again.
func TestUpDownUp(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmptyURL(t)
	st, err := migrations.GetStatus(url)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 0 || len(st.Pending) != len(migrations.Versions()) {
		t.Fatalf("fresh status = %+v", st)
	}
	for round := 0; round < 2; round++ {
		if err := migrations.Up(url); err != nil {
			t.Fatalf("round %d up: %v", round, err)
		}
		st, err := migrations.GetStatus(url)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dirty || st.Version != st.Latest || len(st.Pending) != 0 {
			t.Fatalf("round %d status after up = %+v", round, st)
		}
		if n := count(t, url, "SELECT count(*) FROM regions"); n != 21809 {
			t.Fatalf("round %d: %d regions, want 21809", round, n)
		}
		if n := count(t, url, "SELECT count(*) FROM regions WHERE level = 'CITY'"); n != 10 {
			t.Fatalf("round %d: %d cities, want 10", round, n)
		}
		// Up twice is a no-op.
		if err := migrations.Up(url); err != nil {
			t.Fatalf("round %d second up: %v", round, err)
		}
		if err := migrations.Down(url, 0); err != nil {
			t.Fatalf("round %d down: %v", round, err)
		}
		if n := count(t, url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'"); n != 0 {
			t.Fatalf("round %d: %d tables left after down", round, n)
		}
	}
}

// Every region's parent is a prefix of its code and its path ends with it.
func TestRegionTreeShape(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	bad := count(t, url, `SELECT count(*) FROM regions r LEFT JOIN regions p ON p.code = r.parent_code
		WHERE r.parent_code IS NOT NULL AND (p.code IS NULL OR left(r.code, length(p.code)) <> p.code
		   OR r.path <> p.path || r.code::ltree)`)
	if bad != 0 {
		t.Fatalf("%d regions with a bad parent or path", bad)
	}
	if n := count(t, url, "SELECT count(*) FROM regions WHERE path <@ '61.6101.610113'"); n < 10 {
		t.Fatalf("Yanta subtree has %d regions", n)
	}
}

func TestPopulationCSV(t *testing.T) {
	if b := migrations.PopulationCSV(); len(b) == 0 || string(b[:4]) != "code" {
		t.Fatalf("population csv missing")
	}
}
