package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"healthcode"
	"healthcode/credential"
	"healthcode/demo"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// demoDB is an empty dev database with the demo accounts, under clock.
func demoDB(t *testing.T, clock healthcode.Clock) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	cipher, _ := pii.NewCipher(bytes.Repeat([]byte{9}, pii.KeySize))
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher, Clock: clock, Dev: true}
	enforcer, err := rbac.New(db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	db.Authz, db.GrantsChanged = enforcer, enforcer.Invalidate
	if err := db.EnsureRuleSet(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db); err != nil {
		t.Fatal(err)
	}
	enforcer.Invalidate()
	return db
}

// The demo activity of `healthcode dev` on an empty database is correct on
// every date and at every size: it runs under an injected clock on seven
// consecutive days (Monday 2026-11-30 to Sunday 2026-12-06, at times around
// the day's events: before the 00:30 national push and the 07:00
// declarations, and on the Friday before and after the 16:00 weekly report
// deadline and the 17:00 ranking), with a few hundred persons, and on two of
// them with two thousand and the default 14 days replayed (the few hundred
// replay 7 days, to keep the test short; at two thousand the ranking must
// vary and a second run must do nothing); each run's summary is checked against the
// database and against what the demo promises (docs/operations.md).
func TestActivity(t *testing.T) {
	t.Parallel()
	runs := []struct {
		at      string
		persons int
	}{
		{"2026-11-30T05:53:00+08:00", 300},  // Monday, before the day's declarations (issue 11)
		{"2026-12-01T00:20:00+08:00", 300},  // Tuesday, before the national push of Monday
		{"2026-12-02T12:00:00+08:00", 2000}, // Wednesday
		{"2026-12-03T12:36:00+08:00", 300},  // Thursday, when `make test` failed
		{"2026-12-04T15:30:00+08:00", 300},  // Friday, before the weekly reports' deadline
		{"2026-12-04T16:30:00+08:00", 300},  // after it, before the ranking reports
		{"2026-12-04T17:30:00+08:00", 2000}, // after both
		{"2026-12-05T09:30:00+08:00", 300},  // Saturday, after the late city's report
		{"2026-12-06T20:00:00+08:00", 300},  // Sunday
	}
	for _, r := range runs {
		at, err := time.Parse(time.RFC3339, r.at)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("%s_%s_%d", at.Weekday(), at.Format("0102T1504"), r.persons), func(t *testing.T) {
			t.Parallel()
			clock := &healthcode.OffsetClock{}
			clock.Set(at)
			db := demoDB(t, clock)
			ring, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
			if err != nil {
				t.Fatal(err)
			}
			days := demo.DefaultDays
			if r.persons < 2000 {
				days = 7 // a week back: every weekday is still replayed, at half the cost
			}
			gen := &demo.Activity{DB: db, Ring: ring, Persons: r.persons, Days: days}
			sum, err := gen.Generate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s; tickets by state %v", sum, sum.TicketStates)
			checkDemo(t, db, sum, clock.Now(), r.persons, days)
			if r.persons >= 2000 {
				checkDemoRanking(t, db, clock.Now())
				checkDemoRerun(t, db, gen)
			}
		})
	}
}

// The demo checkpoint `healthcode dev` seeds before the demo activity is no
// activity: the province is still generated on a fresh database.
func TestActivityAfterCheckpoint(t *testing.T) {
	t.Parallel()
	clock := &healthcode.OffsetClock{}
	clock.Set(time.Date(2026, 12, 2, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	db := demoDB(t, clock)
	ctx := context.Background()
	if err := demo.SeedCheckpoint(ctx, db); err != nil {
		t.Fatal(err)
	}
	ring, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&demo.Activity{DB: db, Ring: ring, Persons: 100, Days: 2}).Generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped || sum.Persons == 0 {
		t.Fatalf("after the demo checkpoint the activity was skipped: %s", sum)
	}
}

// checkDemo compares the summary with the database and with the demo's
// promises.
func checkDemo(t *testing.T, db *postgres.DB, sum *demo.Summary, now time.Time, persons, days int) {
	t.Helper()
	ctx := context.Background()
	if sum.Skipped {
		t.Fatal("first run skipped")
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"persons", sum.Persons, count("SELECT count(*) FROM persons")},
		{"institutions", sum.Institutions, count("SELECT count(*) FROM institutions")},
		{"venues", sum.Venues, count("SELECT count(*) FROM venues")},
		{"scans", sum.Scans, count("SELECT count(*) FROM scans")},
		{"fevers", sum.Fevers, count("SELECT count(*) FROM fever_reports")},
		{"tickets", sum.Tickets, count("SELECT count(*) FROM tickets")},
		{"weekly reports", sum.WeeklyReports, count("SELECT count(*) FROM weekly_reports WHERE status = 'SUBMITTED'")},
		{"joint meeting lists", sum.JointLists, count("SELECT count(*) FROM joint_meeting_lists")},
		{"national pushes", sum.NationalDays, count("SELECT count(*) FROM national_pushes WHERE acked_at IS NOT NULL")},
		{"ranking reports", sum.Reports, count("SELECT count(*) FROM ranking_reports")},
	} {
		if c.got != c.want {
			t.Errorf("summary says %d %s, the database holds %d", c.got, c.name, c.want)
		}
	}
	rows, err := db.Pool.Query(ctx, "SELECT state, count(*)::int FROM tickets GROUP BY state")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		states[s] = n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if fmt.Sprint(states) != fmt.Sprint(sum.TicketStates) {
		t.Errorf("summary says tickets by state %v, the database holds %v", sum.TicketStates, states)
	}

	// The promises, the same on every date and at every size.
	cst := healthcode.CST
	today := time.Date(now.In(cst).Year(), now.In(cst).Month(), now.In(cst).Day(), 0, 0, 0, 0, cst)
	if sum.Persons != persons {
		t.Errorf("%d persons, want %d", sum.Persons, persons)
	}
	if sum.Institutions != 20 || sum.Venues < 40 {
		t.Errorf("%d institutions with %d venues, want 20 (two counties in each city) with at least two venues each", sum.Institutions, sum.Venues)
	}
	if sum.Scans < 20*days || sum.Fevers > sum.Scans {
		t.Errorf("%d scans (%d fevers), want at least one a day in each county over %d days", sum.Scans, sum.Fevers, days)
	}
	if sum.Tickets != demo.Tickets {
		t.Errorf("%d tickets, want %d", sum.Tickets, demo.Tickets)
	}
	for _, st := range []string{"ACCEPTED", "DISPATCHED", "SIGNED"} { // the six newest wait in the queues
		if sum.TicketStates[st] < 2 {
			t.Errorf("%d tickets %s, want at least 2 (%v)", sum.TicketStates[st], st, sum.TicketStates)
		}
	}
	if sum.TicketStates["CLOSED"] < demo.Tickets/3 {
		t.Errorf("%d tickets closed, want most of the older ones (%v)", sum.TicketStates["CLOSED"], sum.TicketStates)
	}
	// One push a day from three weeks back to yesterday, each at 00:30 the
	// next morning.
	pushes := days + 7
	if now.Before(today.Add(31 * time.Minute)) {
		pushes--
	}
	if sum.NationalDays != pushes {
		t.Errorf("%d national pushes, want %d", sum.NationalDays, pushes)
	}
	if count("SELECT count(*) FROM national_pushes WHERE late") != 1 {
		t.Errorf("want one national push acknowledged late")
	}
	// Weekly reports: nine of the ten cities, eight by the Friday 16:00
	// deadline (the first by 09:00), one the next morning; on this week's
	// Friday only those whose time has come.
	for d := today.AddDate(0, 0, -days); !d.After(today); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Friday {
			continue
		}
		monday := d.AddDate(0, 0, -4)
		onTime := count("SELECT count(*) FROM weekly_reports WHERE week_start = $1 AND status = 'SUBMITTED' AND on_time", monday)
		late := count("SELECT count(*) FROM weekly_reports WHERE week_start = $1 AND status = 'SUBMITTED' AND NOT on_time", monday)
		wantOnTime, wantLate := 8, 1
		if now.Before(d.Add(13 * time.Hour)) {
			wantOnTime = -1 // some are still being written
		}
		if now.Before(d.Add(33*time.Hour + time.Minute)) {
			wantLate = 0
		}
		if (wantOnTime >= 0 && onTime != wantOnTime) || late != wantLate {
			t.Errorf("weekly reports of %s: %d on time, %d late; want %d and %d", monday.Format("2006-01-02"), onTime, late, wantOnTime, wantLate)
		}
	}
	if sum.Reports == 0 || sum.IndicatorDays == 0 {
		t.Errorf("%d ranking reports over %d indicator days, want some", sum.Reports, sum.IndicatorDays)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || v.BrokenID != 0 {
		t.Fatalf("audit chain after the demo: %+v, %v", v, err)
	}
}

// checkDemoRanking: last week's city ranking has ten cities with differing
// scores and a report.
func checkDemoRanking(t *testing.T, db *postgres.DB, now time.Time) {
	t.Helper()
	sup := healthcode.NewContextWithActor(context.Background(), demoStaff(t, db, "supervisor"))
	n := now.In(healthcode.CST)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, healthcode.CST)
	lastMonday := today.AddDate(0, 0, -7-(int(today.Weekday())+6)%7)
	rs := &postgres.RankingService{DB: db}
	rows, err := rs.Rankings(sup, lastMonday, healthcode.LevelCity, "")
	if err != nil {
		t.Fatal(err)
	}
	scores := map[float64]bool{}
	for _, r := range rows {
		scores[r.Score] = true
	}
	if len(rows) != 10 || len(scores) < 5 {
		t.Fatalf("ranking of the week of %s: %d cities with %d distinct scores, want 10 cities with varied scores",
			lastMonday.Format("2006-01-02"), len(rows), len(scores))
	}
	reports, err := rs.RankingReports(sup, lastMonday)
	if err != nil || len(reports) == 0 {
		t.Fatalf("ranking reports of last week: %d, %v", len(reports), err)
	}
}

// checkDemoRerun: a second run does nothing.
func checkDemoRerun(t *testing.T, db *postgres.DB, gen *demo.Activity) {
	t.Helper()
	ctx := context.Background()
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
}

func demoStaff(t *testing.T, db *postgres.DB, username string) *healthcode.Actor {
	t.Helper()
	a := &healthcode.Actor{Kind: healthcode.ActorStaff, Name: username}
	if err := db.Pool.QueryRow(context.Background(), "SELECT id FROM staff WHERE username = $1", username).Scan(&a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}
