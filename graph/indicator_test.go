package graph_test

import (
	"context"
	"math"
	"testing"
	"time"

	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// A declaration marks its day; the worker's pass computes it; supervisors
// and the city's administrators read the series, others are refused.
func TestIndicatorSeries(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	s.Clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, cst))
	_, resident := s.CreateResident(t, "13800139100")
	s.declare(resident, declaration("指标居民", idNumber("61011319900101101"), "13800139100", s.community("610113"), nil))
	_, supervisor := s.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	_, baoji := s.CreateStaff(t, "baoji_admin", "6103", apitest.G("ADMIN@6103"))

	svc := &postgres.IndicatorService{DB: s.DB}
	if n, err := svc.RecomputeDirty(context.Background()); err != nil || n != 1 {
		t.Fatalf("recomputed %d days: %v", n, err)
	}
	q := `query($r: String!) { indicatorSeries(region: $r, indicator: "COVERAGE", from: "2026-11-24", to: "2026-11-25") {
		day numerator denominator value } }`
	for _, tok := range []string{supervisor, xian} {
		pts := s.Do(t, tok, q, map[string]any{"r": "6101"}).MustData(t)["indicatorSeries"].([]any)
		if len(pts) != 2 {
			t.Fatalf("points %v", pts)
		}
		first, second := pts[0].(map[string]any), pts[1].(map[string]any)
		if first["day"] != "2026-11-24" || first["value"] != nil {
			t.Fatalf("a day not computed: %v", first)
		}
		v, _ := second["value"].(float64)
		if second["day"] != "2026-11-25" || second["numerator"] != 1.0 || second["denominator"] != 12952907.0 ||
			math.Abs(v-100.0/12952907) > 1e-12 {
			t.Fatalf("the declaration's day: %v", second)
		}
	}
	if r := s.Do(t, baoji, q, map[string]any{"r": "6101"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("baoji admin reading xi'an: %q", r.Code())
	}
	if r := s.Do(t, resident, q, map[string]any{"r": "6101"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("resident: %q", r.Code())
	}
	if r := s.Do(t, supervisor, `query { indicatorSeries(region: "6101", indicator: "COVERAGE", from: "2026-11-31", to: "2026-12-01") { day } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("bad date: %q", r.Code())
	}
}

// A ticket's steps mark the days of its earlier steps too: signing on D+1 a
// ticket dispatched on D recomputes D (its response stays late) and D+1 (the
// day it went overdue).
func TestIndicatorTicketDays(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	d := time.Date(2026, 11, 25, 9, 0, 0, 0, cst) // a Wednesday
	s.Clock.Set(d)
	_, resident := s.CreateResident(t, "13800139101")
	s.declare(resident, declaration("工单居民", idNumber("61011319900101102"), "13800139101", s.community("610113"), nil))
	_, admin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, admin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "handler", "610113", apitest.G("HANDLER@610113"))
	s.Clock.Set(d.Add(30 * time.Minute))
	id := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)

	svc := &postgres.IndicatorService{DB: s.DB}
	if n, err := svc.RecomputeDirty(ctx); err != nil || n != 1 {
		t.Fatalf("day D: recomputed %d days, %v", n, err)
	}
	row := func(day time.Time, ind string) (num, den float64, ok bool) {
		err := s.Pool.QueryRow(ctx, `SELECT numerator, denominator FROM indicator_daily
			WHERE day = $1 AND indicator = $2 AND region_code = '610113'`, day, ind).Scan(&num, &den)
		return num, den, err == nil
	}
	if num, den, ok := row(d, "HOTLINE_RESPONSE"); !ok || num != 0 || den != 1 {
		t.Fatalf("response on D: %v/%v (%v)", num, den, ok)
	}

	s.Clock.Set(d.AddDate(0, 0, 1).Add(time.Hour))
	if _, overdue, err := s.Tickets().ProcessDeadlines(ctx); err != nil || overdue != 1 {
		t.Fatalf("overdue %d, %v", overdue, err)
	}
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	var dirty []string
	rows, _ := s.Pool.Query(ctx, "SELECT day::text FROM indicator_dirty_days ORDER BY day")
	for rows.Next() {
		var day string
		rows.Scan(&day)
		dirty = append(dirty, day)
	}
	rows.Close()
	if len(dirty) != 2 || dirty[0] != "2026-11-25" || dirty[1] != "2026-11-26" {
		t.Fatalf("dirty days after the signing: %v", dirty)
	}
	if n, err := svc.RecomputeDirty(ctx); err != nil || n != 2 {
		t.Fatalf("recomputed %d days, %v", n, err)
	}
	if num, den, ok := row(d, "HOTLINE_RESPONSE"); !ok || num != 0 || den != 1 {
		t.Fatalf("response on D after a late signing: %v/%v (%v)", num, den, ok)
	}
	if num, _, ok := row(d.AddDate(0, 0, 1), "HOTLINE_OVERDUE"); !ok || num != 1 {
		t.Fatalf("overdue on D+1: %v (%v)", num, ok)
	}
}

// A late upload marks the day of its scans, not the day of the upload.
func TestIndicatorLateScanUpload(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	d := time.Date(2026, 11, 25, 9, 0, 0, 0, cst)
	s.Clock.Set(d)
	_, resident := s.CreateResident(t, "13800139102")
	s.declare(resident, declaration("扫码居民", idNumber("61011319900101103"), "13800139102", s.community("610103"), nil))
	venue, inspector := s.checkpoint(t, "小寨商场", "610113")
	svc := &postgres.IndicatorService{DB: s.DB}
	if _, err := svc.RecomputeDirty(ctx); err != nil {
		t.Fatal(err)
	}
	s.Clock.Set(d.Add(11 * time.Hour)) // scanned offline at 20:00
	token := s.credentialOf(t, resident)
	s.Clock.Set(d.AddDate(0, 0, 1)) // uploaded the next morning
	if r := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000201", token, venue, d.Add(11*time.Hour), 36.5)); r[0]["status"] != "ACCEPTED" {
		t.Fatalf("late upload: %v", r)
	}
	var dirty []string
	rows, _ := s.Pool.Query(ctx, "SELECT day::text FROM indicator_dirty_days ORDER BY day")
	for rows.Next() {
		var day string
		rows.Scan(&day)
		dirty = append(dirty, day)
	}
	rows.Close()
	if len(dirty) != 1 || dirty[0] != "2026-11-25" {
		t.Fatalf("dirty days after the upload: %v", dirty)
	}
	if _, err := svc.RecomputeDirty(ctx); err != nil {
		t.Fatal(err)
	}
	var num float64
	if err := s.Pool.QueryRow(ctx, `SELECT numerator FROM indicator_daily WHERE day = '2026-11-25'
		AND indicator = 'SCANS_PER_1000' AND region_code = '610113'`).Scan(&num); err != nil || num != 1 {
		t.Fatalf("scans of D at 雁塔: %v, %v", num, err)
	}
}
