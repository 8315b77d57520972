package graph_test

import (
	"context"
	"fmt"
	"testing"

	"healthcode/graph/apitest"
)

// An area designation's impact preview evaluates the persons the designation
// reaches with the real evaluator, writes nothing, and its count of colour
// changes is what saving the designation then changes.
func TestAreaRiskPreviewMatchesOutcome(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	yanta, beilin := s.community("610113"), s.community("610103")
	for i, p := range []struct {
		name, residence string
		travel          bool
	}{{"住雁塔", yanta, false}, {"住碑林", beilin, false}, {"去过雁塔", beilin, true}} {
		phone := fmt.Sprintf("1390000010%d", i)
		_, token := s.CreateResident(t, phone)
		var extra map[string]any
		if p.travel {
			extra = map[string]any{"travel": []any{map[string]any{"place": "610113", "from": day(-3), "to": day(-3)}}}
		}
		s.declare(token, declaration(p.name, idNumber(fmt.Sprintf("6101031990010110%d", i)), phone, p.residence, extra))
	}
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	count := func(q string) (n int) {
		if err := s.Pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := [3]int{count("SELECT count(*) FROM area_risks"), count("SELECT count(*) FROM audit_log"), count("SELECT count(*) FROM outbox")}

	preview := `query($r: String!, $l: RiskLevel!) { previewAreaRisk(region: $r, level: $l) { regionCode level evaluated changed transitions { from to count } } }`
	p := s.Do(t, officer, preview, map[string]any{"r": "610113", "l": "HIGH"}).MustData(t)["previewAreaRisk"].(map[string]any)
	if p["evaluated"] != float64(2) || p["changed"] != float64(2) || p["level"] != "HIGH" {
		t.Fatalf("preview = %v, want 2 persons reached, both changing", p)
	}
	tr := p["transitions"].([]any)
	if len(tr) != 1 || fmt.Sprint(tr[0]) != "map[count:2 from:GREEN to:RED]" {
		t.Fatalf("preview transitions = %v, want GREEN→RED ×2", tr)
	}
	after := [3]int{count("SELECT count(*) FROM area_risks"), count("SELECT count(*) FROM audit_log"), count("SELECT count(*) FROM outbox")}
	if after != before {
		t.Fatalf("the preview wrote: area risks, audit, outbox %v → %v", before, after)
	}
	if n := count("SELECT count(*) FROM codes WHERE colour <> 'GREEN'"); n != 0 {
		t.Fatalf("%d codes changed by a preview", n)
	}

	// Below the designation's region, or without area_risk.write: refused.
	_, beilinOfficer := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))
	if r := s.Do(t, beilinOfficer, preview, map[string]any{"r": "610113", "l": "HIGH"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("beilin officer previewing yanta: %q", r.Code())
	}
	_, operator := s.CreateStaff(t, "prov_operator", "61", apitest.G("OPERATOR@61"))
	if r := s.Do(t, operator, preview, map[string]any{"r": "610113", "l": "HIGH"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("operator previewing: %q", r.Code())
	}
	if r := s.Do(t, officer, preview, map[string]any{"r": "610113999", "l": "HIGH"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("unknown region: %q", r.Code())
	}

	// Saving it changes exactly what the preview counted.
	id := s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH, reason: "疫情变化") { id } }`, nil).MustData(t)["setAreaRisk"].(map[string]any)["id"]
	s.approvePending(t, "61") // HIGH is in force once a second officer approves it
	drainOutbox(t, s)
	outcome := `query($id: ID!) { areaRiskOutcome(id: $id) { from to count } }`
	got := s.Do(t, officer, outcome, map[string]any{"id": id}).MustData(t)["areaRiskOutcome"].([]any)
	if len(got) != 1 || fmt.Sprint(got[0]) != "map[count:2 from:GREEN to:RED]" {
		t.Fatalf("outcome = %v, want the preview's GREEN→RED ×2", got)
	}
	if r := s.Do(t, beilinOfficer, outcome, map[string]any{"id": id}); r.Code() != "FORBIDDEN" {
		t.Fatalf("beilin officer reading yanta's outcome: %q", r.Code())
	}
	// Previewed again, the designation in force changes nobody.
	p = s.Do(t, officer, preview, map[string]any{"r": "610113", "l": "HIGH"}).MustData(t)["previewAreaRisk"].(map[string]any)
	if p["changed"] != float64(0) {
		t.Fatalf("preview of the designation in force = %v, want no change", p)
	}
}
