package graph_test

import (
	"context"
	"testing"
	"time"

	"healthcode"
)

// The retention purge on the injected clock: declaration forms go after 42
// days, check-ins, ended stays and whole scan partitions only after the rule
// engine's 130-day horizon, so no colour changes; a dry run changes
// nothing; a second run finds nothing; periods below a minimum are refused.
func TestRetentionPurge(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	_, resident := s.CreateResident(t, "13800138301")
	s.declare(resident, declaration("吴存", idNumber("61011319900101301"), "13800138301", s.community("610103"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-3)}}}))
	s.Do(t, resident, `mutation { checkIn(temperature: 36.5) { colour } }`, nil).MustData(t)
	venue, inspector := s.checkpoint(t, "钟楼商场", "610103")
	s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000301", s.credentialOf(t, resident), venue, s.Clock.Now(), 36.6))
	partition := "scans_" + s.Clock.Now().In(healthcode.CST).Format("20060102")

	count := func(sql string) int {
		t.Helper()
		var n int
		if err := s.Pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	rows := func(items []healthcode.PurgeItem, kind string) int64 {
		var n int64
		for _, it := range items {
			if it.Kind == kind {
				n += it.Rows
			}
		}
		return n
	}
	if _, err := s.DB.PurgeExpiredData(ctx, healthcode.Retention{Declarations: 42 * healthcode.Day, CheckIns: 130 * healthcode.Day,
		Scans: 30 * healthcode.Day, Stays: 130 * healthcode.Day, Tickets: 180 * healthcode.Day, AccessLog: 183 * healthcode.Day,
		Audit: 183 * healthcode.Day}, false); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Fatalf("scans kept 30 days: %v", err)
	}

	s.Clock.Advance(100 * 24 * time.Hour)
	items, err := s.DB.PurgeExpiredData(ctx, healthcode.DefaultRetention, false)
	if err != nil {
		t.Fatal(err)
	}
	if rows(items, "declarations") != 1 || rows(items, "check-ins") != 0 || rows(items, "stays") != 0 || rows(items, "scans") != 0 {
		t.Fatalf("after 100 days: %+v", items)
	}
	if count("SELECT count(*) FROM declarations") != 0 || count("SELECT count(*) FROM scans") != 1 {
		t.Fatal("after 100 days the declaration should be gone and the scan kept")
	}

	s.Clock.Advance(31 * 24 * time.Hour)
	before := s.myCode(resident, "")["colour"]
	dry, err := s.DB.PurgeExpiredData(ctx, healthcode.DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	// the declaration's temperature and the check-in; the trip; the day's
	// scan partition (the scan's temperature is in it)
	if rows(dry, "check-ins") != 2 || rows(dry, "stays") != 1 || rows(dry, "scans") != 1 {
		t.Fatalf("dry run after 131 days: %+v", dry)
	}
	if count("SELECT count(*) FROM health_records") != 2 || count("SELECT count(*) FROM scans") != 1 {
		t.Fatal("the dry run changed data")
	}
	items, err = s.DB.PurgeExpiredData(ctx, healthcode.DefaultRetention, false)
	if err != nil {
		t.Fatal(err)
	}
	if rows(items, "check-ins") != 2 || rows(items, "stays") != 1 || rows(items, "scans") != 1 {
		t.Fatalf("purge after 131 days: %+v", items)
	}
	if count("SELECT count(*) FROM health_records") != 0 || count("SELECT count(*) FROM stays WHERE source = 'TRAVEL'") != 0 ||
		count("SELECT count(*) FROM pg_class WHERE relname = '"+partition+"'") != 0 {
		t.Fatal("expired data left")
	}
	if count("SELECT count(*) FROM stays WHERE source = 'RESIDENCE' AND to_at IS NULL") != 1 {
		t.Fatal("the current residence was purged")
	}
	if after := s.myCode(resident, "")["colour"]; after != before || after != "GREEN" {
		t.Fatalf("colour before the purge %v, after %v", before, after)
	}
	if count("SELECT count(*) FROM audit_log WHERE action = 'data.purge'") != 2 {
		t.Fatal("purges not audited")
	}
	again, err := s.DB.PurgeExpiredData(ctx, healthcode.DefaultRetention, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range again {
		if it.Rows != 0 {
			t.Fatalf("second purge removed %+v", it)
		}
	}
}
