package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"healthcode"
	"healthcode/credential"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// The demo activity of `healthcode dev` on an empty database: last week's
// city ranking has ten cities with differing scores, tickets exist in
// several states, a ranking report is stored, and a second run does nothing.
func TestDemoActivity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cipher, _ := pii.NewCipher(bytes.Repeat([]byte{9}, pii.KeySize))
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher, Clock: healthcode.SystemClock{}, Dev: true}
	enforcer, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	db.Authz, db.GrantsChanged = enforcer, enforcer.Invalidate
	if err := db.EnsureRuleSet(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	enforcer.Invalidate()
	ring, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	gen := &postgres.DemoActivity{DB: db, Ring: ring, Persons: 5000}
	sum, err := gen.Generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %s; tickets by state %v", sum, sum.TicketStates)
	if sum.Skipped || sum.Scans == 0 || sum.Tickets < 30 || sum.Reports == 0 {
		t.Fatalf("first run created too little: %s", sum)
	}
	if len(sum.TicketStates) < 4 {
		t.Errorf("tickets in %d states (%v), want at least 4", len(sum.TicketStates), sum.TicketStates)
	}

	sup := healthcode.NewContextWithActor(ctx, demoStaff(t, db, "supervisor"))
	now := time.Now().In(cst)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cst)
	lastMonday := today.AddDate(0, 0, -7-(int(today.Weekday())+6)%7)
	rs := &postgres.RankingService{DB: db}
	rows, err := rs.Rankings(sup, lastMonday, healthcode.LevelCity, "")
	if err != nil {
		t.Fatal(err)
	}
	scores := map[float64]bool{}
	for _, r := range rows {
		scores[r.Score] = true
		t.Logf("%d %s %.2f", r.Rank, r.RegionName, r.Score)
	}
	if len(rows) != 10 || len(scores) < 5 {
		t.Fatalf("ranking of the week of %s: %d cities with %d distinct scores, want 10 cities with varied scores",
			lastMonday.Format("2006-01-02"), len(rows), len(scores))
	}
	reports, err := rs.RankingReports(sup, lastMonday)
	if err != nil || len(reports) == 0 {
		t.Fatalf("ranking reports of last week: %d, %v", len(reports), err)
	}

	var persons, audits int
	db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM audit_log)").Scan(&persons, &audits)
	again, err := gen.Generate(ctx)
	if err != nil || !again.Skipped {
		t.Fatalf("second run: %+v, %v; want skipped", again, err)
	}
	var persons2, audits2 int
	db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM audit_log)").Scan(&persons2, &audits2)
	if persons2 != persons || audits2 != audits {
		t.Fatalf("second run changed data: persons %d → %d, audit records %d → %d", persons, persons2, audits, audits2)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || v.BrokenID != 0 {
		t.Fatalf("audit chain after the demo: %+v, %v", v, err)
	}
}

func demoStaff(t *testing.T, db *postgres.DB, username string) *healthcode.Actor {
	t.Helper()
	a := &healthcode.Actor{Kind: healthcode.ActorStaff, Name: username}
	if err := db.Pool.QueryRow(context.Background(), "SELECT id FROM staff WHERE username = $1", username).Scan(&a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}
