package graph_test

import (
	"strings"
	"testing"
	"time"

	"healthcode/graph/apitest"
)

// A clause states the kind of the facts it rests on and, when it waits for
// consecutive normal check-ins, how far they have come; a fact states what
// it says field by field (place, medical kind, temperature, symptoms,
// designation colour), the summary staying as stored; a colour change
// request's summary names the medical kind in Chinese.
func TestStructuredClausesAndFacts(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138711")
	home := s.community("610113")
	pid, _ := s.declare(token, declaration("郑一", idNumber("61011319900101711"), "13800138711", home,
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-10), "to": day(-9)},
			map[string]any{"place": "4201", "from": day(-8), "to": day(-7)}}}))
	checkIn := func(temp float64, symptoms ...string) {
		s.Do(t, token, `mutation($t: Float!, $s: [String!]) { checkIn(temperature: $t, symptoms: $s) { colour } }`,
			map[string]any{"t": temp, "s": symptoms}).MustData(t)
	}
	const code = `query { myCode { clauses { id factIds factKind checkIns { needed done } } } }`
	clauses := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, c := range s.Do(t, token, code, nil).MustData(t)["myCode"].(map[string]any)["clauses"].([]any) {
			out[c.(map[string]any)["id"].(string)] = c.(map[string]any)
		}
		return out
	}
	checkIn(38.2, "fever", "cough")
	s.Clock.Advance(24 * time.Hour)
	checkIn(36.6)
	s.Clock.Advance(24 * time.Hour)
	checkIn(36.5)
	y2 := clauses()["Y2"]
	if y2 == nil || y2["factKind"] != "HEALTH" || len(y2["factIds"].([]any)) != 1 {
		t.Fatalf("Y2 = %v, want one HEALTH fact", y2)
	}
	if p, _ := y2["checkIns"].(map[string]any); p == nil || p["needed"] != float64(14) || p["done"] != float64(2) {
		t.Fatalf("Y2 check-ins = %v, want 2 of 14", y2["checkIns"])
	}

	r1 := ""
	for _, c := range s.Do(t, token, `query { myCode { clauses { id reason } } }`, nil).MustData(t)["myCode"].(map[string]any)["clauses"].([]any) {
		if c := c.(map[string]any); c["id"] == "R1" {
			r1 = c["reason"].(string)
		}
	}
	if !strings.Contains(r1, "在境外（美国）旅居") {
		t.Errorf("R1 reason = %q, want the country named in Chinese", r1)
	}

	const q = `query { myFacts { kind id summary when place placeName medicalKind note temperature symptoms colour pending } }`
	byKey := map[string]map[string]any{}
	for _, f := range s.Do(t, token, q, nil).MustData(t)["myFacts"].([]any) {
		f := f.(map[string]any)
		byKey[f["kind"].(string)+":"+f["id"].(string)] = f
		switch f["kind"] {
		case "STAY":
			if f["place"] == "ABROAD:US" {
				// Named by its country, as the clause reason names it.
				if f["placeName"] != "境外（美国）" || f["when"] != day(-10)+" 至 "+day(-9) || f["medicalKind"] != nil || f["temperature"] != nil {
					t.Errorf("trip = %v", f)
				}
			} else if f["place"] == "4201" {
				// Another province's city is named by the national divisions.
				if f["placeName"] != "湖北省武汉市" {
					t.Errorf("trip to Wuhan = %v, want placeName 湖北省武汉市", f)
				}
			} else if f["place"] != home || f["placeName"] == "" || !strings.HasSuffix(f["when"].(string), "起至今") {
				t.Errorf("residence = %v, want %s with its name", f, home)
			}
		case "HEALTH":
			if f["temperature"] == nil || f["when"] == "" {
				t.Errorf("health record = %v", f)
			}
		}
	}
	fever := byKey["HEALTH:"+y2["factIds"].([]any)[0].(string)]
	if fever == nil || fever["temperature"] != 38.2 || len(fever["symptoms"].([]any)) != 2 || fever["symptoms"].([]any)[0] != "fever" ||
		!strings.Contains(fever["summary"].(string), "fever,cough") {
		t.Fatalf("the fever Y2 cites = %v", fever)
	}

	// A CONFIRMED waits for a second officer; its request names the kind in
	// Chinese, and the fact states its kind.
	_, officer := s.CreateStaff(t, "yanta_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED, note: "核酸阳性") { colour } }`,
		map[string]any{"p": pid}).MustData(t)
	reqs := s.Do(t, officer, `query { colourRequests { kind summary } }`, nil).MustData(t)["colourRequests"].([]any)
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0].(map[string]any)["summary"].(string), "录入医学状态：确诊（") ||
		strings.Contains(reqs[0].(map[string]any)["summary"].(string), "CONFIRMED") {
		t.Fatalf("colour requests = %v", reqs)
	}
	s.approvePending(t, "610113")
	s.Do(t, officer, `mutation($p: ID!) { designatePerson(personId: $p, colour: YELLOW, reason: "流调发现同乘") { designationId } }`,
		map[string]any{"p": pid}).MustData(t)
	var medical, designation map[string]any
	for _, f := range s.Do(t, officer, `query($p: ID!) { personFacts(personId: $p) { kind summary medicalKind note colour pending } }`,
		map[string]any{"p": pid}).MustData(t)["personFacts"].([]any) {
		f := f.(map[string]any)
		switch f["kind"] {
		case "MEDICAL":
			medical = f
		case "DESIGNATION":
			designation = f
		}
	}
	if medical == nil || medical["medicalKind"] != "CONFIRMED" || medical["note"] != "核酸阳性" || medical["colour"] != nil {
		t.Errorf("medical fact = %v", medical)
	}
	if designation == nil || designation["colour"] != "YELLOW" || designation["note"] != "流调发现同乘" || designation["pending"] != false ||
		designation["medicalKind"] != nil {
		t.Errorf("designation = %v", designation)
	}
	if r1 := clauses()["R2"]; r1 == nil || r1["factKind"] != "MEDICAL" || r1["checkIns"] != nil {
		t.Errorf("confirmed clause = %v", r1)
	}
}
