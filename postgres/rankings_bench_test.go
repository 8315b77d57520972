package postgres_test

import (
	"context"
	"math"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// BenchmarkRankings: the weekly city ranking answered from indicator_daily
// (RankingService.Rankings) against the same inputs computed from the raw
// tables. Data: persons with codes living in the province's communities,
// created over the 30 days up to the ranked week's Sunday, and scans spread
// over the 14 days of the ranked week and the week before, skewed towards
// the low community codes in the ranked week and towards the high ones the
// week before, so that the scans per 1,000 residents of the cities, and
// therefore the ranks, change between the weeks. RecomputeDay of the 14 days
// runs outside the timer. Sizes come from the environment:
//
//	HC_BENCH_RANK_PERSONS  persons (default 1,000,000)
//	HC_BENCH_RANK_SCANS    scans per week (default 5,000,000, spread evenly over its days)
//
// Timed, as a province supervisor (grants and authorisation included):
// Rankings(week, CITY, "") over 50 rounds, and the raw query over 3 rounds:
// one SELECT computing, for the ten cities and both weeks (a ranking needs
// last week's too, for the rank change), the numerators of COVERAGE (Σ over
// the week's days of the persons with a code created by the end of the day),
// COVERAGE_GROWTH (persons created in the week) and SCANS_PER_1000 (the
// week's scans at the city's venues) from persons, codes and scans, and their
// denominator (7 × the census population of the city's subtree); the values
// are then computed as the ranking does. The other indicators (tickets,
// venues, reports) are left out of the raw side: their tables are empty here,
// so the raw figure is a lower bound. It checks that both give the same
// values and that some rank changed.
//
// It reports ms_rankings and ms_raw (per call) and x_baseline = raw time ÷
// rankings time (higher is better). See docs/benchmarks.md.
func BenchmarkRankings(b *testing.B) {
	ctx := context.Background()
	persons := benchEnvInt("HC_BENCH_RANK_PERSONS", 1_000_000)
	scans := benchEnvInt("HC_BENCH_RANK_SCANS", 5_000_000)
	const rankRounds, rawRounds = 50, 3
	pool := pgtest.New(keepTB{b})
	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: 1, Role: healthcode.RoleSupervisor, RegionCode: healthcode.ProvinceCode}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	monday := time.Date(2026, 11, 16, 0, 0, 0, 0, cst)
	clock := &healthcode.OffsetClock{}
	clock.Set(monday.AddDate(0, 0, 9)) // the ranked week is over
	db := &postgres.DB{Pool: pool, Authz: enforcer, Clock: clock}
	previous, sunday := monday.AddDate(0, 0, -7), monday.AddDate(0, 0, 6)

	start := time.Now()
	benchLoadPersons(b, pool, persons, sunday)
	perDay := scans / 7
	for d := 0; d < 14; d++ {
		// u in [0, 1) spreads the scans; u² skews them towards the start of
		// bench_places (low codes: the ranked week) or its end (the week
		// before).
		place := "floor(n * power(((g * 7919) % 1000003) / 1000003.0, 2))::bigint"
		if d < 7 {
			place = "n - 1 - " + place
		}
		benchLoadScans(b, pool, previous.AddDate(0, 0, d), perDay, int64(d)*int64(perDay), place)
	}
	benchExec(b, pool, "VACUUM ANALYZE persons, codes, scans")
	built := time.Since(start)
	start = time.Now()
	ind := &postgres.IndicatorService{DB: db}
	for d := 0; d < 14; d++ {
		if err := ind.RecomputeDay(ctx, previous.AddDate(0, 0, d)); err != nil {
			b.Fatal(err)
		}
	}
	benchExec(b, pool, "VACUUM ANALYZE indicator_daily")
	recompute := time.Since(start) // the aggregates both weeks' rankings read
	b.Logf("built %d persons and 2 × %d scans in %s; recomputed 14 days in %s", persons, 7*perDay,
		built.Round(time.Second), recompute.Round(time.Second))

	svc := &postgres.RankingService{DB: db}
	actor := staffCtx(1)
	var ranked []healthcode.RankingRow
	rankings := func() time.Duration {
		t0 := time.Now()
		rows, err := svc.Rankings(actor, monday, healthcode.LevelCity, "")
		if err != nil {
			b.Fatal(err)
		}
		ranked = rows
		return time.Since(t0)
	}

	// raw computes the values of the three indicators per city and week
	// (0: the ranked week, 1: the week before) from the raw tables.
	type key struct {
		city, indicator string
		week            int
	}
	rawValues := map[key]float64{}
	raw := func() time.Duration {
		t0 := time.Now()
		rows, err := pool.Query(ctx, `WITH p AS MATERIALIZED (
				SELECT subpath(p.residence_path, 0, 2) AS city,
					sum(7 - LEAST(7, GREATEST(0, floor(extract(epoch FROM p.created_at - $2::timestamptz) / 86400)))) AS cov,
					sum(7 - LEAST(7, GREATEST(0, floor(extract(epoch FROM p.created_at - $1::timestamptz) / 86400)))) AS cov_prev,
					count(*) FILTER (WHERE p.created_at >= $2) AS fresh,
					count(*) FILTER (WHERE p.created_at >= $1 AND p.created_at < $2) AS fresh_prev
				FROM persons p JOIN codes c ON c.person_id = p.id
				WHERE p.created_at < $3
				GROUP BY 1),
			s AS MATERIALIZED (
				SELECT subpath(region_path, 0, 2) AS city,
					count(*) FILTER (WHERE scanned_at >= $2) AS scans,
					count(*) FILTER (WHERE scanned_at < $2) AS scans_prev
				FROM scans WHERE scanned_at >= $1 AND scanned_at < $3
				GROUP BY 1),
			c AS MATERIALIZED (
				SELECT subpath(r.path, 0, 2) AS city, sum(c.population) AS pop
				FROM census_populations c JOIN regions r ON r.code = c.region_code
				GROUP BY 1)
			SELECT r.code, COALESCE(p.cov, 0)::float8, COALESCE(p.cov_prev, 0)::float8, COALESCE(p.fresh, 0)::float8,
				COALESCE(p.fresh_prev, 0)::float8, COALESCE(s.scans, 0)::float8, COALESCE(s.scans_prev, 0)::float8,
				(7 * COALESCE(c.pop, 0))::float8
			FROM regions r LEFT JOIN p ON p.city = r.path LEFT JOIN s ON s.city = r.path LEFT JOIN c ON c.city = r.path
			WHERE r.parent_code = $4 AND r.level = 'CITY'
			ORDER BY r.code`, previous, monday, monday.AddDate(0, 0, 7), healthcode.ProvinceCode)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var code string
			var cov, covPrev, fresh, freshPrev, sc, scPrev, den float64
			if err := rows.Scan(&code, &cov, &covPrev, &fresh, &freshPrev, &sc, &scPrev, &den); err != nil {
				b.Fatal(err)
			}
			for _, v := range []struct {
				id       string
				week     int
				num, den float64
			}{
				{healthcode.IndCoverage, 0, cov, den}, {healthcode.IndCoverage, 1, covPrev, den},
				{healthcode.IndCoverageGrowth, 0, fresh, den}, {healthcode.IndCoverageGrowth, 1, freshPrev, den},
				{healthcode.IndScansPer1000, 0, sc, den}, {healthcode.IndScansPer1000, 1, scPrev, den},
			} {
				i, _ := healthcode.IndicatorByID(v.id)
				if x, ok := i.Value(v.num, v.den); ok {
					rawValues[key{code, v.id, v.week}] = x
				}
			}
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	rankings() // warm the cache for both
	raw()

	var tRank, tRaw time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < rankRounds; r++ {
			tRank += rankings()
		}
		b.StopTimer()
		for r := 0; r < rawRounds; r++ {
			tRaw += raw()
		}
		b.StartTimer()
	}
	b.StopTimer()

	// Both sides give the same values of the ranked week (to the ranking's
	// two decimals), and ranks moved.
	if len(ranked) != 10 {
		b.Fatalf("%d cities ranked, want 10", len(ranked))
	}
	changed := 0
	for _, r := range ranked {
		if r.RankChange != nil && *r.RankChange != 0 {
			changed++
		}
		for _, v := range r.Values {
			want, ok := rawValues[key{r.RegionCode, v.Indicator, 0}]
			if !ok {
				continue
			}
			if v.Value == nil {
				b.Errorf("%s %s: no value in the ranking, raw %v", r.RegionCode, v.Indicator, want)
			} else if math.Abs(*v.Value-want) > 0.005+1e-9 { // the ranking rounds to two decimals
				b.Errorf("%s %s: rankings %v, raw %v", r.RegionCode, v.Indicator, *v.Value, want)
			}
		}
	}
	if changed == 0 {
		b.Fatal("no rank changed between the weeks")
	}
	b.Logf("%d of 10 cities changed rank", changed)

	msRank := tRank.Seconds() * 1000 / float64(rankRounds*b.N)
	msRaw := tRaw.Seconds() * 1000 / float64(rawRounds*b.N)
	// Two rows (sub-benchmarks: a benchmark that has some reports through
	// them only).
	b.Run("aggregates_vs_raw", func(b *testing.B) {
		b.ReportMetric(msRank, "ms_rankings")
		b.ReportMetric(msRaw, "ms_raw")
		b.ReportMetric(msRaw/msRank, "x_baseline")
	})
	// With the cost of computing the aggregates it reads: a ranking of the
	// week reads 14 recomputed days (RecomputeDay runs once per day, for
	// every ranking and indicator of the day; here all of it is charged to
	// one ranking — the worst case, a first ranking after the aggregates
	// were lost).
	b.Run("with_aggregates_vs_raw", func(b *testing.B) {
		msAgg := recompute.Seconds() * 1000
		b.ReportMetric(msRank+msAgg, "ms_rankings")
		b.ReportMetric(msAgg, "ms_recompute_14_days")
		b.ReportMetric(msRaw, "ms_raw")
		b.ReportMetric(msRaw/(msRank+msAgg), "x_baseline")
		b.ReportMetric(msRaw/(msRank+msAgg/14), "x_baseline_one_day_recomputed")
	})
}
