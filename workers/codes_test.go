package workers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/workers"
)

// allowAll is an Authorizer for worker tests: the system actor may do anything.
type allowAll struct{}

func (allowAll) Authorize(context.Context, *healthcode.Actor, healthcode.Permission, string) error {
	return nil
}
func (allowAll) VisibleRegions(context.Context, *healthcode.Actor, healthcode.Permission) ([]string, error) {
	return []string{"61"}, nil
}
func (allowAll) RolesAt(context.Context, *healthcode.Actor, healthcode.Permission, string) ([]healthcode.Role, error) {
	return nil, nil
}

// An area designation travels outbox → relay → asynq → fan-out → batch
// re-evaluation, and turns exactly the residents of the area red.
func TestAreaDesignationThroughWorkers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.db.Authz = allowAll{}
	ctx := healthcode.NewContextWithActor(b.ctx, healthcode.SystemActor)
	if err := b.db.EnsureRuleSet(ctx); err != nil {
		t.Fatal(err)
	}
	// Five residents of a Yanta community, three of a Beilin one.
	var yanta, beilin string
	b.db.Pool.QueryRow(ctx, "SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610113%'").Scan(&yanta)
	b.db.Pool.QueryRow(ctx, "SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610103%'").Scan(&beilin)
	var ids []int64
	for i := 0; i < 8; i++ {
		home := yanta
		if i >= 5 {
			home = beilin
		}
		var id int64
		err := b.db.Pool.QueryRow(ctx, `INSERT INTO persons (doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked,
			residence_code, residence_path, address_enc, created_at, updated_at)
			SELECT 'PASSPORT', $1, $1, 'E***', $1, '甲*', code, path, $1, now(), now() FROM regions WHERE code = $2 RETURNING id`,
			[]byte(fmt.Sprint("doc", i)), home).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.Pool.Exec(ctx, `INSERT INTO stays (person_id, place, from_at, source, actor, created_at)
			VALUES ($1, $2, now() - interval '1 day', 'RESIDENCE', 'system', now())`, id, home); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := b.db.ReevaluateIDs(ctx, ids, "test"); err != nil {
		t.Fatal(err)
	}
	facts := &postgres.FactService{DB: b.db}
	if _, err := facts.SetAreaRisk(ctx, "610113", healthcode.RiskHigh, "测试"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() {
		done <- workers.Run(runCtx, workers.Config{RedisURL: b.redisURL, Outbox: b.db,
			Deps:   workers.Deps{SMS: b.db, Sender: &postgres.DevSMSSender{DB: b.db}, Codes: b.db},
			Logger: b.logger, Schedule: []workers.PeriodicTask{}, RelayInterval: 100 * time.Millisecond})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("workers.Run: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var red, green int
		b.db.Pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE colour = 'RED'), count(*) FILTER (WHERE colour = 'GREEN') FROM codes").Scan(&red, &green)
		if red == 5 && green == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d red, %d green; want 5 red, 3 green", red, green)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
