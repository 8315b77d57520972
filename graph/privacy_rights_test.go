package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// Every staff read of a person's health, whereabouts or personal data is in
// the access log the person reads: what, the role and unit, and the purpose
// (given, or the ticket), without staff names; the person's own reads and a
// stranger's attempts are not there.
func TestResidentSeesEveryStaffRead(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138201")
	pid, _ := s.declare(resident, declaration("孙读", idNumber("61011319900101201"), "13800138201", home, nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`, nil).MustData(t)
	_, officer := s.CreateStaff(t, "li_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, outsider := s.CreateStaff(t, "beilin_officer", "610103", apitest.G("HEALTH_OFFICER@610103"))
	vars := map[string]any{"p": pid}
	s.Do(t, officer, `query($p: ID!) { personFacts(personId: $p, purpose: "流调核实行程") { id } }`, vars).MustData(t)
	s.Do(t, officer, `query($p: ID) { codeHistory(personId: $p) { to } }`, vars).MustData(t)
	s.Do(t, officer, `query($p: ID!) { person(id: $p) { residenceCode } }`, vars).MustData(t)
	if r := s.Do(t, outsider, `query($p: ID!) { personFacts(personId: $p) { id } }`, vars); r.Code() != "NOT_FOUND" {
		t.Fatalf("outsider: %q", r.Code())
	}
	s.Do(t, resident, `query { myFacts { id } codeHistory { to } }`, nil).MustData(t)

	review := s.Do(t, resident, `mutation { requestCodeReview(reason: "请人工复核我的健康码") { id kind subject } }`, nil).MustData(t)["requestCodeReview"].(map[string]any)
	if review["kind"] != "CODE_APPEAL" || !strings.Contains(review["subject"].(string), "第二十四条") {
		t.Fatalf("review request = %v", review)
	}
	tv := map[string]any{"id": review["id"]}
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, tv).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, tv).MustData(t)
	s.Do(t, handler, `query($id: ID!) { appealView(ticketId: $id) { ticket { id } } }`, tv).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { unmaskPerson(ticketId: $id, reason: "回访核实身份") { docNumber } }`, tv).MustData(t)

	data := s.Do(t, resident, `query { myAccessLog(first: 20) { nodes { what role unit purpose } pageInfo { hasNextPage } } }`, nil).MustData(t)
	var got []string
	for _, n := range data["myAccessLog"].(map[string]any)["nodes"].([]any) {
		n := n.(map[string]any)
		got = append(got, n["what"].(string)+"|"+n["role"].(string)+"|"+n["unit"].(string)+"|"+n["purpose"].(string))
	}
	want := []string{
		"UNMASKED|承办人员|雁塔区疫情防控指挥部办公室|工单 " + review["id"].(string) + "：回访核实身份",
		"APPEAL|承办人员|雁塔区疫情防控指挥部办公室|申诉工单 " + review["id"].(string),
		"PERSON|卫生健康人员|西安市雁塔区|未说明用途",
		"CODE_HISTORY|卫生健康人员|西安市雁塔区|未说明用途",
		"FACTS|卫生健康人员|西安市雁塔区|流调核实行程",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("access log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(got, ""), "li_officer") || strings.Contains(strings.Join(got, ""), "yanta_handler") {
		t.Fatal("the access log names staff")
	}
	if r := s.Do(t, officer, `query { myAccessLog { nodes { what } } }`, nil); r.Code() != "NOT_FOUND" {
		t.Fatalf("staff reading myAccessLog: %q", r.Code())
	}
}

// A resident downloads a copy of their data: person unmasked, colour
// history with causes, facts, declarations, bindings, appeals, access log.
func TestResidentDownloadsTheirData(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138211")
	doc := idNumber("61011319900101211")
	s.declare(resident, declaration("周下", doc, "13800138211", home,
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:JP", "from": day(-4), "to": day(-3)}}}))
	kid, _ := s.declare(resident, declaration("周小", idNumber("61011320200101212"), "13800138211", home, nil))
	data := s.Do(t, resident, `query { myData }`, nil).MustData(t)["myData"].(map[string]any)
	b, _ := json.Marshal(data)
	text := string(b)
	for _, want := range []string{doc, "周下", "13800138211", `"colourHistory"`, `"to":"RED"`, "declaration:", "ABROAD:JP",
		`"declarations"`, `"guardianships"`, `"accessLog"`, `"appeals"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("myData lacks %s: %s", want, text)
		}
	}
	kidData := s.Do(t, resident, `query($p: ID) { myData(personId: $p) }`, map[string]any{"p": kid}).MustData(t)["myData"].(map[string]any)
	if kidData["person"].(map[string]any)["name"] != "周小" {
		t.Fatalf("dependent's data = %v", kidData["person"])
	}
	_, stranger := s.CreateResident(t, "13800138212")
	if r := s.Do(t, stranger, `query($p: ID) { myData(personId: $p) }`, map[string]any{"p": kid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("stranger downloading: %q", r.Code())
	}
}
