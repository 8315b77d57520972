package graph_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode/graph/apitest"
	"healthcode/postgres/pgtest"
)

// With a read pool (READ_DATABASE_URL), the rankings are read from it, not
// from the primary: a second database stands in for the replica, with other
// figures than the primary's.
func TestRankingsReadFromTheReadPool(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(rankingNow)
	_, supervisor := b.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	replica := pgtest.New(t)
	coverage := func(pool *pgxpool.Pool, xian float64) {
		if _, err := pool.Exec(context.Background(), `INSERT INTO indicator_daily (day, indicator, region_code, region_path, numerator, denominator, computed_at)
			SELECT '2026-11-18', 'COVERAGE', code, path, $1, 100, now() FROM regions WHERE code = '6101'`, xian); err != nil {
			t.Fatal(err)
		}
	}
	coverage(b.Pool, 90)
	coverage(replica, 40)
	const query = `query { rankings(week: "2026-11-16", level: CITY) { regionCode score } }`
	score := func() any {
		for _, r := range b.Do(t, supervisor, query, nil).MustData(t)["rankings"].([]any) {
			if row := r.(map[string]any); row["regionCode"] == "6101" {
				return row["score"]
			}
		}
		return nil
	}
	if got := score(); got != 90.0 {
		t.Fatalf("without a read pool: 西安 scores %v, want the primary's 90", got)
	}
	b.DB.ReadPool = replica
	if got := score(); got != 40.0 {
		t.Fatalf("with a read pool: 西安 scores %v, want the replica's 40", got)
	}
}
