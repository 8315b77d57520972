package postgres_test

import (
	"context"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// BenchmarkTicketQueue: a unit's queue (first page, by deadline: overdue first) with
// HC_BENCH_TICKETS tickets in the table (default 1,000,000, spread over ten
// units), through TicketService.ListTickets — jurisdiction checks included —
// against the equivalent hand-written SQL measured in the same run.
func BenchmarkTicketQueue(b *testing.B) {
	ctx := context.Background()
	n := benchEnvInt("HC_BENCH_TICKETS", 1_000_000)
	pool := pgtest.New(keepTB{b})
	db := &postgres.DB{Pool: pool}
	start := time.Now()
	var unit int64
	err := pool.QueryRow(ctx, `
		WITH units AS (
			INSERT INTO handling_units (region_code, region_path, name, created_by, created_at)
			SELECT code, path, name || '承办中心', 'bench', now() FROM regions WHERE level = 'COUNTY' ORDER BY code LIMIT 10
			RETURNING id, region_code, region_path)
		SELECT min(id) FROM units`).Scan(&unit)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO tickets (kind, channel, urgency, state, subject, description, place_code, unit_id, region_code, region_path,
			created_by, created_at, updated_at, due_at, overdue)
		SELECT (ARRAY['CONSULTATION','COMPLAINT','SUGGESTION','CODE_APPEAL'])[1 + g % 4], 'HOTLINE', 'NORMAL',
			(ARRAY['DISPATCHED','SIGNED','IN_PROGRESS','REPLIED','CLOSED','CLOSED'])[1 + g % 6], '工单', '内容',
			u.region_code, u.id, u.region_code, u.region_path, 'bench', now() - interval '1 day', now(),
			now() + (g % 1000) * interval '1 minute', g % 97 = 0
		FROM generate_series(1, $1) AS g JOIN (SELECT id, region_code, region_path, row_number() OVER (ORDER BY id) - 1 AS k
			FROM handling_units) u ON u.k = g % 10`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE tickets"); err != nil {
		b.Fatal(err)
	}
	var region string
	pool.QueryRow(ctx, "SELECT region_code FROM handling_units WHERE id = $1", unit).Scan(&region)
	b.Logf("%d tickets in %s (unit %d at %s)", n, time.Since(start).Round(time.Millisecond), unit, region)

	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: 1, Role: healthcode.RoleHandler, RegionCode: region}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	db.Authz = enforcer
	svc := postgres.NewTicketService(db)
	hctx := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 1, Name: "handler"})

	service := func() int {
		list, _, err := svc.ListTickets(hctx, healthcode.TicketFilter{UnitID: unit, First: 20})
		if err != nil {
			b.Fatal(err)
		}
		return len(list)
	}
	raw := func() int {
		// The same page, written by hand: the same columns and unit, no
		// jurisdiction filter.
		rows, err := pool.Query(ctx, `SELECT t.*, u.name FROM tickets t JOIN handling_units u ON u.id = t.unit_id
			WHERE t.unit_id = $1 AND t.state NOT IN ('CLOSED', 'MERGED')
			ORDER BY COALESCE(t.due_at, 'infinity'::timestamptz), t.id LIMIT 20`, unit)
		if err != nil {
			b.Fatal(err)
		}
		k := 0
		for rows.Next() { // decode every column, as the service does
			if _, err := rows.Values(); err != nil {
				b.Fatal(err)
			}
			k++
		}
		rows.Close()
		return k
	}
	if service() != 20 || raw() != 20 {
		b.Fatal("a first page should hold 20 tickets")
	}
	const rounds = 300
	timeIt := func(f func() int) time.Duration {
		t := time.Now()
		for range rounds {
			f()
		}
		return time.Since(t)
	}
	timeIt(raw) // warm up both plans
	timeIt(service)
	b.ResetTimer()
	for range b.N {
		service()
	}
	b.StopTimer()
	rawD, svcD := timeIt(raw), timeIt(service)
	b.ReportMetric(float64(rounds)/svcD.Seconds(), "pages/s")
	b.ReportMetric(float64(rounds)/rawD.Seconds(), "baseline_pages/s")
	b.ReportMetric(rawD.Seconds()/svcD.Seconds(), "x_baseline")
	b.ReportMetric(float64(svcD.Microseconds())/rounds, "µs/page")
}
