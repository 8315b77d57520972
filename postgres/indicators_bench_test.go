package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
	db := &postgres.DB{Pool: pool}
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, cst)
	next := day.AddDate(0, 0, 1)

	start := time.Now()
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`CREATE TEMP TABLE bench_places AS
		SELECT row_number() OVER (ORDER BY code) AS i, code, path FROM regions WHERE level = 'COMMUNITY'`)
	// Persons and their codes, set-based. A person's created_at is spread
	// over the 30 days up to the day.
	exec(`INSERT INTO persons (id, doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked, residence_code, residence_path,
			address_enc, created_at, updated_at)
		SELECT g, 'ID_CARD', int8send(g), '\x00', 'x', '\x00', 'x', p.code, p.path, '\x00', t, t
		FROM generate_series(1, $1::bigint) g
		JOIN bench_places p ON p.i = 1 + g % (SELECT count(*) FROM bench_places)
		CROSS JOIN LATERAL (SELECT $2::timestamptz - (g % 30) * interval '1 day' + (g % 86000) * interval '1 second' AS t) x`,
		persons, day)
	exec(`INSERT INTO codes (person_id, colour, clauses, rule_set_version, updated_at)
		SELECT id, 'GREEN', '[]', 'bench', created_at FROM persons`)
	// The day's scans go into a table attached as the day's partition once
	// loaded, so that its indexes are built once.
	part := "scans_" + day.Format("20060102")
	exec(fmt.Sprintf(`CREATE UNLOGGED TABLE %s (LIKE scans INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`, part))
	exec(fmt.Sprintf(`INSERT INTO %s (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id, issuer, code_id,
			person_id, colour, scan_role, fever, region_path)
		SELECT lpad(to_hex(g), 32, '0')::uuid, $2::timestamptz + (g %% 86400) * interval '1 second', $2::timestamptz,
			g %% 20000, 1, 1, '61', 'c', NULL, 'GREEN', 'VISITOR', false, p.path
		FROM generate_series(1, $1::bigint) g
		JOIN bench_places p ON p.i = 1 + (g * 7919) %% (SELECT count(*) FROM bench_places)`, part), scans, day)
	exec(fmt.Sprintf(`ALTER TABLE scans ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`, part,
		day.Format(time.RFC3339), next.Format(time.RFC3339)))
	exec("VACUUM ANALYZE persons, codes, scans")
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
