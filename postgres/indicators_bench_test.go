package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// BenchmarkIndicatorRecomputeDay: RecomputeDay of one day with 1,000,000
// persons with codes (created over the 30 days up to it, living in the
// province's communities) and 10,000,000 scans on that day (at community
// venues), against the equivalent plain query measured in the same run: the
// person count and the scan count grouped by county in one SELECT, with no
// writes. Sizes come from the environment:
//
//	HC_BENCH_IND_PERSONS  persons (default 1,000,000)
//	HC_BENCH_IND_SCANS    scans on the day (default 10,000,000)
//
// It reports persons+scans per second of both and x_baseline = baseline
// time ÷ RecomputeDay time (target ≥ 0.5). See docs/benchmarks.md.
func BenchmarkIndicatorRecomputeDay(b *testing.B) {
	ctx := context.Background()
	persons := benchEnvInt("HC_BENCH_IND_PERSONS", 1_000_000)
	scans := benchEnvInt("HC_BENCH_IND_SCANS", 10_000_000)
	pool := pgtest.New(keepTB{b})
	pool = pgtest.Owner(keepTB{b}, pool) // the bench attaches partitions it loaded (DDL)
	db := &postgres.DB{Pool: pool}
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, cst)
	next := day.AddDate(0, 0, 1)

	start := time.Now()
	benchLoadPersons(b, pool, persons, day)
	// Scans spread evenly over the communities.
	benchLoadScans(b, pool, day, scans, 0, "(g * 7919) % n")
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE persons, codes, scans"); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d persons and %d scans in %s", persons, scans, time.Since(start).Round(time.Second))

	svc := &postgres.IndicatorService{DB: db}
	baseline := func() time.Duration {
		t0 := time.Now()
		rows, err := pool.Query(ctx, `SELECT county, sum(persons), sum(scans) FROM (
				SELECT subpath(p.residence_path, 0, 3) AS county, count(*) AS persons, 0 AS scans
				FROM persons p JOIN codes c ON c.person_id = p.id WHERE p.created_at < $2
				GROUP BY 1
				UNION ALL
				SELECT subpath(region_path, 0, 3), 0, count(*) FROM scans WHERE scanned_at >= $1 AND scanned_at < $2
				GROUP BY 1) x
			GROUP BY county`, day, next)
		if err != nil {
			b.Fatal(err)
		}
		var total, scanned int64
		for rows.Next() {
			var county string
			var p, s int64
			if err := rows.Scan(&county, &p, &s); err != nil {
				b.Fatal(err)
			}
			total, scanned = total+p, scanned+s
		}
		if rows.Err() != nil || total != int64(persons) || scanned != int64(scans) {
			b.Fatalf("baseline counted %d persons and %d scans: %v", total, scanned, rows.Err())
		}
		return time.Since(t0)
	}
	baseline() // warm the cache for both

	var recompute, base time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := svc.RecomputeDay(ctx, day); err != nil {
			b.Fatal(err)
		}
		recompute += time.Since(t0)
		b.StopTimer()
		base += baseline()
		b.StartTimer()
	}
	b.StopTimer()
	var covered, scanned float64
	if err := pool.QueryRow(ctx, `SELECT sum(numerator) FILTER (WHERE indicator = 'COVERAGE'),
		sum(numerator) FILTER (WHERE indicator = 'SCANS_PER_1000') FROM indicator_daily WHERE day = $1`, day).Scan(&covered, &scanned); err != nil {
		b.Fatal(err)
	}
	if int(covered) != persons || int(scanned) != scans {
		b.Fatalf("RecomputeDay counted %v persons and %v scans", covered, scanned)
	}
	rows := float64(persons+scans) * float64(b.N)
	b.ReportMetric(rows/recompute.Seconds(), "rows/s")
	b.ReportMetric(rows/base.Seconds(), "baseline_rows/s")
	b.ReportMetric(base.Seconds()/recompute.Seconds(), "x_baseline")
	b.ReportMetric(recompute.Seconds()/float64(b.N), "s/day")
}

// benchLoadPersons builds, with set-based SQL, n persons with GREEN codes
// living in the province's communities (round robin over the communities
// ordered by code), created over the 30 days up to and including the day
// starting at last. It also creates bench_places (i, code, path: the
// communities numbered from 1 by code), which benchLoadScans uses.
func benchLoadPersons(b *testing.B, pool *pgxpool.Pool, n int, last time.Time) {
	b.Helper()
	benchExec(b, pool, `CREATE UNLOGGED TABLE bench_places AS
		SELECT row_number() OVER (ORDER BY code) AS i, code, path FROM regions WHERE level = 'COMMUNITY'`)
	benchExec(b, pool, `INSERT INTO persons (id, doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked, residence_code, residence_path,
			address_enc, created_at, updated_at)
		SELECT g, 'ID_CARD', int8send(g), '\x00', 'x', '\x00', 'x', p.code, p.path, '\x00', t, t
		FROM generate_series(1, $1::bigint) g
		JOIN bench_places p ON p.i = 1 + g % (SELECT count(*) FROM bench_places)
		CROSS JOIN LATERAL (SELECT $2::timestamptz - (g % 30) * interval '1 day' + (g % 86000) * interval '1 second' AS t) x`,
		n, last)
	benchExec(b, pool, `INSERT INTO codes (person_id, colour, clauses, rule_set_version, updated_at)
		SELECT id, 'GREEN', '[]', 'bench', created_at FROM persons`)
}

// benchLoadScans builds n scans spread over the day starting at day (at
// community venues), with scan ids first+1 … first+n. place is the SQL
// expression, in g (1 … n) and n (the number of communities), of the
// 0-based index of a scan's community in bench_places. The scans go into a
// table attached as the day's partition once loaded, so that its indexes
// are built once.
func benchLoadScans(b *testing.B, pool *pgxpool.Pool, day time.Time, n int, first int64, place string) {
	b.Helper()
	part := "scans_" + day.Format("20060102")
	benchExec(b, pool, fmt.Sprintf(`CREATE UNLOGGED TABLE %s (LIKE scans INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`, part))
	benchExec(b, pool, fmt.Sprintf(`INSERT INTO %s (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id, issuer, code_id,
			person_id, colour, scan_role, fever, region_path)
		SELECT lpad(to_hex($3::bigint + g), 32, '0')::uuid, $2::timestamptz + (g %% 86400) * interval '1 second', $2::timestamptz,
			g %% 20000, 1, 1, '61', 'c', NULL, 'GREEN', 'VISITOR', false, p.path
		FROM generate_series(1, $1::bigint) g
		CROSS JOIN (SELECT count(*) AS n FROM bench_places) np
		JOIN bench_places p ON p.i = 1 + (%s)`, part, place), n, day, first)
	benchExec(b, pool, fmt.Sprintf(`ALTER TABLE scans ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`, part,
		day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339)))
}

func benchExec(b *testing.B, pool *pgxpool.Pool, sql string, args ...any) {
	b.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%v\n%s", err, sql)
	}
}
