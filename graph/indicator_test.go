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
