package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/demo"
	"healthcode/graph/apitest"
)

// statementCounter counts the SQL statements that requests send to
// PostgreSQL, a batch's queued statements one by one. Statements of the
// stack's background work (the listener's reloads after a NOTIFY) are not
// counted: they land in a measured request's window or not, by timing.
type statementCounter struct{ n atomic.Int64 }

// counted marks the context of a request whose statements are counted.
type counted struct{}

func (c *statementCounter) count(ctx context.Context) {
	if ctx.Value(counted{}) != nil {
		c.n.Add(1)
	}
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.count(ctx)
	return ctx
}
func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (c *statementCounter) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	c.count(ctx)
}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// countStatements routes the bundle's storage through a pool that counts
// the statements of the bundle's requests.
func countStatements(t *testing.T, b *apitest.Bundle) *statementCounter {
	t.Helper()
	c := &statementCounter{}
	cfg := b.Pool.Config()
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	b.DB.Pool = pool
	h := b.Handler
	b.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), counted{}, true)))
	})
	return c
}

// statementsOf runs query with first = n and returns how many statements
// it sent: the fewest of three runs, so that a one-off reload inside a
// request (the grants after a change notified late, under load) is not
// taken for statements per row, which every run would send.
// prepare, when not nil, runs before each run (outside the count).
func statementsOf(t *testing.T, b *apitest.Bundle, c *statementCounter, token, query string, n int, prepare func()) int64 {
	t.Helper()
	fewest := int64(-1)
	for range 3 {
		if prepare != nil {
			prepare()
		}
		before := c.n.Load()
		b.Do(t, token, query, map[string]any{"n": n}).MustData(t)
		if got := c.n.Load() - before; fewest < 0 || got < fewest {
			fewest = got
		}
	}
	return fewest
}

// A page of persons with their codes, of tickets with their histories,
// ratings and allowed actions and of staff with their grants costs the same number of SQL statements for 2
// rows as for 10: the lists' fields are loaded in batches (dataloaders),
// and the codes that are due are re-evaluated together, not one by one.
func TestListFieldsDoNotQueryPerRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The loaders gather keys for 50 ms, not 1: on a loaded machine a page's
	// field resolvers can take longer than 1 ms to ask, which would split a
	// batch in two and count as a statement per row.
	b := apitest.Setup(t, apitest.Options{LoaderWait: 50 * time.Millisecond})
	if _, err := demo.SeedSynthetic(ctx, b.DB, 12, 5); err != nil {
		t.Fatal(err)
	}
	_, admin := b.CreateStaff(t, "prov_admin", "61", apitest.G("ADMIN@61"))
	operatorID, operator := b.CreateStaff(t, "prov_operator", "61", apitest.G("OPERATOR@61"))
	for i := range 10 {
		b.CreateStaff(t, fmt.Sprintf("county_admin_%d", i), "610113", apitest.G("ADMIN@610113"), apitest.G("HEALTH_OFFICER@610113"))
	}
	op := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: operatorID, Name: "prov_operator"})
	for i := range 12 {
		if _, err := b.Tickets().CreateTicket(op, healthcode.NewTicket{Kind: "COMPLAINT", CallerPhone: "13700137000",
			Subject: fmt.Sprintf("投诉 %d", i), Description: "超市未查验健康码", PlaceCode: "610113001001"}); err != nil {
			t.Fatal(err)
		}
	}
	c := countStatements(t, b)
	for _, q := range []struct {
		name, token, query string
	}{
		{"persons with codes", admin, `query($n: Int) { persons(first: $n) { nodes { id code { colour clauses { id } } } } }`},
		{"tickets with steps", operator, `query($n: Int) { tickets(first: $n) { nodes { id steps { action } rating { satisfaction } allowedActions } } }`},
		{"staff with grants", admin, `query($n: Int) { staff(first: $n) { nodes { id grants { role } } } }`},
	} {
		statementsOf(t, b, c, q.token, q.query, 1, nil) // the enforcer's first load of the grants
		small, large := statementsOf(t, b, c, q.token, q.query, 2, nil), statementsOf(t, b, c, q.token, q.query, 10, nil)
		t.Logf("%s: %d statements for 2 rows, %d for 10", q.name, small, large)
		if large != small {
			t.Errorf("%s: %d statements for 2 rows, %d for 10; want the same", q.name, small, large)
		}
	}

	// Every code due: the page re-evaluates its persons in one go.
	due := func() {
		if _, err := b.Pool.Exec(ctx, "UPDATE codes SET reevaluate_at = $1", b.Clock.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	query := `query($n: Int) { persons(first: $n) { nodes { id code { colour } } } }`
	small := statementsOf(t, b, c, admin, query, 2, due)
	large := statementsOf(t, b, c, admin, query, 10, due)
	t.Logf("persons with due codes: %d statements for 2 rows, %d for 10", small, large)
	if large != small {
		t.Errorf("persons with due codes: %d statements for 2 rows, %d for 10; want the same", small, large)
	}
}
