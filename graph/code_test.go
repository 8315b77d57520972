package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/graph/apitest"
)

var cst = time.FixedZone("CST", 8*3600)

// start is the scenarios' "today": 2026-11-01 10:00 in Shaanxi.
var start = time.Date(2026, 11, 1, 10, 0, 0, 0, cst)

func day(offset int) string { return start.AddDate(0, 0, offset).Format("2006-01-02") }

// idNumber makes a valid resident ID number from a 17-digit prefix.
func idNumber(first17 string) string {
	c, _ := healthcode.IDCheckChar(first17)
	return first17 + string(c)
}

type scenario struct {
	*apitest.Bundle
	t *testing.T
}

func newScenario(t *testing.T) *scenario {
	b := apitest.Setup(t, apitest.Options{Dev: true})
	b.Clock.Set(start)
	return &scenario{Bundle: b, t: t}
}

func (s *scenario) community(countyPrefix string) string {
	var code string
	if err := s.Pool.QueryRow(context.Background(), `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE $1 || '%'`,
		countyPrefix).Scan(&code); err != nil {
		s.t.Fatal(err)
	}
	return code
}

const declareMutation = `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) {
	person { id name relation docNumber }
	code { colour clauses { id reason citation factIds } reevaluateAt } } }`

func declaration(name, doc, phone, residence string, extra map[string]any) map[string]any {
	in := map[string]any{"form": "RESIDENT", "name": name, "docType": "ID_CARD", "docNumber": doc, "phone": phone,
		"residence": residence, "address": "1号楼1单元101", "temperature": 36.5}
	for k, v := range extra {
		in[k] = v
	}
	return map[string]any{"in": in}
}

// declare submits a declaration and returns the person id and the code.
func (s *scenario) declare(token string, vars map[string]any) (string, map[string]any) {
	s.t.Helper()
	data := s.Do(s.t, token, declareMutation, vars).MustData(s.t)
	p := data["submitDeclaration"].(map[string]any)
	return p["person"].(map[string]any)["id"].(string), p["code"].(map[string]any)
}

func (s *scenario) myCode(token, personID string) map[string]any {
	s.t.Helper()
	vars := map[string]any{"p": nil}
	if personID != "" {
		vars["p"] = personID
	}
	data := s.Do(s.t, token, `query($p: ID) { myCode(personId: $p) { colour clauses { id reason } reevaluateAt } }`, vars).MustData(s.t)
	return data["myCode"].(map[string]any)
}

func clauseIDs(code map[string]any) []string {
	var ids []string
	for _, c := range code["clauses"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	return ids
}

// wantCode checks a code's colour and clause ids; a green code carries the
// one clause G (附件1 一(三)) explaining it.
func wantCode(t *testing.T, what string, code map[string]any, colour string, clauses ...string) {
	t.Helper()
	if colour == "GREEN" && len(clauses) == 0 {
		clauses = []string{"G"}
	}
	got := clauseIDs(code)
	if code["colour"] != colour || strings.Join(got, ",") != strings.Join(clauses, ",") {
		t.Fatalf("%s: colour %v clauses %v, want %s %v", what, code["colour"], got, colour, clauses)
	}
}

// A trip abroad makes the code red citing R1 and the trip; 15 days after
// the trip the code is green again, without any new fact.
func TestScenarioTripAbroad(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138001")
	_, code := s.declare(token, declaration("张三", idNumber("61011319900307123"), "13800138001", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-2)}}}))
	wantCode(t, "after the trip", code, "RED", "R1")
	reason := code["clauses"].([]any)[0].(map[string]any)["reason"].(string)
	if !strings.Contains(reason, "在境外（美国）旅居") || !strings.Contains(reason, "一(一)") {
		t.Fatalf("R1 reason does not cite the trip and Annex 1 一(一): %s", reason)
	}
	s.Clock.Advance(15 * 24 * time.Hour)
	wantCode(t, "15 days later", s.myCode(token, ""), "GREEN")
	data := s.Do(t, token, `query { codeHistory { from to cause clauseIds } }`, nil).MustData(t)
	hist := data["codeHistory"].([]any)
	if len(hist) != 2 || hist[1].(map[string]any)["from"] != "RED" || hist[1].(map[string]any)["cause"] != "time" {
		t.Fatalf("history = %v", hist)
	}
}

// Fever at check-in → yellow; green only after 14 consecutive days of
// normal check-ins.
func TestScenarioFeverCheckIns(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138002")
	_, code := s.declare(token, declaration("李四", idNumber("61010319850101002"), "13800138002", s.community("610103"), nil))
	wantCode(t, "declared", code, "GREEN")
	checkIn := func(temp float64) map[string]any {
		data := s.Do(t, token, `mutation($t: Float!) { checkIn(temperature: $t) { colour clauses { id } } }`, map[string]any{"t": temp}).MustData(t)
		return data["checkIn"].(map[string]any)
	}
	wantCode(t, "fever", checkIn(38.0), "YELLOW", "Y2")
	for d := 1; d <= 14; d++ {
		s.Clock.Advance(24 * time.Hour)
		code := checkIn(36.6)
		if d < 14 {
			wantCode(t, fmt.Sprintf("normal day %d", d), code, "YELLOW", "Y2")
		} else {
			wantCode(t, "14th normal day", code, "GREEN")
		}
	}
}

// A suspected case is red until a health officer records the exclusion.
func TestScenarioSuspectedExcluded(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138003")
	pid, _ := s.declare(token, declaration("王五", idNumber("61011319700101003"), "13800138003", s.community("610113"), nil))
	_, officer := s.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	rec := `mutation($p: ID!, $k: MedicalKind!) { recordMedicalEvent(personId: $p, kind: $k) { colour clauses { id } } }`
	s.Do(t, officer, rec, map[string]any{"p": pid, "k": "SUSPECTED"}).MustData(t)
	s.approvePending(t, "610113") // by a second officer (docs/security-colour.md)
	wantCode(t, "suspected", s.myCode(token, ""), "RED", "R3")
	s.Clock.Advance(48 * time.Hour)
	s.Do(t, officer, rec, map[string]any{"p": pid, "k": "SUSPECT_EXCLUDED"}).MustData(t)
	s.approvePending(t, "610113")
	wantCode(t, "excluded", s.myCode(token, ""), "GREEN")
	// The resident was told of each change by SMS (through the outbox).
	var n int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = 'notify:sms'").Scan(&n)
	if n != 2 {
		t.Fatalf("%d SMS queued, want 2 (green→red, red→green)", n)
	}
	// A Beilin officer cannot touch a Yanta resident.
	_, beilin := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))
	if r := s.Do(t, beilin, rec, map[string]any{"p": pid, "k": "CONFIRMED"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("beilin officer on a yanta person: %q", r.Code())
	}
}

// drainOutbox runs the bulk re-evaluation tasks the way the workers do.
func drainOutbox(t *testing.T, s *scenario) {
	t.Helper()
	ctx := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)
	for {
		rows, err := s.Pool.Query(ctx, `SELECT id, task_type, payload FROM outbox WHERE sent_at IS NULL AND task_type LIKE 'codes:%' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			id      int64
			typ     string
			payload []byte
		}
		var list []row
		for rows.Next() {
			var r row
			rows.Scan(&r.id, &r.typ, &r.payload)
			list = append(list, r)
		}
		rows.Close()
		if len(list) == 0 {
			return
		}
		for _, r := range list {
			switch r.typ {
			case healthcode.TaskFanOutArea:
				var p struct{ AreaRiskID int64 }
				json.Unmarshal(r.payload, &p)
				if _, err := s.DB.FanOutArea(ctx, p.AreaRiskID); err != nil {
					t.Fatal(err)
				}
			case healthcode.TaskFanOutAll:
				var p struct{ Cause string }
				json.Unmarshal(r.payload, &p)
				if _, err := s.DB.FanOutAll(ctx, p.Cause); err != nil {
					t.Fatal(err)
				}
			case healthcode.TaskReevaluateBatch:
				var p healthcode.BatchPayload
				json.Unmarshal(r.payload, &p)
				if _, err := s.DB.ReevaluateIDs(ctx, p.IDs, p.Cause); err != nil {
					t.Fatal(err)
				}
			case healthcode.TaskReevaluateRange:
				var p healthcode.RangePayload
				json.Unmarshal(r.payload, &p)
				if _, err := s.DB.ReevaluateRange(ctx, p.From, p.To, p.Cause); err != nil {
					t.Fatal(err)
				}
			}
			s.Pool.Exec(ctx, "UPDATE outbox SET sent_at = now() WHERE id = $1", r.id)
		}
	}
}

// Designating a county HIGH turns exactly the persons who stayed there (or
// live there) red and nobody else; lowering it turns them back.
func TestScenarioAreaDesignation(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	yanta, beilin, lianhu := s.community("610113"), s.community("610103"), s.community("610104")
	type person struct {
		name, token, id string
		want            string
	}
	people := []*person{
		{name: "住雁塔", want: "RED"},
		{name: "住碑林", want: "GREEN"},
		{name: "去过雁塔", want: "RED"},
		{name: "住莲湖", want: "GREEN"},
	}
	for i, p := range people {
		phone := fmt.Sprintf("1390000000%d", i)
		_, p.token = s.CreateResident(t, phone)
		residence, extra := beilin, map[string]any(nil)
		switch i {
		case 0:
			residence = yanta
		case 2:
			extra = map[string]any{"travel": []any{map[string]any{"place": "610113", "from": day(-3), "to": day(-3)}}}
		case 3:
			residence = lianhu
		}
		p.id, _ = s.declare(p.token, declaration(p.name, idNumber(fmt.Sprintf("6101031990010100%d", i)), phone, residence, extra))
	}
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	set := `mutation($r: String!, $l: RiskLevel!) { setAreaRisk(region: $r, level: $l, reason: "疫情变化") { id level } }`
	s.Do(t, officer, set, map[string]any{"r": "610113", "l": "HIGH"}).MustData(t)
	s.approvePending(t, "610113") // by a second officer (docs/security-colour.md)
	drainOutbox(t, s)
	for _, p := range people {
		wantCode(t, p.name+" after HIGH", s.myCode(p.token, ""), p.want, clausesFor(p.want)...)
	}
	var changed int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM code_history WHERE cause LIKE 'area_risk:%'").Scan(&changed)
	if changed != 2 {
		t.Fatalf("%d colour changes from the designation, want 2", changed)
	}
	s.Do(t, officer, set, map[string]any{"r": "610113", "l": "LOW"}).MustData(t)
	s.approvePending(t, "610113") // lowering a HIGH lifts reds
	drainOutbox(t, s)
	for _, p := range people {
		wantCode(t, p.name+" after LOW", s.myCode(p.token, ""), "GREEN")
	}
	// A Beilin officer cannot designate Yanta.
	_, beilinOfficer := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))
	if r := s.Do(t, beilinOfficer, set, map[string]any{"r": "610113", "l": "HIGH"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("beilin officer designating yanta: %q", r.Code())
	}
}

func clausesFor(colour string) []string {
	if colour == "RED" {
		return []string{"R1"}
	}
	return nil
}

// A manual red designation does nothing until a second officer approves it.
func TestScenarioManualRedNeedsSecondApprover(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138005")
	pid, _ := s.declare(token, declaration("赵六", idNumber("61011319800101005"), "13800138005", s.community("610113"), nil))
	_, first := s.CreateStaff(t, "officer_one", "610113", apitest.G("HEALTH_OFFICER@610113"))
	_, second := s.CreateStaff(t, "officer_two", "610113", apitest.G("HEALTH_OFFICER@610113"))
	data := s.Do(t, first, `mutation($p: ID!) { designatePerson(personId: $p, colour: RED, reason: "流调发现与病例同乘") { designationId code { colour } } }`,
		map[string]any{"p": pid}).MustData(t)
	d := data["designatePerson"].(map[string]any)
	wantCode(t, "unapproved", s.myCode(token, ""), "GREEN")
	approve := `mutation($id: ID!) { approveDesignation(id: $id) { colour clauses { id } } }`
	if r := s.Do(t, first, approve, map[string]any{"id": d["designationId"]}); r.Code() != "FORBIDDEN" {
		t.Fatalf("self-approval: %q", r.Code())
	}
	data = s.Do(t, second, approve, map[string]any{"id": d["designationId"]}).MustData(t)
	wantCode(t, "approved", data["approveDesignation"].(map[string]any), "RED", "R7")
	if r := s.Do(t, first, `mutation($p: ID!) { designatePerson(personId: $p, colour: RED, reason: "  ") { designationId } }`,
		map[string]any{"p": pid}); r.Code() != "INVALID" {
		t.Fatalf("designation without reason: %q", r.Code())
	}
}

// Guardians declare for dependents; a second guardian is refused; knowing
// an ID number shows nobody a code.
func TestScenarioGuardians(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, parent := s.CreateResident(t, "13800138006")
	home := s.community("610113")
	self, _ := s.declare(parent, declaration("张父", idNumber("61011319800101006"), "13800138006", home, nil))
	child := idNumber("61011320150101007")
	kid, code := s.declare(parent, declaration("张小", child, "13800138006", home, nil))
	wantCode(t, "child", code, "GREEN")
	data := s.Do(t, parent, `query { myDependents { id relation name } }`, nil).MustData(t)
	rel := map[string]string{}
	for _, p := range data["myDependents"].([]any) {
		p := p.(map[string]any)
		rel[p["id"].(string)] = p["relation"].(string)
	}
	if rel[self] != "SELF" || rel[kid] != "DEPENDENT" {
		t.Fatalf("relations = %v", rel)
	}
	wantCode(t, "child's code for the guardian", s.myCode(parent, kid), "GREEN")
	_, stranger := s.CreateResident(t, "13900000099")
	if r := s.Do(t, stranger, declareMutation, declaration("张小", child, "13900000099", home, nil)); r.Code() != "CONFLICT" {
		t.Fatalf("second guardian: %q", r.Code())
	}
	if r := s.Do(t, stranger, `query($p: ID) { myCode(personId: $p) { colour } }`, map[string]any{"p": kid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("stranger reading the child's code: %q", r.Code())
	}
}

// Bad declarations get a clear error and write nothing.
func TestDeclarationBadInput(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138008")
	home := s.community("610113")
	good := idNumber("61011319900101008")
	cases := map[string]map[string]any{
		"invalid check digit": declaration("甲", good[:17]+"0", "13800138008", home, nil),
		"unknown region":      declaration("甲", good, "13800138008", "610113999999", nil),
		"county residence":    declaration("甲", good, "13800138008", "610113", nil),
		"future trip":         declaration("甲", good, "13800138008", home, map[string]any{"travel": []any{map[string]any{"place": "6101", "from": day(1), "to": day(2)}}}),
		"end before start":    declaration("甲", good, "13800138008", home, map[string]any{"travel": []any{map[string]any{"place": "6101", "from": day(-2), "to": day(-4)}}}),
		"50 degrees":          declaration("甲", good, "13800138008", home, map[string]any{"temperature": 50.0}),
		"bad place":           declaration("甲", good, "13800138008", home, map[string]any{"travel": []any{map[string]any{"place": "ABROAD:usa", "from": day(-2), "to": day(-1)}}}),
		"bad date":            declaration("甲", good, "13800138008", home, map[string]any{"travel": []any{map[string]any{"place": "6101", "from": "yesterday", "to": day(-1)}}}),
		"bad phone":           declaration("甲", good, "1380013", home, nil),
		"unknown symptom":     declaration("甲", good, "13800138008", home, map[string]any{"symptoms": []any{"'; DROP TABLE persons; --"}}),
		"arrival no origin":   declaration("甲", good, "13800138008", home, map[string]any{"form": "ARRIVAL"}),
	}
	for name, vars := range cases {
		if r := s.Do(t, token, declareMutation, vars); r.Code() != "INVALID" {
			t.Errorf("%s: code %q (%v), want INVALID", name, r.Code(), r.Errors)
		}
	}
	var persons, facts int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM persons").Scan(&persons)
	s.Pool.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM stays) + (SELECT count(*) FROM health_records)").Scan(&facts)
	if persons != 0 || facts != 0 {
		t.Fatalf("bad input wrote %d persons and %d facts", persons, facts)
	}
}

// Publishing a rule set with W = 7 days (approved by a second rule admin)
// re-evaluates everyone: a trip 10 days ago no longer makes anyone red.
func TestScenarioPublishRuleSet(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	var tokens []string
	for i := 0; i < 3; i++ {
		phone := fmt.Sprintf("1370000000%d", i)
		_, tok := s.CreateResident(t, phone)
		tokens = append(tokens, tok)
		s.declare(tok, declaration("旅客", idNumber(fmt.Sprintf("6101131990020200%d", i)), phone, home,
			map[string]any{"travel": []any{map[string]any{"place": "ABROAD:JP", "from": day(-10), "to": day(-9)}}}))
	}
	_, rulesA := s.CreateStaff(t, "rules_a", "61", apitest.G("RULE_ADMIN@61"))
	_, rulesB := s.CreateStaff(t, "rules_b", "61", apitest.G("RULE_ADMIN@61"))
	data := s.Do(t, rulesA, `query { ruleSets { version status body } }`, nil).MustData(t)
	sets := data["ruleSets"].([]any)
	if len(sets) != 1 || sets[0].(map[string]any)["status"] != "PUBLISHED" {
		t.Fatalf("rule sets = %v", sets)
	}
	var rs map[string]any
	json.Unmarshal([]byte(sets[0].(map[string]any)["body"].(string)), &rs)
	rs["version"], rs["window"] = "2026-w7", "7d"
	body, _ := json.Marshal(rs)

	data = s.Do(t, rulesA, `query($b: String!) { previewRuleSet(body: $b) { evaluated transitions { from to count } sample { personId from to } } }`,
		map[string]any{"b": string(body)}).MustData(t)
	preview := data["previewRuleSet"].(map[string]any)
	if preview["evaluated"].(float64) != 3 {
		t.Fatalf("preview = %v", preview)
	}
	found := false
	for _, tr := range preview["transitions"].([]any) {
		tr := tr.(map[string]any)
		if tr["from"] == "RED" && tr["to"] == "GREEN" && tr["count"].(float64) == 3 {
			found = true
		}
	}
	if !found {
		t.Fatalf("preview transitions = %v", preview["transitions"])
	}
	if r := s.Do(t, rulesA, `mutation($b: String!) { publishRuleSet(body: $b) { version status } }`, map[string]any{"b": `{"version": ""}`}); r.Code() != "INVALID" {
		t.Fatalf("invalid rule set: %q", r.Code())
	}
	s.Do(t, rulesA, `mutation($b: String!) { publishRuleSet(body: $b) { version status } }`, map[string]any{"b": string(body)}).MustData(t)
	for _, tok := range tokens { // not in force before approval
		wantCode(t, "before approval", s.myCode(tok, ""), "RED", "R1")
	}
	approve := `mutation { approveRuleSet(version: "2026-w7") { status approvedBy } }`
	if r := s.Do(t, rulesA, approve, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("self-approval of a rule set: %q", r.Code())
	}
	s.Do(t, rulesB, approve, nil).MustData(t)
	drainOutbox(t, s)
	var stale int
	s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM codes
		WHERE code_rule_set_version(person_id, rule_set_version) <> '2026-w7' OR colour <> 'GREEN'`).Scan(&stale)
	if stale != 0 {
		t.Fatalf("%d codes not re-evaluated under the new rule set", stale)
	}
	for _, tok := range tokens {
		wantCode(t, "after publish", s.myCode(tok, ""), "GREEN")
	}
	// The batch's colour changes were audited in one statement, still one chain.
	v, err := s.DB.VerifyAudit(context.Background())
	if err != nil || v.BrokenID != 0 {
		t.Fatalf("audit chain after a batch: %+v %v", v, err)
	}
	var changes int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'code.colour_change' AND reason = 'ruleset:2026-w7'").Scan(&changes)
	if changes != 3 {
		t.Fatalf("%d colour changes audited for the publish, want 3", changes)
	}
}

// A resident corrects their information: moving into a HIGH-risk county
// makes the code red at once; the change is audited.
func TestCorrectPersonInfo(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138300")
	s.declare(token, declaration("钱七", idNumber("61011319900101030"), "13800138300", s.community("610103"), nil))
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH) { id } }`, nil).MustData(t)
	s.approvePending(t, "610113")
	drainOutbox(t, s)
	yanta := s.community("610113")
	m := `mutation($in: PersonCorrectionInput!) { correctPersonInfo(input: $in) { person { residenceCode address name } code { colour clauses { id } } } }`
	data := s.Do(t, token, m, map[string]any{"in": map[string]any{"residence": yanta, "address": "新家 2 号楼"}}).MustData(t)
	res := data["correctPersonInfo"].(map[string]any)
	if res["person"].(map[string]any)["residenceCode"] != yanta || res["person"].(map[string]any)["name"] != "钱七" {
		t.Fatalf("corrected person = %v", res["person"])
	}
	wantCode(t, "moved into a HIGH county", res["code"].(map[string]any), "RED", "R1")
	if r := s.Do(t, token, m, map[string]any{"in": map[string]any{"phone": "12345"}}); r.Code() != "INVALID" {
		t.Fatalf("bad phone correction: %q", r.Code())
	}
	if r := s.Do(t, token, m, map[string]any{"in": map[string]any{}}); r.Code() != "INVALID" {
		t.Fatalf("empty correction: %q", r.Code())
	}
	var audited int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'person.correct'").Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d correction audit records, want 1", audited)
	}
}

// Annex 1 四(三): a person from a MEDIUM-risk area turns green only after 14
// consecutive days, after the day of arrival, each with a normal daily
// check-in — at the end of the 14 days of home observation, when the code is
// re-evaluated; a person who never checks in stays yellow, and a missed day
// restarts the count. The reason shows the dates the person declared.
func TestScenarioArrivalFromMediumArea(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "420106", level: MEDIUM, reason: "武汉市武昌区中风险") { id } }`, nil).MustData(t)
	drainOutbox(t, s)
	home := s.community("610113")
	arrival := func(name, first17, phone string) (string, map[string]any) {
		_, token := s.CreateResident(t, phone)
		_, code := s.declare(token, declaration(name, idNumber(first17), phone, home, map[string]any{
			"form": "ARRIVAL", "origin": "420106", "arrivalDate": day(0), "transport": "火车"}))
		return token, code
	}
	// A arrives today (11-01) and checks in every day; B arrives today and
	// never checks in; C misses the 6th day.
	a, code := arrival("甲", "61011319900101011", "13800138011")
	wantCode(t, "A arrived", code, "YELLOW", "Y1")
	// The resident's place picker lists the area by its name.
	risks := s.Do(t, a, `query { areaRisks(region: "42") { regionCode regionName } }`, nil).MustData(t)["areaRisks"].([]any)
	if len(risks) != 1 || risks[0].(map[string]any)["regionName"] != "湖北省武汉市武昌区" {
		t.Fatalf("areaRisks(42) = %v, want 420106 named 湖北省武汉市武昌区", risks)
	}
	// The console names who set it.
	risks = s.Do(t, officer, `query { areaRisks(region: "42") { actor setBy { subject name role } } }`, nil).MustData(t)["areaRisks"].([]any)
	if by, _ := risks[0].(map[string]any)["setBy"].(map[string]any); by == nil || by["subject"] != risks[0].(map[string]any)["actor"] ||
		by["name"] == "" || by["role"] != "卫生健康人员" {
		t.Fatalf("areaRisks(42) setBy = %v, want the officer", risks)
	}
	reason := code["clauses"].([]any)[0].(map[string]any)["reason"].(string)
	for _, want := range []string{"2026-11-01在湖北省武汉市武昌区（中风险地区）旅居，来自中风险地区", "须离开满14天且自离开次日起连续14天每日健康打卡体温正常、无症状方可转绿", "（附件1 一(二)、四(三)）"} {
		if !strings.Contains(reason, want) {
			t.Fatalf("Y1 reason %q lacks %q", reason, want)
		}
	}
	windowEnd := time.Date(2026, 11, 16, 0, 0, 0, 0, cst) // 14 days after the day of arrival
	if at, _ := code["reevaluateAt"].(string); at == "" || timeOf(t, at).Equal(windowEnd) {
		t.Fatalf("a person who has not checked in is re-evaluated at the window's end: %q", at)
	}
	b, _ := arrival("乙", "61011319900101012", "13800138012")
	c, _ := arrival("丙", "61011319900101013", "13800138013")
	// D declares a trip from 10-27 to 10-30: the reason says so.
	_, dTok := s.CreateResident(t, "13800138014")
	_, code = s.declare(dTok, declaration("丁", idNumber("61011319900101014"), "13800138014", home,
		map[string]any{"travel": []any{map[string]any{"place": "420106", "from": day(-5), "to": day(-2)}}}))
	reason = code["clauses"].([]any)[0].(map[string]any)["reason"].(string)
	if !strings.HasPrefix(reason, "2026-10-27至2026-10-30在湖北省武汉市武昌区（中风险地区）旅居") {
		t.Fatalf("the reason of a trip declared from 10-27 to 10-30 reads %q", reason)
	}
	checkIn := func(token string) map[string]any {
		t.Helper()
		data := s.Do(t, token, `mutation { checkIn(temperature: 36.5) { colour clauses { id reason } reevaluateAt } }`, nil).MustData(t)
		return data["checkIn"].(map[string]any)
	}
	for d := 1; d <= 14; d++ { // 11-02 … 11-15
		s.Clock.Set(start.AddDate(0, 0, d))
		code := checkIn(a)
		wantCode(t, fmt.Sprintf("A, normal day %d", d), code, "YELLOW", "Y1")
		if d == 14 {
			// The 14th day's check-in is in: the code turns green when the
			// 14 days of observation end, at 11-16 00:00.
			if at, _ := code["reevaluateAt"].(string); at == "" || !timeOf(t, at).Equal(windowEnd) {
				t.Fatalf("A after 14 check-ins: reevaluateAt %v, want the end of the 14th day", code["reevaluateAt"])
			}
		}
		if d != 6 {
			checkIn(c)
		}
	}
	s.Clock.Set(windowEnd)
	wantCode(t, "A after the 14th day", s.myCode(a, ""), "GREEN")
	data := s.Do(t, a, `query { codeHistory { from to cause } }`, nil).MustData(t)
	if h := data["codeHistory"].([]any); len(h) != 2 || h[1].(map[string]any)["cause"] != "time" {
		t.Fatalf("A's history %v", h)
	}
	wantCode(t, "B, never checked in, 15 days after arrival", s.myCode(b, ""), "YELLOW", "Y1")
	wantCode(t, "C, day 6 missed", s.myCode(c, ""), "YELLOW", "Y1")
	s.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, cst))
	wantCode(t, "B a month after arrival", s.myCode(b, ""), "YELLOW", "Y1")
	for d := 15; d <= 20; d++ { // C: 11-08 … 11-21 are 14 days in a row
		s.Clock.Set(start.AddDate(0, 0, d))
		if d < 20 {
			wantCode(t, fmt.Sprintf("C, day %d", d), checkIn(c), "YELLOW", "Y1")
		} else {
			wantCode(t, "C, 14 days after the gap", checkIn(c), "GREEN")
		}
	}
}

func timeOf(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// A green code explains itself: clause G (附件1 一(三)) names every clause
// checked and found not to hold, on the declaration, in myCode and in the
// staff's view of the person; the colour history records no clause.
func TestGreenCodeExplained(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138021")
	pid, code := s.declare(token, declaration("钱七", idNumber("61011319800101021"), "13800138021", s.community("610113"), nil))
	_, officer := s.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	staffView := s.Do(t, officer, `query($p: ID!) { person(id: $p) { code { colour clauses { id colour citation reason factIds } } } }`,
		map[string]any{"p": pid}).MustData(t)["person"].(map[string]any)["code"].(map[string]any)
	mine := s.Do(t, token, `query { myCode { colour clauses { id colour citation reason factIds } ruleSetVersion } }`, nil).MustData(t)["myCode"].(map[string]any)
	for what, c := range map[string]map[string]any{"declaration": code, "myCode": mine, "staff view": staffView} {
		wantCode(t, what, c, "GREEN", "G")
		g := c["clauses"].([]any)[0].(map[string]any)
		reason, _ := g["reason"].(string)
		if what == "declaration" {
			continue // the declaration's selection has no colour or citation
		}
		if g["colour"] != "GREEN" || g["citation"] != "附件1 一(三)" || len(g["factIds"].([]any)) != 0 ||
			!strings.Contains(reason, "R1、R2、R3、R4、R5、R6、R7、Y1、Y2、Y3、Y4条款均不成立") ||
			!strings.Contains(reason, "14天内有境外或高风险地区旅居史（R1）") ||
			!strings.Contains(reason, "来自中风险地区且离开未满14天或尚未连续14天每日健康打卡正常（Y1）") ||
			!strings.HasSuffix(reason, "应赋绿码：来自疫情低风险地区的人员；高风险、中风险人员以外的人员（附件1 一(三)）") {
			t.Errorf("%s: clause G %v", what, g)
		}
	}
	if v := mine["ruleSetVersion"]; v != "annex1-2020-03-31-r2" || !strings.Contains(mine["clauses"].([]any)[0].(map[string]any)["reason"].(string), "按统一规则（annex1-2020-03-31-r2）核查") {
		t.Errorf("G does not name the rule set %v", v)
	}
	// A fever makes the code yellow with Y2 only; back to green after 14
	// normal days, with G again. The history names no clause for green.
	data := s.Do(t, token, `mutation { checkIn(temperature: 38.1) { colour clauses { id } } }`, nil).MustData(t)
	wantCode(t, "fever", data["checkIn"].(map[string]any), "YELLOW", "Y2")
	for d := 1; d <= 14; d++ {
		s.Clock.Advance(24 * time.Hour)
		data = s.Do(t, token, `mutation { checkIn(temperature: 36.4) { colour clauses { id } } }`, nil).MustData(t)
	}
	wantCode(t, "recovered", data["checkIn"].(map[string]any), "GREEN", "G")
	hist := s.Do(t, token, `query { codeHistory { to clauseIds } }`, nil).MustData(t)["codeHistory"].([]any)
	if len(hist) != 3 || len(hist[0].(map[string]any)["clauseIds"].([]any)) != 0 || len(hist[2].(map[string]any)["clauseIds"].([]any)) != 0 {
		t.Errorf("history %v", hist)
	}
}
