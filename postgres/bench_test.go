package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rules"
)

// The benchmarks of bulk re-evaluation share one synthetic population,
// seeded once per process. Sizes come from the environment:
//
//	HC_BENCH_PERSONS  persons to seed (default benchPersonsDefault)
//	HC_BENCH_CODE_CACHE_TRIGGERS  off: without the code cache's triggers
//	HC_BENCH_WORKERS  goroutines running re-evaluation batches, as worker
//	                  processes would (default: the number of cores)
//
// Each benchmark reports a ratio against a baseline measured in the same run
// on the same rows (x_baseline); absolute rates depend on the machine. See
// docs/benchmarks.md.

const benchPersonsDefault = 1_000_000

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// keepTB hands pgtest a TB whose cleanups never run, so the shared database
// outlives the benchmark that created it (testenv discards the whole server
// afterwards).
type keepTB struct{ testing.TB }

func (keepTB) Cleanup(func()) {}

type benchPopulation struct {
	db       *postgres.DB
	persons  int
	workers  int
	seedRate float64 // persons/s of SeedSynthetic
}

var (
	benchOnce sync.Once
	benchPop  *benchPopulation
)

// population seeds the shared synthetic population on first use.
func population(b *testing.B) *benchPopulation {
	b.Helper()
	benchOnce.Do(func() {
		ctx := context.Background()
		cfg, err := pgxpool.ParseConfig(pgtest.NewURL(keepTB{b}))
		if err != nil {
			b.Fatal(err)
		}
		workers := benchEnvInt("HC_BENCH_WORKERS", runtime.NumCPU())
		cfg.MaxConns = int32(workers + 4)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		cipher, err := pii.NewCipher([]byte("benchmark-key-0123456789abcdefgh"))
		if err != nil {
			b.Fatal(err)
		}
		db := &postgres.DB{Pool: pool, PII: cipher}
		if os.Getenv("HC_BENCH_CODE_CACHE_TRIGGERS") == "off" {
			// The cost of the code cache's notifications (migration 000038),
			// measured against the same code without them.
			owner := pgtest.Owner(keepTB{b}, pool)
			for _, table := range []string{"codes", "persons", "account_persons", "sessions", "resident_accounts", "rule_sets", "code_evaluations"} {
				if _, err := owner.Exec(ctx, "ALTER TABLE "+table+" DISABLE TRIGGER USER"); err != nil {
					b.Fatal(err)
				}
			}
			owner.Close()
			b.Logf("the code cache's triggers are disabled")
		}
		if err := db.EnsureRuleSet(ctx); err != nil {
			b.Fatal(err)
		}
		n := benchEnvInt("HC_BENCH_PERSONS", benchPersonsDefault)
		start := time.Now()
		k, err := demo.SeedSynthetic(ctx, db, n, 2020)
		if err != nil {
			b.Fatalf("seed %d synthetic persons: %v", n, err)
		}
		rate := float64(k) / time.Since(start).Seconds()
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d synthetic persons in %s (%.0f persons/s)", k, time.Since(start).Round(time.Millisecond), rate)
		benchPop = &benchPopulation{db: db, persons: k, workers: workers, seedRate: rate}
	})
	if benchPop == nil {
		b.Fatal("the synthetic population could not be seeded (see the first benchmark's failure)")
	}
	return benchPop
}

// publishWindow publishes a copy of the default rule set with window w as a
// new version, retiring the one in force, like an approved rule change.
func publishWindow(ctx context.Context, b *testing.B, db *postgres.DB, version string, w time.Duration) {
	b.Helper()
	rs := rules.Default()
	rs.Version, rs.Window = version, rules.Duration(w)
	body, err := json.Marshal(rs)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rules.Parse(body); err != nil {
		b.Fatalf("benchmark rule set: %v", err)
	}
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE rule_sets SET status = 'RETIRED' WHERE status = 'PUBLISHED'"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at, approved_by, published_at)
			VALUES ($1, $2, 'PUBLISHED', 'benchmark', $3, 'benchmark', $3)`, version, body, tx.Now)
		return err
	})
	if err != nil {
		b.Fatalf("publish %s: %v", version, err)
	}
}

// runOutbox runs the outbox tasks of one type whose dedup key starts with
// prefix on workers goroutines, as the worker processes would, marks them
// sent and returns the number of persons evaluated.
func runOutbox(ctx context.Context, b *testing.B, db *postgres.DB, workers int, taskType, prefix string) int {
	b.Helper()
	rows, err := db.Pool.Query(ctx, `SELECT payload FROM outbox WHERE task_type = $1 AND starts_with(dedup_key, $2)
		AND sent_at IS NULL ORDER BY id`, taskType, prefix)
	if err != nil {
		b.Fatal(err)
	}
	payloads, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		b.Fatal(err)
	}
	tasks := make(chan []byte)
	var mu sync.Mutex
	total := 0
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range tasks {
				var n int
				var err error
				switch taskType {
				case healthcode.TaskReevaluateRange:
					var r healthcode.RangePayload
					if err = json.Unmarshal(p, &r); err == nil {
						n, err = db.ReevaluateRange(ctx, r.From, r.To, r.Cause)
					}
				case healthcode.TaskReevaluateBatch:
					var r healthcode.BatchPayload
					if err = json.Unmarshal(p, &r); err == nil {
						n, err = db.ReevaluateIDs(ctx, r.IDs, r.Cause)
					}
				default:
					err = fmt.Errorf("unexpected task type %s", taskType)
				}
				mu.Lock()
				total += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range payloads {
		tasks <- p
	}
	close(tasks)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("run %s tasks: %v", taskType, firstErr)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE task_type = $1 AND starts_with(dedup_key, $2)
		AND sent_at IS NULL`, taskType, prefix); err != nil {
		b.Fatal(err)
	}
	return total
}

func vacuum(ctx context.Context, b *testing.B, db *postgres.DB, tables ...string) {
	b.Helper()
	for _, t := range tables {
		if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReevaluateAll measures re-evaluating every person after a rule
// change, through the workers' path: a rule set with another window is
// published, FanOutAll splits the persons into id ranges and HC_BENCH_WORKERS
// goroutines run ReevaluateRange on them. Every code changes (at least its
// effective rule-set version; colours where the window matters). The baseline is one
// raw bulk UPDATE of every codes row, measured in the same run. It reports
// persons/s of both and x_baseline = re-evaluation rate / UPDATE rate
// (target ≥ 0.5).
func BenchmarkReevaluateAll(b *testing.B) {
	pop := population(b)
	db, ctx := pop.db, context.Background()
	b.ResetTimer()
	var reevalTime, baseTime time.Duration
	var evaluated, updated int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// Alternate 7 and 14 days so that every iteration changes codes.
		w := 7 * 24 * time.Hour
		if i%2 == 1 {
			w = 14 * 24 * time.Hour
		}
		version := fmt.Sprintf("bench-%d-%d-w%dd", time.Now().UnixNano(), i, int(w.Hours()/24))
		publishWindow(ctx, b, db, version, w)
		vacuum(ctx, b, db, "codes")

		start := time.Now()
		tag, err := db.Pool.Exec(ctx, "UPDATE codes SET colour = colour, updated_at = now()")
		if err != nil {
			b.Fatal(err)
		}
		baseTime += time.Since(start)
		updated += int(tag.RowsAffected())
		vacuum(ctx, b, db, "codes")

		b.StartTimer()
		start = time.Now()
		cause := "ruleset:" + version
		if _, err := db.FanOutAll(ctx, cause); err != nil {
			b.Fatal(err)
		}
		evaluated += runOutbox(ctx, b, db, pop.workers, healthcode.TaskReevaluateRange, cause+":")
		reevalTime += time.Since(start)
		b.StopTimer()

		var stale int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM codes
			WHERE code_rule_set_version(person_id, rule_set_version) <> $1`, version).Scan(&stale); err != nil {
			b.Fatal(err)
		}
		if stale != 0 {
			b.Fatalf("%d codes were not re-evaluated under %s", stale, version)
		}
	}
	if evaluated != b.N*pop.persons || updated != b.N*pop.persons {
		b.Fatalf("re-evaluated %d and updated %d persons, want %d each", evaluated, updated, b.N*pop.persons)
	}
	rate := float64(evaluated) / reevalTime.Seconds()
	baseRate := float64(updated) / baseTime.Seconds()
	b.ReportMetric(float64(pop.persons), "persons")
	b.ReportMetric(rate, "persons/s")
	b.ReportMetric(baseRate, "baseline_persons/s")
	b.ReportMetric(rate/baseRate, "x_baseline")
	b.ReportMetric(pop.seedRate, "seeded_persons/s")
}

// BenchmarkAreaDesignation measures designating HIGH the county or city
// whose residents are closest to 10% of the population: the area_risks row,
// FanOutArea, and ReevaluateIDs for every batch on HC_BENCH_WORKERS
// goroutines. It fails unless the codes written are exactly those of the
// persons with a stay in the region within the rule window (residents and
// recent visitors): work proportional to what changed. The baseline is the
// plain SQL SELECT of the affected person ids. It reports the codes written,
// the persons evaluated, the seconds taken and x_baseline = designation time /
// SELECT time.
func BenchmarkAreaDesignation(b *testing.B) {
	pop := population(b)
	db, ctx := pop.db, context.Background()
	region, path, residents := benchRegion(ctx, b, db, pop.persons)
	window := publishedStayWindow(ctx, b, db)
	b.Logf("designating %s (%d residents of %d persons), rule window %s", region, residents, pop.persons, window)
	b.ResetTimer()
	var desigTime, baseTime time.Duration
	var written, evaluated int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		vacuum(ctx, b, db, "codes", "stays")
		var mark time.Time
		var want int
		if err := db.Pool.QueryRow(ctx, `SELECT clock_timestamp(), count(DISTINCT person_id) FROM stays
			WHERE place_path <@ $1::text::ltree AND retracted_at IS NULL AND (to_at IS NULL OR to_at > now() - make_interval(secs => $2))`,
			path, window.Seconds()).Scan(&mark, &want); err != nil {
			b.Fatal(err)
		}

		start := time.Now()
		rows, err := db.Pool.Query(ctx, `SELECT DISTINCT person_id FROM stays WHERE place LIKE $1 || '%'
			AND retracted_at IS NULL AND (to_at IS NULL OR to_at > now() - interval '60 days') ORDER BY person_id`, region)
		if err != nil {
			b.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			b.Fatal(err)
		}
		baseTime += time.Since(start)

		b.StartTimer()
		start = time.Now()
		id := designate(ctx, b, db, region, path, rules.High)
		if _, err := db.FanOutArea(ctx, id); err != nil {
			b.Fatal(err)
		}
		n := runOutbox(ctx, b, db, pop.workers, healthcode.TaskReevaluateBatch, fmt.Sprintf("area_risk:%d:", id))
		desigTime += time.Since(start)
		b.StopTimer()
		evaluated += n
		if n != len(ids) {
			b.Fatalf("evaluated %d persons, the SELECT found %d", n, len(ids))
		}

		var got int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM codes WHERE updated_at >= $1", mark).Scan(&got); err != nil {
			b.Fatal(err)
		}
		if got != want {
			// Say which codes were written although nothing changed for them.
			var extra string
			_ = db.Pool.QueryRow(ctx, `SELECT COALESCE(string_agg(colour || ':' || n, ' '), '') FROM (
				SELECT colour, count(*) n FROM codes c WHERE updated_at >= $1 AND NOT EXISTS (
					SELECT 1 FROM stays s WHERE s.person_id = c.person_id AND s.place_path <@ $2::text::ltree
					AND s.retracted_at IS NULL AND (s.to_at IS NULL OR s.to_at > now() - make_interval(secs => $3)))
				GROUP BY colour) x`, mark, path, window.Seconds()).Scan(&extra)
			b.Fatalf("%d codes written, want exactly the %d persons with a stay in %s within %s (written without a change, by colour: %s)",
				got, want, region, window, extra)
		}
		written += got
		if i+1 < b.N { // lift the designation for the next iteration
			id := designate(ctx, b, db, region, path, rules.Low)
			if _, err := db.FanOutArea(ctx, id); err != nil {
				b.Fatal(err)
			}
			runOutbox(ctx, b, db, pop.workers, healthcode.TaskReevaluateBatch, fmt.Sprintf("area_risk:%d:", id))
		}
	}
	b.ReportMetric(float64(written)/float64(b.N), "codes_written")
	b.ReportMetric(float64(evaluated)/float64(b.N), "persons_evaluated")
	b.ReportMetric(desigTime.Seconds()/float64(b.N), "s_designation")
	b.ReportMetric(float64(written)/desigTime.Seconds(), "written/s")
	b.ReportMetric(desigTime.Seconds()/baseTime.Seconds(), "x_baseline")
}

// designate records an area risk level for a region now and returns its id.
func designate(ctx context.Context, b *testing.B, db *postgres.DB, region, path, level string) int64 {
	b.Helper()
	var id int64
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO area_risks (region_code, region_path, level, from_at, reason, actor, created_at)
			VALUES ($1, $2::text::ltree, $3, $4, 'benchmark', 'system', $4) RETURNING id`, region, path, level, tx.Now).Scan(&id)
	})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// benchRegion picks the county or city whose residents are closest to 10% of
// the persons.
func benchRegion(ctx context.Context, b *testing.B, db *postgres.DB, persons int) (code, path string, residents int) {
	b.Helper()
	rows, err := db.Pool.Query(ctx, `SELECT subpath(residence_path, 0, 2)::text, count(*) FROM persons GROUP BY 1
		UNION ALL SELECT subpath(residence_path, 0, 3)::text, count(*) FROM persons GROUP BY 1`)
	if err != nil {
		b.Fatal(err)
	}
	best := math.Inf(1)
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			b.Fatal(err)
		}
		if d := math.Abs(float64(n) - float64(persons)/10); d < best {
			best, path, residents = d, p, n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || path == "" {
		b.Fatalf("pick a region: %v", err)
	}
	return path[strings.LastIndexByte(path, '.')+1:], path, residents
}

// publishedStayWindow returns the window of the published rule set's HIGH
// stay_risk clause: a stay in a HIGH area that ended within it turns red.
func publishedStayWindow(ctx context.Context, b *testing.B, db *postgres.DB) time.Duration {
	b.Helper()
	var body []byte
	if err := db.Pool.QueryRow(ctx, "SELECT body FROM rule_sets WHERE status = 'PUBLISHED'").Scan(&body); err != nil {
		b.Fatal(err)
	}
	rs, err := rules.Parse(body)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range rs.Clauses {
		if c.Kind != rules.KindStayRisk {
			continue
		}
		for _, l := range c.Params.Levels {
			if l == rules.High {
				if c.Params.Window != nil {
					return time.Duration(*c.Params.Window)
				}
				return time.Duration(rs.Window)
			}
		}
	}
	b.Fatal("the published rule set has no HIGH stay_risk clause")
	return 0
}
