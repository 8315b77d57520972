package graph_test

import (
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// factOf returns the id of the person's fact of kind with source, as the
// appeal view or personFacts list it.
func factOf(t *testing.T, facts []any, kind, source string) string {
	t.Helper()
	for _, f := range facts {
		f := f.(map[string]any)
		if f["kind"] == kind && f["source"] == source {
			return f["id"].(string)
		}
	}
	t.Fatalf("no %s fact from %s among %v", kind, source, facts)
	return ""
}

// feverReport returns the fever report id among the officer's reports of a
// status, or nil.
func (c *communityWork) feverReport(t *testing.T, status string) map[string]any {
	t.Helper()
	for _, r := range c.Do(t, c.officer, listFevers, map[string]any{"s": status}).MustData(t)["feverReports"].([]any) {
		if r := r.(map[string]any); r["id"] == c.fever {
			return r
		}
	}
	return nil
}

// An appeal whose correction retracts the checkpoint temperature that raised
// a fever report closes the report in the same request, saying why; the
// community no longer has it in its open inbox.
func TestFeverReportClosesWhenAppealRetractsFever(t *testing.T) {
	t.Parallel()
	c := setupFever(t)
	s := c.scenario
	wantCode(t, "after the fever", s.myCode(c.resident, ""), "YELLOW", "Y2")

	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	id := s.Do(t, c.resident, `mutation { fileAppeal(input: {reason: "测温枪故障，我没有发烧"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	view := s.Do(t, handler, `query($id: ID!) { appealView(ticketId: $id) { facts { kind id source } } }`, map[string]any{"id": id}).MustData(t)
	fever := factOf(t, view["appealView"].(map[string]any)["facts"].([]any), "HEALTH", "SCAN")
	s.Do(t, handler, `mutation($id: ID!, $f: ID!) { resolveAppeal(id: $id, text: "经核实测温枪故障，已撤销错误体温记录", correction: {retractKind: HEALTH, retractId: $f}) { state } }`,
		map[string]any{"id": id, "f": fever}).MustData(t)
	wantCode(t, "after the correction", s.myCode(c.resident, ""), "GREEN")

	if r := c.feverReport(t, "OPEN"); r != nil {
		t.Fatalf("the fever report is still open after the appeal retracted its fever: %v", r)
	}
	closed := c.feverReport(t, "FALSE_ALARM")
	if closed == nil || !strings.Contains(closed["reason"].(string), "撤销") || !strings.Contains(closed["reason"].(string), "#"+id) ||
		closed["handledBy"] == "" {
		t.Fatalf("the closed fever report = %v, want FALSE_ALARM naming the retraction and ticket #%s", closed, id)
	}
	// It is closed: handling it again is a conflict, not a second outcome.
	if r := s.Do(t, c.officer, handleFever, map[string]any{"id": c.fever, "o": "TRANSFERRED"}); r.Code() != "CONFLICT" {
		t.Fatalf("handling the closed report: %+v", r.Errors)
	}
}

// Retracting only the scan (its stay) leaves the temperature on record, so
// the report stays open and says why; retracting the temperature then closes
// it, whoever retracts it outside an appeal too.
func TestFeverReportStaysOpenWhileItsFeverStands(t *testing.T) {
	t.Parallel()
	c := setupFever(t)
	s := c.scenario
	facts := s.Do(t, c.officer, `query($p: ID!) { personFacts(personId: $p) { kind id source } }`, map[string]any{"p": c.scanP}).MustData(t)["personFacts"].([]any)
	stay, fever := factOf(t, facts, "STAY", "SCAN"), factOf(t, facts, "HEALTH", "SCAN")

	s.Do(t, c.officer, `mutation($id: ID!) { retractFact(kind: STAY, id: $id, reason: "误扫他人健康码") { colour } }`,
		map[string]any{"id": stay}).MustData(t)
	open := c.feverReport(t, "OPEN")
	if open == nil || !strings.Contains(open["reason"].(string), "体温记录") || !strings.Contains(open["reason"].(string), "误扫他人健康码") {
		t.Fatalf("the open report after its scan was retracted = %v, want it open with why", open)
	}
	s.Do(t, c.officer, `mutation($id: ID!) { retractFact(kind: HEALTH, id: $id, reason: "体温系误记") { colour } }`,
		map[string]any{"id": fever}).MustData(t)
	closed := c.feverReport(t, "FALSE_ALARM")
	if closed == nil || !strings.Contains(closed["reason"].(string), "体温系误记") {
		t.Fatalf("the report after its fever was retracted = %v, want FALSE_ALARM", closed)
	}
	wantCode(t, "after both retractions", s.myCode(c.resident, ""), "GREEN")
}

// An appeal's correction may retract a checkpoint scan (a STAY that is a
// scan, not a row of stays): the handler names it as the appeal view lists
// it, and it is retracted.
func TestAppealCorrectionRetractsScanStay(t *testing.T) {
	t.Parallel()
	c := setupFever(t)
	s := c.scenario
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	id := s.Do(t, c.resident, `mutation { fileAppeal(input: {reason: "那天我不在这个场所，扫码记录有误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	view := s.Do(t, handler, `query($id: ID!) { appealView(ticketId: $id) { facts { kind id source } } }`, map[string]any{"id": id}).MustData(t)
	stay := factOf(t, view["appealView"].(map[string]any)["facts"].([]any), "STAY", "SCAN")
	s.Do(t, handler, `mutation($id: ID!, $f: ID!) { resolveAppeal(id: $id, text: "经核实扫码记录有误，已撤销", correction: {retractKind: STAY, retractId: $f}) { state } }`,
		map[string]any{"id": id, "f": stay}).MustData(t)
	facts := s.Do(t, c.officer, `query($p: ID!) { personFacts(personId: $p) { kind id source retractedAt } }`, map[string]any{"p": c.scanP}).MustData(t)["personFacts"].([]any)
	for _, f := range facts {
		if f := f.(map[string]any); f["kind"] == "STAY" && f["id"] == stay && f["retractedAt"] == nil {
			t.Fatalf("the scan %s is not retracted after the appeal: %v", stay, f)
		}
	}
}
