package graph_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// The code page shows the facts behind each clause: a resident reads their
// own facts (and a dependent's) with who entered them and when; nobody
// else reads them through myFacts.
func TestMyFacts(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138701")
	home := s.community("610113")
	_, code := s.declare(resident, declaration("吴一", idNumber("61011319900101071"), "13800138701", home,
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-4), "to": day(-3)}}}))
	tripID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)
	kid, _ := s.declare(resident, declaration("吴小", idNumber("61011320150101072"), "13800138701", home, nil))

	const q = `query($p: ID) { myFacts(personId: $p) { kind id summary source actor createdAt retractedAt } }`
	facts := s.Do(t, resident, q, map[string]any{"p": nil}).MustData(t)["myFacts"].([]any)
	var trip map[string]any
	for _, f := range facts {
		if f := f.(map[string]any); f["kind"] == "STAY" && f["id"] == tripID {
			trip = f
		}
	}
	if trip == nil || trip["actor"] == "" || trip["createdAt"] == "" || trip["source"] != "TRAVEL" || !strings.Contains(trip["summary"].(string), "ABROAD:US") {
		t.Fatalf("own facts lack the trip %s: %v", tripID, facts)
	}
	// The trip reads as declared: its last day, not the midnight after it.
	if want := "TRAVEL ABROAD:US " + day(-4) + " 至 " + day(-3); trip["summary"] != want {
		t.Errorf("trip summary %q, want %q", trip["summary"], want)
	}
	if kidFacts := s.Do(t, resident, q, map[string]any{"p": kid}).MustData(t)["myFacts"].([]any); len(kidFacts) == 0 {
		t.Fatal("a guardian reads no facts of the child")
	}
	_, stranger := s.CreateResident(t, "13800138702")
	if r := s.Do(t, stranger, q, map[string]any{"p": kid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("stranger reading a child's facts: %q", r.Code())
	}
	_, officer := s.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	if r := s.Do(t, officer, q, map[string]any{"p": kid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("staff through myFacts: %q", r.Code())
	}
	if r := s.Do(t, "", q, map[string]any{"p": nil}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous myFacts: %q", r.Code())
	}
}

// An appeal names the disputed fact (what it says, in Chinese, becomes the
// subject the handler reads) and may carry a PDF; a fact of someone else, or a retracted
// one, is refused.
func TestAppealDisputedFactAndPDF(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138703")
	_, code := s.declare(resident, declaration("郑二", idNumber("61011319900101073"), "13800138703", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:JP", "from": day(-5), "to": day(-4)}}}))
	tripID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)
	_, other := s.CreateResident(t, "13800138704")
	_, otherCode := s.declare(other, declaration("郑三", idNumber("61011319900101074"), "13800138704", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:KR", "from": day(-5), "to": day(-4)}}}))
	otherTrip := otherCode["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)

	const m = `mutation($f: ID, $k: FactKind, $e: String, $t: String) { fileAppeal(input: {reason: "我没有出境", factKind: $k, factId: $f,
		evidenceBase64: $e, evidenceType: $t}) { id subject } }`
	if r := s.Do(t, resident, m, map[string]any{"k": "STAY", "f": otherTrip}); r.Code() != "INVALID" {
		t.Fatalf("appeal naming another person's fact: %q", r.Code())
	}
	if r := s.Do(t, resident, m, map[string]any{"k": "MEDICAL", "f": tripID}); r.Code() != "INVALID" {
		t.Fatalf("appeal naming a fact of the wrong kind: %q", r.Code())
	}
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	tk := s.Do(t, resident, m, map[string]any{"k": "STAY", "f": tripID, "e": pdf, "t": "application/pdf"}).MustData(t)["fileAppeal"].(map[string]any)
	// The subject says what the fact is in Chinese, from its fields.
	if subj, want := tk["subject"].(string), "赋码申诉：对「旅居史：境外（日本） "+day(-5); !strings.HasPrefix(subj, want) ||
		!strings.HasSuffix(subj, "」有异议") || strings.ContainsAny(subj, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") {
		t.Fatalf("subject %q, want it to start with %q, without English tokens", subj, want)
	}
	data := s.Do(t, resident, `mutation { checkIn(temperature: 38.6, symptoms: ["fever", "cough"]) { clauses { id factKind factIds } } }`, nil).MustData(t)
	var feverID string
	for _, c := range data["checkIn"].(map[string]any)["clauses"].([]any) {
		if c := c.(map[string]any); c["factKind"] == "HEALTH" {
			feverID = c["factIds"].([]any)[0].(string)
		}
	}
	tk = s.Do(t, resident, m, map[string]any{"k": "HEALTH", "f": feverID}).MustData(t)["fileAppeal"].(map[string]any)
	if subj, want := tk["subject"].(string), "赋码申诉：对「健康打卡：38.6℃ 发热、咳嗽 "; !strings.HasPrefix(subj, want) {
		t.Fatalf("subject %q, want it to start with %q", subj, want)
	}
	if r := s.Do(t, resident, m, map[string]any{"e": pdf, "t": "image/png"}); r.Code() != "INVALID" {
		t.Fatalf("a PDF declared as PNG: %q", r.Code())
	}
}

// A resident rates the answer once per round after it is given; the operator
// reads the rating on the ticket; the state does not change.
func TestRateTicket(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138705")
	_, code := s.declare(resident, declaration("冯一", idNumber("61011319900101075"), "13800138705", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-4), "to": day(-3)}}}))
	tripID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	id := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "行程填错了"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]

	const rate = `mutation($id: ID!, $s: Satisfaction!) { rateTicket(id: $id, satisfaction: $s, comment: "处理及时") { state rating { satisfaction comment at } } }`
	if r := s.Do(t, resident, rate, map[string]any{"id": id, "s": "SATISFIED"}); r.Code() != "CONFLICT" {
		t.Fatalf("rating before the answer: %q", r.Code())
	}
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	s.Do(t, handler, `mutation($id: ID!, $f: ID!) { resolveAppeal(id: $id, text: "已撤销错误行程", correction: {retractKind: STAY, retractId: $f}) { id } }`,
		map[string]any{"id": id, "f": tripID}).MustData(t)

	_, stranger := s.CreateResident(t, "13800138706")
	if r := s.Do(t, stranger, rate, map[string]any{"id": id, "s": "DISSATISFIED"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("a stranger rating: %q", r.Code())
	}
	if r := s.Do(t, operator, rate, map[string]any{"id": id, "s": "SATISFIED"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("staff rating: %q", r.Code())
	}
	got := s.Do(t, resident, rate, map[string]any{"id": id, "s": "BASICALLY_SATISFIED"}).MustData(t)["rateTicket"].(map[string]any)
	if got["state"] != "REPLIED" || got["rating"].(map[string]any)["satisfaction"] != "BASICALLY_SATISFIED" {
		t.Fatalf("rated ticket = %v", got)
	}
	if r := s.Do(t, resident, rate, map[string]any{"id": id, "s": "SATISFIED"}); r.Code() != "CONFLICT" {
		t.Fatalf("second rating of the same answer: %q", r.Code())
	}
	seen := s.Do(t, operator, `query($id: ID!) { ticket(id: $id) { rating { satisfaction comment } } }`, map[string]any{"id": id}).MustData(t)
	if r := seen["ticket"].(map[string]any)["rating"].(map[string]any); r["comment"] != "处理及时" {
		t.Fatalf("operator reads rating %v", r)
	}
	// A dissatisfied callback reopens the ticket: the new round is unrated.
	s.Do(t, operator, `mutation($id: ID!) { recordCallback(id: $id, satisfaction: DISSATISFIED, reason: "不满意") { id } }`, map[string]any{"id": id}).MustData(t)
	seen = s.Do(t, resident, `query { myAppeals { id rating { satisfaction } } }`, nil).MustData(t)
	if r := seen["myAppeals"].([]any)[0].(map[string]any)["rating"]; r != nil {
		t.Fatalf("the reopened round carries the old rating: %v", r)
	}
}
