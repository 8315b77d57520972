package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// hotlineDesk is a hotline with a unit in Yanta and one in Beilin, the
// province's operator, a handler in each county and a resident of Yanta.
type hotlineDesk struct {
	*scenario
	operator, yantaHandler, beilinHandler string
	yantaUnit, beilinUnit                 string
	resident, personID                    string
}

func newHotlineDesk(t *testing.T, phone, doc string) *hotlineDesk {
	s := newScenario(t)
	d := &hotlineDesk{scenario: s}
	_, root := s.CreateStaff(t, "root_admin", "61", apitest.G("ADMIN@61"))
	unit := func(region, name string) string {
		return s.Do(t, root, `mutation($r: String!, $n: String!) { createHandlingUnit(region: $r, name: $n) { id } }`,
			map[string]any{"r": region, "n": name}).MustData(t)["createHandlingUnit"].(map[string]any)["id"].(string)
	}
	d.yantaUnit, d.beilinUnit = unit("610113", "雁塔区承办中心"), unit("610103", "碑林区承办中心")
	_, d.operator = s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, d.yantaHandler = s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, d.beilinHandler = s.CreateStaff(t, "beilin_handler", "610103", apitest.G("HANDLER@610103"))
	_, d.resident = s.CreateResident(t, phone)
	d.personID, _ = s.declare(d.resident, declaration("钱七", idNumber(doc), phone, s.community("610113"), nil))
	return d
}

// ticketPayload is what every mutation of these tests selects: the fields a
// handler's screen shows after an action, the history included.
const ticketPayload = `id state kind placeCode regionCode regionName personId callerMasked mergedInto signDue replyDue dueAt overdue
	createdAt unit { id regionCode } duplicates steps { action from to text reason at }`

// do runs a mutation or query on ticket id, fails the test on any error and
// returns the first field of the data.
func (d *hotlineDesk) do(t *testing.T, token, q, id string, vars map[string]any) map[string]any {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["id"] = id
	for _, v := range d.Do(t, token, q, vars).MustData(t) {
		return v.(map[string]any)
	}
	return nil
}

// complaint registers a complaint about a place in county and returns its id.
func (d *hotlineDesk) complaint(t *testing.T, county string) string {
	t.Helper()
	return d.Do(t, d.operator, `mutation($p: String!) { createTicket(input: {kind: COMPLAINT, subject: "投诉卡口",
		description: "卡口不认可绿码", place: $p}) { `+ticketPayload+` } }`, map[string]any{"p": d.community(county)}).
		MustData(t)["createTicket"].(map[string]any)["id"].(string)
}

func lastStep(tk map[string]any) map[string]any {
	steps := tk["steps"].([]any)
	return steps[len(steps)-1].(map[string]any)
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("not a time: %v", v)
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// Every mutation's payload is readable by its caller after the change, the
// history included — also when the action takes the ticket out of the
// caller's view, as a return (退单) does for the handler. The returned
// ticket has no deadline left, no merge target and no linked person, and
// the operators get a notice of the return that the unit does not.
func TestReturnPayloadAndNotice(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138410", "61011319900101410")
	id := d.complaint(t, "610113")
	tk := d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { `+ticketPayload+` } }`, id, nil)
	if tk["state"] != "DISPATCHED" || tk["signDue"] == nil {
		t.Fatalf("dispatched = %v", tk)
	}
	tk = d.do(t, d.yantaHandler, `mutation($id: ID!) { signTicket(id: $id) { `+ticketPayload+` } }`, id, nil)
	ret := d.Do(t, d.yantaHandler, `mutation($id: ID!) { returnTicket(id: $id, reason: "事发地在碑林区，不属本单位辖区") { `+ticketPayload+` } }`,
		map[string]any{"id": id})
	if len(ret.Errors) > 0 {
		t.Fatalf("the committed return answered %q: %v", ret.Code(), ret.Errors)
	}
	tk = ret.Data["returnTicket"].(map[string]any)
	if tk["state"] != "ACCEPTED" || tk["unit"] != nil || lastStep(tk)["action"] != "RETURN" || lastStep(tk)["reason"] == "" {
		t.Fatalf("returned = %v", tk)
	}
	for _, f := range []string{"signDue", "replyDue", "dueAt", "mergedInto", "personId"} {
		if tk[f] != nil {
			t.Errorf("after the return %s = %v, want null", f, tk[f])
		}
	}
	// The handler no longer sees it; the operator does, with the same history.
	if r := d.Do(t, d.yantaHandler, `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
		t.Fatalf("handler reading the returned ticket: %q", r.Code())
	}
	notices := func(token string) []map[string]any {
		var out []map[string]any
		for _, n := range d.Do(t, token, `query { ticketNotices { ticketId kind text regionCode regionName } }`, nil).MustData(t)["ticketNotices"].([]any) {
			if n := n.(map[string]any); n["ticketId"] == id {
				out = append(out, n)
			}
		}
		return out
	}
	var returned map[string]any
	for _, n := range notices(d.operator) {
		if n["kind"] == "RETURNED" {
			returned = n
		}
	}
	if returned == nil || !strings.Contains(returned["text"].(string), "事发地在碑林区") || !strings.Contains(returned["text"].(string), "雁塔区承办中心") ||
		returned["regionCode"] != "610113" || returned["regionName"] != "雁塔区" {
		t.Fatalf("operator's notices of ticket %s: %v", id, notices(d.operator))
	}
	for _, n := range notices(d.yantaHandler) {
		if n["kind"] == "RETURNED" {
			t.Fatalf("the unit got the dispatchers' notice: %v", n)
		}
	}
	// The operator's other mutations answer with the history too.
	tk = d.do(t, d.operator, `mutation($id: ID!) { noteTicket(id: $id, text: "已联系来电人核实地点") { `+ticketPayload+` } }`, id, nil)
	if len(tk["steps"].([]any)) != 5 {
		t.Fatalf("steps after the note: %v", tk["steps"])
	}
	other := d.complaint(t, "610113")
	tk = d.do(t, d.operator, `mutation($id: ID!, $into: ID!) { mergeTickets(id: $id, into: $into) { `+ticketPayload+` } }`, other,
		map[string]any{"into": id})
	if tk["state"] != "MERGED" || tk["mergedInto"] != id || lastStep(tk)["action"] != "MERGE" {
		t.Fatalf("merged = %v", tk)
	}
}

// After a return the operator corrects the place (audited, in the timeline)
// and dispatches to the unit of the new county. Dispatch and redispatch (改派)
// follow one rule: the unit must be in the county of the ticket's place, so a
// redispatch to another county also needs the place corrected first.
func TestPlaceCorrectionRouting(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138411", "61011319900101411")
	_, xianOperator := d.CreateStaff(t, "xian_operator", "6101", apitest.G("OPERATOR@6101"))
	id := d.complaint(t, "610113")
	d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, id, nil)
	d.do(t, d.yantaHandler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, id, nil)

	redispatch := `mutation($id: ID!, $u: ID!) { redispatchTicket(id: $id, unitId: $u, reason: "应由碑林区办理") { ` + ticketPayload + ` } }`
	if r := d.Do(t, d.operator, redispatch, map[string]any{"id": id, "u": d.beilinUnit}); r.Code() != "INVALID" ||
		!strings.Contains(r.Errors[0].Message, "事发地") {
		t.Fatalf("改派 of a signed Yanta ticket to Beilin without correcting the place: %q %v", r.Code(), r.Errors)
	}
	d.do(t, d.yantaHandler, `mutation($id: ID!) { returnTicket(id: $id, reason: "事发地在碑林区") { id } }`, id, nil)
	dispatch := `mutation($id: ID!, $u: ID) { dispatchTicket(id: $id, unitId: $u) { ` + ticketPayload + ` } }`
	if r := d.Do(t, d.operator, dispatch, map[string]any{"id": id, "u": d.beilinUnit}); r.Code() != "INVALID" {
		t.Fatalf("dispatch to Beilin of a Yanta ticket: %q", r.Code())
	}

	correct := `mutation($id: ID!, $p: String!, $r: String!) { correctTicketPlace(id: $id, place: $p, reason: $r) { ` + ticketPayload + ` } }`
	beilinPlace := d.community("610103")
	if r := d.Do(t, d.yantaHandler, correct, map[string]any{"id": id, "p": beilinPlace, "r": "核实"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("a handler who returned it corrects the place: %q", r.Code())
	}
	if r := d.Do(t, d.operator, correct, map[string]any{"id": id, "p": beilinPlace, "r": " "}); r.Code() != "INVALID" {
		t.Fatalf("correction without a reason: %q", r.Code())
	}
	if r := d.Do(t, d.operator, correct, map[string]any{"id": id, "p": "619999", "r": "核实"}); r.Code() != "INVALID" {
		t.Fatalf("correction to an unknown place: %q", r.Code())
	}
	if r := d.Do(t, xianOperator, correct, map[string]any{"id": id, "p": d.community("610302"), "r": "在宝鸡"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a Xi'an operator moving a ticket to Baoji: %q", r.Code())
	}
	tk := d.do(t, d.operator, correct, id, map[string]any{"p": beilinPlace, "r": "来电人确认事发地在碑林区"})
	st := lastStep(tk)
	if tk["state"] != "ACCEPTED" || tk["placeCode"] != beilinPlace || tk["regionCode"] != "610103" || tk["regionName"] != "碑林区" ||
		st["action"] != "CORRECT_PLACE" || st["reason"] != "来电人确认事发地在碑林区" ||
		!strings.Contains(st["text"].(string), d.community("610113")) || !strings.Contains(st["text"].(string), beilinPlace) {
		t.Fatalf("corrected = %v", tk)
	}
	var audited int
	d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'ticket.correct_place' AND object = 'ticket:'||$1::text
		AND detail->>'from_place' = $2 AND detail->>'to_place' = $3`, id, d.community("610113"), beilinPlace).Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d audit records of the correction", audited)
	}
	tk = d.do(t, d.operator, dispatch, id, map[string]any{"u": nil}) // the default unit follows the corrected place
	if tk["state"] != "DISPATCHED" || tk["unit"].(map[string]any)["id"] != d.beilinUnit {
		t.Fatalf("dispatched after the correction = %v", tk)
	}
	d.do(t, d.beilinHandler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, id, nil)

	// 改派 back to Yanta: the same rule, the same way.
	if r := d.Do(t, d.operator, redispatch, map[string]any{"id": id, "u": d.yantaUnit}); r.Code() != "INVALID" {
		t.Fatalf("改派 of a Beilin ticket to Yanta: %q", r.Code())
	}
	d.do(t, d.operator, correct, id, map[string]any{"p": d.community("610113"), "r": "经现场核实在雁塔区"})
	tk = d.do(t, d.operator, redispatch, id, map[string]any{"u": d.yantaUnit})
	if tk["state"] != "DISPATCHED" || tk["unit"].(map[string]any)["id"] != d.yantaUnit || tk["regionCode"] != "610113" {
		t.Fatalf("redispatched = %v", tk)
	}
	// The operators' timeline shows both corrections.
	var actions []string
	for _, s := range tk["steps"].([]any) {
		actions = append(actions, s.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "CREATE,DISPATCH,SIGN,RETURN,CORRECT_PLACE,DISPATCH,SIGN,CORRECT_PLACE,REDISPATCH" {
		t.Fatalf("timeline %s", got)
	}
}

// A code appeal is urgent from its filing: its sign (2 h) and reply (24 h)
// deadlines run from the filing, before any dispatch, so it leads the
// dispatchers' queue ahead of older complaints; dispatching keeps them; a
// return restarts the sign clock (the operator and the next unit have 2 h)
// and keeps the reply deadline. The caller is the resident, masked.
func TestAppealClockFromFiling(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138412", "61011319900101412")
	older := d.complaint(t, "610113")
	d.Clock.Advance(10 * time.Minute)
	tk := d.Do(t, d.resident, `mutation { fileAppeal(input: {reason: "我没有去过中风险地区"}) { `+ticketPayload+` } }`, nil).
		MustData(t)["fileAppeal"].(map[string]any)
	id := tk["id"].(string)
	filed := parseTime(t, tk["createdAt"])
	if tk["callerMasked"] != "138****8412" {
		t.Errorf("callerMasked = %q", tk["callerMasked"])
	}
	if tk["signDue"] == nil || tk["replyDue"] == nil || tk["dueAt"] == nil {
		t.Fatalf("an appeal without a clock: %v", tk)
	}
	signDue, replyDue := parseTime(t, tk["signDue"]), parseTime(t, tk["replyDue"])
	if signDue.Sub(filed) != 2*time.Hour || replyDue.Sub(filed) != 24*time.Hour || !parseTime(t, tk["dueAt"]).Equal(signDue) {
		t.Fatalf("filed %s: signDue %s replyDue %s dueAt %v", filed, signDue, replyDue, tk["dueAt"])
	}
	queue := d.Do(t, d.operator, `query { tickets(state: "ACCEPTED") { nodes { id } } }`, nil).MustData(t)["tickets"].(map[string]any)["nodes"].([]any)
	if len(queue) != 2 || queue[0].(map[string]any)["id"] != id || queue[1].(map[string]any)["id"] != older {
		t.Fatalf("ACCEPTED queue %v, want the appeal %s before the older complaint %s", queue, id, older)
	}

	d.Clock.Advance(30 * time.Minute)
	tk = d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { `+ticketPayload+` } }`, id, nil)
	if !parseTime(t, tk["signDue"]).Equal(signDue) || !parseTime(t, tk["replyDue"]).Equal(replyDue) {
		t.Fatalf("dispatch moved the appeal's deadlines: signDue %v replyDue %v", tk["signDue"], tk["replyDue"])
	}
	d.Clock.Advance(20 * time.Minute)
	tk = d.do(t, d.yantaHandler, `mutation($id: ID!) { returnTicket(id: $id, reason: "申诉人已迁居碑林区") { `+ticketPayload+` } }`, id, nil)
	returned := parseTime(t, lastStep(tk)["at"])
	if tk["signDue"] == nil || parseTime(t, tk["signDue"]).Sub(returned) != 2*time.Hour || !parseTime(t, tk["replyDue"]).Equal(replyDue) ||
		!parseTime(t, tk["dueAt"]).Equal(parseTime(t, tk["signDue"])) {
		t.Fatalf("returned at %s: signDue %v replyDue %v dueAt %v", returned, tk["signDue"], tk["replyDue"], tk["dueAt"])
	}
}

// overdue follows the deadline at read time, not the scheduler's last pass.
func TestOverdueAtReadTime(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138413", "61011319900101413")
	id := d.Do(t, d.resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, id, nil)
	read := func() (bool, int) {
		tk := d.do(t, d.yantaHandler, `query($id: ID!) { ticket(id: $id) { overdue } }`, id, nil)
		list := d.Do(t, d.yantaHandler, `query { tickets(overdue: true) { nodes { id overdue } } }`, nil).MustData(t)["tickets"].(map[string]any)["nodes"].([]any)
		return tk["overdue"].(bool), len(list)
	}
	d.Clock.Advance(2*time.Hour - time.Minute)
	if overdue, n := read(); overdue || n != 0 {
		t.Fatalf("a minute before the deadline: overdue %v, %d in the overdue queue", overdue, n)
	}
	d.Clock.Advance(90 * time.Second) // no scheduler pass in between
	if overdue, n := read(); !overdue || n != 1 {
		t.Fatalf("half a minute after the deadline: overdue %v, %d in the overdue queue", overdue, n)
	}
	// Signing starts the reply deadline: no longer overdue.
	tk := d.do(t, d.yantaHandler, `mutation($id: ID!) { signTicket(id: $id) { overdue } }`, id, nil)
	if tk["overdue"] != false {
		t.Fatalf("signed: %v", tk)
	}
}

// attribution is what the tests select of an Attribution.
const attribution = `{ kind subject name role regionCode regionName unit institution venue text }`

// The appeal view says who entered each fact — name, role, unit, venue or
// institution — and who caused each colour change; the ticket's timeline
// says who took each step.
func TestAppealViewAttribution(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138414", "61011319900101414")
	ctx := context.Background()
	venue, inspector := d.checkpoint(t, "大雁塔景区", "610113")
	officerID, officer := d.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	d.Pool.Exec(ctx, "UPDATE staff SET display_name = '王医生' WHERE id = $1", officerID)
	d.Pool.Exec(ctx, "UPDATE staff SET display_name = '李防疫' WHERE username LIKE 'inspector%'")
	d.Pool.Exec(ctx, "UPDATE staff SET display_name = '赵承办' WHERE username = 'yanta_handler'")
	if r := d.scan(t, inspector, scanOf("11111111-2222-4333-8444-555555555555", d.credentialOf(t, d.resident), venue, d.Clock.Now().Add(-time.Minute), 36.6)); r[0]["status"] != "ACCEPTED" {
		t.Fatalf("scan %v", r)
	}
	d.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CLOSE_CONTACT) { colour } }`,
		map[string]any{"p": d.personID}).MustData(t)
	d.approvePending(t, "610113") // the second officer, second_610113
	id := d.Do(t, d.resident, `mutation { fileAppeal(input: {reason: "我不是密接"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, id, nil)
	d.do(t, d.yantaHandler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, id, nil)

	view := d.do(t, d.yantaHandler, `query($id: ID!) { appealView(ticketId: $id) {
		facts { kind source actor enteredBy `+attribution+` }
		history { cause actor by `+attribution+` }
		ticket { steps { action actor by `+attribution+` } } } }`, id, nil)
	bySource := map[string]map[string]any{}
	for _, f := range view["facts"].([]any) {
		f := f.(map[string]any)
		if strings.HasPrefix(f["actor"].(string), "staff:") && strings.Contains(f["enteredBy"].(map[string]any)["text"].(string), "staff:") {
			t.Errorf("fact names its author by subject: %v", f)
		}
		bySource[f["source"].(string)] = f["enteredBy"].(map[string]any)
	}
	scan, medical, declared := bySource["SCAN"], bySource["HEALTH_AUTHORITY"], bySource["DECLARATION"]
	if scan == nil || scan["kind"] != "STAFF" || scan["name"] != "李防疫" || scan["role"] != "防疫员" || scan["institution"] != "大雁塔景区" ||
		scan["venue"] != "大雁塔景区入口" || scan["regionName"] != "西安市雁塔区" || scan["text"] != "李防疫（防疫员，大雁塔景区入口，大雁塔景区，西安市雁塔区）" {
		t.Errorf("scan entered by %v", scan)
	}
	if medical == nil || medical["kind"] != "STAFF" || medical["name"] != "王医生" || medical["role"] != "卫生健康人员" ||
		medical["regionCode"] != "610113" || medical["text"] != "王医生（卫生健康人员，西安市雁塔区）" {
		t.Errorf("medical event entered by %v", medical)
	}
	if declared == nil || declared["kind"] != "RESIDENT" || declared["name"] != "138****8414" || declared["text"] != "居民（138****8414）" {
		t.Errorf("declaration entered by %v (facts %v)", declared, bySource)
	}
	var medicalChange map[string]any
	for _, h := range view["history"].([]any) {
		if h := h.(map[string]any); strings.HasPrefix(h["cause"].(string), "fact:medical") {
			medicalChange = h["by"].(map[string]any)
		}
	}
	// The colour changed when the second officer approved the event.
	if medicalChange == nil || medicalChange["name"] != "second_610113" {
		t.Errorf("colour change by %v", view["history"])
	}
	steps := view["ticket"].(map[string]any)["steps"].([]any)
	sign := steps[len(steps)-1].(map[string]any)["by"].(map[string]any)
	if sign["name"] != "赵承办" || sign["role"] != "承办人员" || sign["unit"] != "雁塔区承办中心" || sign["text"] != "赵承办（承办人员，雁塔区承办中心，西安市雁塔区）" {
		t.Errorf("signed by %v", sign)
	}
	// A resident reading their own history learns no staff member's name.
	hist := d.Do(t, d.resident, `query { codeHistory { actor by { name } } }`, nil).MustData(t)["codeHistory"].([]any)
	for _, h := range hist {
		if h := h.(map[string]any); h["by"] != nil {
			t.Errorf("resident sees the author of a change: %v", h)
		}
	}
}

// Reports and status lists name who generated or submitted them, and the
// region by name as well as by code.
func TestReportAttribution(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	s.Clock.Set(time.Date(2026, 11, 6, 8, 0, 0, 0, cst))
	provinceID, province := s.CreateStaff(t, "province_admin", "61", apitest.G("ADMIN@61"))
	xianID, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	yantaID, yanta := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Pool.Exec(ctx, "UPDATE staff SET display_name = '省办张主任' WHERE id = $1", provinceID)
	s.Pool.Exec(ctx, "UPDATE staff SET display_name = '市办刘科长' WHERE id = $1", xianID)
	s.Pool.Exec(ctx, "UPDATE staff SET display_name = '区办陈干事' WHERE id = $1", yantaID)

	s.Do(t, province, `mutation { generateWeeklyDrafts }`, nil).MustData(t)
	s.Do(t, xian, `mutation { submitWeeklyReport(city: "6101", comments: "运行平稳。") { status } }`, nil).MustData(t)
	for _, w := range s.Do(t, province, `query { weeklyReports { regionCode regionName status submittedBy submitter `+attribution+` } }`, nil).
		MustData(t)["weeklyReports"].([]any) {
		w := w.(map[string]any)
		switch w["regionCode"] {
		case "6101":
			sub, _ := w["submitter"].(map[string]any)
			if w["regionName"] != "西安市" || sub == nil || sub["name"] != "市办刘科长" || sub["text"] != "市办刘科长（六级管理员，西安市）" {
				t.Errorf("Xi'an's report: %v", w)
			}
		case "6103":
			if w["regionName"] != "宝鸡市" || w["submitter"] != nil {
				t.Errorf("Baoji's draft: %v", w)
			}
		}
	}

	s.Do(t, yanta, `mutation { submitJointMeetingList(region: "610113", members: [{department: "区卫健局", name: "张局长", role: "召集人",
		contact: "029-85210000"}]) { onTime } }`, nil).MustData(t)
	var yantaList map[string]any
	for _, l := range s.Do(t, xian, `query { jointMeetingLists(region: "6101") { regionCode regionName submitter `+attribution+` } }`, nil).
		MustData(t)["jointMeetingLists"].([]any) {
		if l := l.(map[string]any); l["regionCode"] == "610113" {
			yantaList = l
		}
	}
	if yantaList == nil || yantaList["regionName"] != "雁塔区" || yantaList["submitter"].(map[string]any)["text"] != "区办陈干事（六级管理员，西安市雁塔区）" {
		t.Errorf("Yanta's joint meeting list: %v", yantaList)
	}

	// A deviation of Xi'an's sub-system names its city.
	key, _, err := s.DB.CreateAPIKey(healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: xianID}),
		"6101", "西安市健康码子系统")
	if err != nil {
		t.Fatal(err)
	}
	machine, err := s.DB.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := (&postgres.SubsystemService{DB: s.DB}).PushRecords(healthcode.NewContextWithActor(ctx, machine), []healthcode.SubsystemRecord{{
		RecordID: "XA-0001", Name: "上官飞燕", Sex: "2", Nationality: "CHN", DocType: healthcode.DocIDCard,
		DocNumber: idNumber("61011319850101605"), Region: s.community("610113"), Address: "长安路六十六号", Phone: "13800138605",
		Temperature: 36.5, Symptoms: []string{}, Colour: healthcode.Yellow, IssuedAt: s.Clock.Now().Add(-time.Hour), Issuer: "6101"}}); err != nil || res.DeviationsOpened != 1 {
		t.Fatalf("sub-system push: %+v, %v", res, err)
	}
	devs := s.Do(t, province, `query { deviations { nodes { cityCode cityName } } }`, nil).MustData(t)["deviations"].(map[string]any)["nodes"].([]any)
	if len(devs) != 1 || devs[0].(map[string]any)["cityName"] != "西安市" {
		t.Errorf("deviations %v", devs)
	}

	rankingRows(t, s.Bundle, "2026-10-28", map[string][2]float64{"6101": {90, 100}, "6103": {70, 100}, "6102": {50, 100}})
	rep := s.Do(t, province, `mutation { generateRankingReport(week: "2026-10-26") { generatedBy generator `+attribution+` htmlUrl } }`, nil).
		MustData(t)["generateRankingReport"].(map[string]any)
	if rep["generator"].(map[string]any)["name"] != "省办张主任" {
		t.Errorf("report generator %v", rep)
	}
	rec := download(t, s.Bundle, province, rep["htmlUrl"].(string))
	if page := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(page, "生成者：省办张主任（六级管理员，陕西省）") || strings.Contains(page, "staff:") {
		t.Errorf("the printed report names its author as: %d %s", rec.Code, page[:min(len(page), 600)])
	}
}

// The deadlines of an appeal waiting for dispatch are the operators': the
// scheduler warns and marks them overdue to the dispatchers, without 督办;
// once dispatched, the unit's round is warned and supervised on its own.
func TestAppealWaitingForDispatchDeadlines(t *testing.T) {
	t.Parallel()
	d := newHotlineDesk(t, "13800138415", "61011319900101415")
	_, xian := d.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	id := d.Do(t, d.resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	kinds := func(token string) map[string]string {
		out := map[string]string{}
		for _, n := range d.Do(t, token, `query { ticketNotices { ticketId kind audience regionCode } }`, nil).MustData(t)["ticketNotices"].([]any) {
			if n := n.(map[string]any); n["ticketId"] == id {
				out[n["kind"].(string)+"@"+n["regionCode"].(string)] = n["audience"].(string)
			}
		}
		return out
	}
	tickets := d.Tickets()
	d.Clock.Advance(100 * time.Minute) // past 80 % of the 2-hour sign limit, not dispatched
	if warned, overdue, err := tickets.ProcessDeadlines(context.Background()); err != nil || warned != 1 || overdue != 0 {
		t.Fatalf("at 100 minutes: warned %d overdue %d err %v", warned, overdue, err)
	}
	d.Clock.Advance(30 * time.Minute)
	if _, overdue, err := tickets.ProcessDeadlines(context.Background()); err != nil || overdue != 1 {
		t.Fatalf("at 130 minutes: overdue %d err %v", overdue, err)
	}
	if got := kinds(d.operator); got["WARNING@610113"] != "DISPATCH" || got["OVERDUE@610113"] != "DISPATCH" {
		t.Fatalf("operator's notices %v", got)
	}
	if got := kinds(d.yantaHandler); len(got) != 0 {
		t.Fatalf("the unit was told of a ticket it does not have: %v", got)
	}
	tk := d.do(t, d.operator, `mutation($id: ID!) { dispatchTicket(id: $id) { overdue supervised steps { action } } }`, id, nil)
	if tk["overdue"] != true || tk["supervised"] != false || len(tk["steps"].([]any)) != 2 {
		t.Fatalf("dispatched late: %v", tk)
	}
	if warned, overdue, err := tickets.ProcessDeadlines(context.Background()); err != nil || warned != 0 || overdue != 1 {
		t.Fatalf("after the late dispatch: warned %d overdue %d err %v", warned, overdue, err)
	}
	if got := kinds(xian); got["OVERDUE@6101"] != "UNIT" {
		t.Fatalf("no 督办 of the unit's round to 6101: %v", got)
	}
	tk = d.do(t, d.yantaHandler, `query($id: ID!) { ticket(id: $id) { supervised steps { action } } }`, id, nil)
	if tk["supervised"] != true || lastStep(tk)["action"] != "SUPERVISE" {
		t.Fatalf("the unit's overdue round was not supervised: %v", tk)
	}
}
