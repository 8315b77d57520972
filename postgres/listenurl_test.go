package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// With ListenURL (LISTEN_DATABASE_URL) the listener connects there, not
// through the pool: a second database stands in for PostgreSQL reached
// directly while the pool goes through PgBouncer; its notifications are
// heard and the listener's session is there.
func TestListenerListenURL(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	direct := pgtest.NewURL(t)
	db := &postgres.DB{Pool: pool, ListenURL: direct}
	l := postgres.NewListener(db)
	heard := make(chan string, 1)
	l.Handle(postgres.OutboxChannel, func(p string) { heard <- p }, nil)
	runListener(t, l)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_notify($1, 'direct')", postgres.OutboxChannel); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, heard, "the notification on the ListenURL database"); got != "direct" {
		t.Fatalf("heard %q", got)
	}
	count := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) int {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'healthcode-listener' AND datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if direct, pooled := count(conn), count(pool); direct != 1 || pooled != 0 {
		t.Errorf("listener sessions: %d on the ListenURL database, %d on the pool's, want 1 and 0", direct, pooled)
	}
}
