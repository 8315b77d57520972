package postgres_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"testing"
	"time"

	"healthcode"
	"healthcode/exchange"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
)

// BenchmarkNationalExport measures the daily national push (SPEC §7) on its
// worst day: HC_BENCH_EXPORT_PERSONS (default 1,000,000) persons with codes,
// built with set-based SQL (benchLoadPersons), every code changed on the
// day (as after a rule publish). Timed: NationalPush.Push of the day — the
// read of the day's codes, the batches of NationalBatchSize records built,
// stored and audited in one transaction, each signed and sent over loopback
// HTTP to the exchange stub, which verifies it, and its receipt stored.
// Baseline: the plain SELECT of the same rows and columns, every row
// decoded, after a warm-up. Reports records/s, baseline_records/s and
// x_baseline = push rate ÷ SELECT rate (higher is better). It checks that
// the stub received every record once.
func BenchmarkNationalExport(b *testing.B) {
	if b.N > 1 {
		b.Skip("one push per database; run with -benchtime 1x")
	}
	ctx := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)
	persons := benchEnvInt("HC_BENCH_EXPORT_PERSONS", 1_000_000)
	pool := pgtest.New(keepTB{b})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, cst)
	clock := &healthcode.OffsetClock{}
	clock.Set(day.Add(24*time.Hour + 30*time.Minute)) // 00:30 the next day
	db := &postgres.DB{Pool: pool, Clock: clock}
	benchLoadPersons(b, pool, persons, day)
	benchExec(b, pool, `UPDATE codes SET updated_at = $1::timestamptz + (person_id % 86000) * interval '1 second'`, day)
	benchExec(b, pool, "VACUUM ANALYZE persons, codes")

	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	stub := exchange.NewStub(pub)
	srv := httptest.NewServer(stub)
	defer srv.Close()
	push := &postgres.NationalPush{DB: db, Key: key, Sender: &exchange.Client{URL: srv.URL, KeyID: "bench"}}

	selectAll := func() (time.Duration, int) {
		t0 := time.Now()
		rows, err := pool.Query(ctx, `SELECT p.code_id, p.name_masked, p.residence_code, c.colour, c.updated_at
			FROM codes c JOIN persons p ON p.id = c.person_id
			WHERE c.updated_at >= $1 AND c.updated_at < $2 ORDER BY c.person_id`, day, day.AddDate(0, 0, 1))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var codeID, name, region, colour string
			var at time.Time
			if err := rows.Scan(&codeID, &name, &region, &colour, &at); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), n
	}
	selectAll() // warm-up
	tSelect, n := selectAll()

	b.ResetTimer()
	t0 := time.Now()
	if err := push.Push(ctx, day); err != nil {
		b.Fatal(err)
	}
	tPush := time.Since(t0)
	b.StopTimer()
	if stub.Records() != n || n != persons {
		b.Fatalf("the stub received %d records, the day has %d codes of %d persons", stub.Records(), n, persons)
	}
	b.ReportMetric(float64(n)/tPush.Seconds(), "records/s")
	b.ReportMetric(float64(n)/tSelect.Seconds(), "baseline_records/s")
	b.ReportMetric(tSelect.Seconds()/tPush.Seconds(), "x_baseline")
	b.ReportMetric(float64(stub.Batches()), "batches")
}
