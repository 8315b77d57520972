package graph_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"healthcode/graph/apitest"
	"healthcode/rules"
)

// arrive declares, for a new resident, an arrival from origin today and
// returns the resident's token.
func (s *scenario) arrive(name, first17, phone, origin string) string {
	s.t.Helper()
	_, token := s.CreateResident(s.t, phone)
	s.declare(token, declaration(name, idNumber(first17), phone, s.community("610113"), map[string]any{
		"form": "ARRIVAL", "origin": origin, "arrivalDate": s.Clock.Now().In(cst).Format(time.DateOnly), "transport": "火车"}))
	return token
}

// A yellow code that waits for check-ins long after the arrival still
// follows its area's designation: re-designating the area at the same level
// keeps it (the person came from a medium-risk area all the same), and
// lowering the area to LOW re-evaluates it and turns it green (四(一)), even
// 70 days after the arrival, beyond the largest window.
func TestScenarioMediumAreaOldArrival(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	set := `mutation($l: RiskLevel!) { setAreaRisk(region: "420106", level: $l, reason: "动态调整") { id } }`
	s.Do(t, officer, set, map[string]any{"l": "MEDIUM"}).MustData(t)
	drainOutbox(t, s)
	token := s.arrive("孙八", "61011319900101031", "13800138031", "420106")
	wantCode(t, "arrived", s.myCode(token, ""), "YELLOW", "Y1")

	s.Clock.Set(start.AddDate(0, 0, 70))
	wantCode(t, "70 days later without a check-in", s.myCode(token, ""), "YELLOW", "Y1")
	s.Do(t, officer, set, map[string]any{"l": "MEDIUM"}).MustData(t)
	drainOutbox(t, s)
	var colour string
	if err := s.Pool.QueryRow(context.Background(), "SELECT colour FROM codes").Scan(&colour); err != nil || colour != "YELLOW" {
		t.Fatalf("after a re-designation at the same level the stored code is %q (%v), want YELLOW", colour, err)
	}
	s.Do(t, officer, set, map[string]any{"l": "LOW"}).MustData(t)
	drainOutbox(t, s)
	// Read as stored: nothing is due, so myCode shows what the fan-out wrote.
	wantCode(t, "after the area was lowered to LOW", s.myCode(token, ""), "GREEN")
}

// A platform upgraded from annex1-2020-03-31 (Y1 closed by time alone) keeps
// that published rule set, which means what it meant; the corrected default
// is offered as a draft submitted by system, and comes into force only when
// a rule admin, after a preview, approves it: then everyone is re-evaluated.
func TestScenarioDefaultRuleSetUpgrade(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	// The database of an earlier release: its default published, no other.
	old := rules.Default()
	old.Version = rules.PreviousDefaultVersions[0]
	old.Clauses[7].Params = rules.Params{Levels: []string{rules.Medium}}
	body, _ := json.Marshal(old)
	if _, err := s.Pool.Exec(ctx, `DELETE FROM rule_sets`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO rule_sets (version, body, status, created_by, created_at, approved_by, published_at)
		VALUES ($1, $2, 'PUBLISHED', 'system', $3, 'system', $3)`, old.Version, body, start.AddDate(0, -1, 0)); err != nil {
		t.Fatal(err)
	}
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "420106", level: MEDIUM) { id } }`, nil).MustData(t)
	drainOutbox(t, s)
	token := s.arrive("周九", "61011319900101041", "13800138041", "420106")
	wantCode(t, "arrived under the old rule set", s.myCode(token, ""), "YELLOW", "Y1")
	s.Clock.Set(time.Date(2026, 11, 16, 0, 0, 0, 0, cst))
	wantCode(t, "14 days later under the old rule set, no check-in", s.myCode(token, ""), "GREEN")

	// The upgrade's start-up.
	for range 2 { // idempotent
		if err := s.DB.EnsureRuleSet(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, admin := s.CreateStaff(t, "rules_a", "61", apitest.G("RULE_ADMIN@61"))
	sets := s.Do(t, admin, `query { ruleSets { version status createdBy body } }`, nil).MustData(t)["ruleSets"].([]any)
	status := map[string]string{}
	var draft string
	for _, x := range sets {
		r := x.(map[string]any)
		status[r["version"].(string)] = r["status"].(string) + "/" + r["createdBy"].(string)
		if r["version"] == rules.DefaultVersion {
			draft = r["body"].(string)
		}
	}
	if len(sets) != 2 || status[old.Version] != "PUBLISHED/system" || status[rules.DefaultVersion] != "DRAFT/system" {
		t.Fatalf("rule sets after the upgrade: %v", status)
	}
	wantCode(t, "before approval", s.myCode(token, ""), "GREEN")
	preview := s.Do(t, admin, `query($b: String!) { previewRuleSet(body: $b) { transitions { from to count } } }`,
		map[string]any{"b": draft}).MustData(t)["previewRuleSet"].(map[string]any)
	found := false
	for _, tr := range preview["transitions"].([]any) {
		tr := tr.(map[string]any)
		found = found || tr["from"] == "GREEN" && tr["to"] == "YELLOW" && tr["count"].(float64) == 1
	}
	if !found {
		t.Fatalf("preview of the new default: %v", preview["transitions"])
	}
	// system submitted it: one rule admin approves.
	s.Do(t, admin, `mutation($v: String!) { approveRuleSet(version: $v) { status } }`, map[string]any{"v": rules.DefaultVersion}).MustData(t)
	drainOutbox(t, s)
	code := s.Do(t, token, `query { myCode { colour clauses { id } ruleSetVersion } }`, nil).MustData(t)["myCode"].(map[string]any)
	wantCode(t, "under the new default", code, "YELLOW", "Y1")
	if code["ruleSetVersion"] != rules.DefaultVersion {
		t.Fatalf("version %v", code["ruleSetVersion"])
	}
	hist := s.Do(t, token, `query { codeHistory { to cause } }`, nil).MustData(t)["codeHistory"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["to"] != "YELLOW" || last["cause"] != "ruleset:"+rules.DefaultVersion {
		t.Fatalf("history %v", hist)
	}
}
