package graph_test

// What the staff console reads (issue 14): the queue's filters and the
// appeals-first order, the actions a ticket allows, the working-time flag of
// its deadline, the unit of each step, an appeal's evidence and disputed
// fact, the units' figures and the national push status.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"healthcode"
	"healthcode/exchange"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// ids returns the ids of a tickets connection's nodes.
func ids(conn any) []string {
	var out []string
	for _, n := range conn.(map[string]any)["nodes"].([]any) {
		out = append(out, n.(map[string]any)["id"].(string))
	}
	return out
}

func TestTicketQueueFiltersAndAppealsFirst(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, yanta := s.CreateResident(t, "13800138700")
	yantaPerson, _ := s.declare(yanta, declaration("钱一", idNumber("61011319900101070"), "13800138700", s.community("610113"), nil))
	_, beilin := s.CreateResident(t, "13800138701")
	s.declare(beilin, declaration("钱二", idNumber("61010319900101071"), "13800138701", s.community("610103"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))

	create := func(vars map[string]any) string {
		t.Helper()
		return s.Do(t, operator, `mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }`, map[string]any{"in": vars}).
			MustData(t)["createTicket"].(map[string]any)["id"].(string)
	}
	// Sunday 10:00: an urgent complaint about Yanta, linked to the Yanta
	// resident, dispatched at once (sign within 4 working hours: Monday
	// 14:30); a complaint about Beilin waits undispatched (no deadline).
	urgent := create(map[string]any{"kind": "COMPLAINT", "urgency": "URGENT", "subject": "小区门岗不查码", "description": "多次反映无人查验",
		"place": "610113", "personId": yantaPerson})
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": urgent}).MustData(t)
	other := create(map[string]any{"kind": "COMPLAINT", "subject": "药店不测温", "description": "无人测温", "place": "610103"})
	// Monday 13:00 the Beilin resident appeals: signing due 15:00, after the complaint's 14:30.
	s.Clock.Set(time.Date(2026, 11, 2, 13, 0, 0, 0, cst))
	appeal := s.Do(t, beilin, `mutation { fileAppeal(input: {reason: "未去过中风险地区"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)

	queue := func(args string, vars map[string]any) map[string]any {
		t.Helper()
		return s.Do(t, operator, `query($after: String) { tickets(`+args+`, after: $after) { nodes { id dueInWorkingTime } pageInfo { hasNextPage endCursor } } }`, vars).
			MustData(t)["tickets"].(map[string]any)
	}
	if got := ids(queue("first: 10", nil)); !slices.Equal(got, []string{urgent, appeal, other}) {
		t.Fatalf("by deadline = %v, want %v", got, []string{urgent, appeal, other})
	}
	// Appeals first, one page at a time.
	var paged []string
	var after any
	for i := 0; i < 4; i++ {
		page := queue("appealsFirst: true, first: 1", map[string]any{"after": after})
		paged = append(paged, ids(page)...)
		info := page["pageInfo"].(map[string]any)
		if info["hasNextPage"] != true {
			break
		}
		after = info["endCursor"]
	}
	if !slices.Equal(paged, []string{appeal, urgent, other}) {
		t.Fatalf("appeals first, page by page = %v, want %v", paged, []string{appeal, urgent, other})
	}
	// A cursor of one order is refused by the other.
	first := queue("appealsFirst: true, first: 1", nil)["pageInfo"].(map[string]any)["endCursor"]
	if r := s.Do(t, operator, `query($a: String) { tickets(first: 1, after: $a) { nodes { id } } }`, map[string]any{"a": first}); r.Code() != "INVALID" {
		t.Fatalf("a cursor of the other order: %q", r.Code())
	}
	// The complaint's deadline counts working time, the appeal's runs around the clock.
	for _, n := range queue("first: 10", nil)["nodes"].([]any) {
		n := n.(map[string]any)
		want := n["id"] == urgent
		if n["dueInWorkingTime"] != want {
			t.Fatalf("ticket %v dueInWorkingTime = %v, want %v", n["id"], n["dueInWorkingTime"], want)
		}
	}
	for _, c := range []struct {
		args string
		want []string
	}{
		{`urgency: "URGENT", first: 10`, []string{urgent}},
		{`region: "610103", first: 10`, []string{appeal, other}},
		{`region: "6101", kind: COMPLAINT, first: 10`, []string{urgent, other}},
		{`personId: "` + yantaPerson + `", first: 10`, []string{urgent}},
	} {
		if got := ids(queue(c.args, nil)); !slices.Equal(got, c.want) {
			t.Errorf("tickets(%s) = %v, want %v", c.args, got, c.want)
		}
	}
	if r := s.Do(t, operator, `{ tickets(urgency: "SOON") { nodes { id } } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("unknown urgency: %q", r.Code())
	}
}

// The appeal desk: the resident's evidence and disputed fact, read back by
// the handler (audited), the actions each role may take, and the unit of
// each step; the resident and another county's handler see none of it.
func TestAppealDeskEvidence(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138710")
	_, code := s.declare(resident, declaration("孙申诉", idNumber("61011319900101072"), "13800138710", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-4), "to": day(-3)}}}))
	tripID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, beilinHandler := s.CreateStaff(t, "beilin_handler", "610103", apitest.G("HANDLER@610103"))

	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	id := s.Do(t, resident, `mutation($e: String, $f: ID) { fileAppeal(input: {reason: "我没有出国", evidenceBase64: $e,
		evidenceType: "application/pdf", factKind: STAY, factId: $f}) { id } }`,
		map[string]any{"e": base64.StdEncoding.EncodeToString(pdf), "f": tripID}).MustData(t)["fileAppeal"].(map[string]any)["id"].(string)
	vars := map[string]any{"id": id}
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, vars).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, vars).MustData(t)

	const view = `query($id: ID!) { appealView(ticketId: $id) {
		ticket { disputedFactKind disputedFactId allowedActions dueInWorkingTime steps { action unit { name regionCode } } }
		evidence { contentType size sha256 dataBase64 } } }`
	v := s.Do(t, handler, view, vars).MustData(t)["appealView"].(map[string]any)
	tk := v["ticket"].(map[string]any)
	if tk["disputedFactKind"] != "STAY" || tk["disputedFactId"] != tripID {
		t.Fatalf("disputed fact = %v %v, want STAY %s", tk["disputedFactKind"], tk["disputedFactId"], tripID)
	}
	ev := v["evidence"].([]any)
	sum := sha256.Sum256(pdf)
	if len(ev) != 1 || ev[0].(map[string]any)["contentType"] != "application/pdf" || ev[0].(map[string]any)["size"].(float64) != float64(len(pdf)) ||
		ev[0].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) || ev[0].(map[string]any)["dataBase64"] != base64.StdEncoding.EncodeToString(pdf) {
		t.Fatalf("evidence = %v", ev)
	}
	actions := tk["allowedActions"].([]any)
	for _, want := range []string{"RETURN", "RESOLVE_APPEAL", "REJECT_APPEAL", "NOTE", "REQUEST_EXTENSION"} {
		if !slices.Contains(actions, any(want)) {
			t.Errorf("the handler may %s: %v", want, actions)
		}
	}
	for _, not := range []string{"SIGN", "DISPATCH", "REPLY", "CALLBACK"} {
		if slices.Contains(actions, any(not)) {
			t.Errorf("the handler may not %s: %v", not, actions)
		}
	}
	if tk["dueInWorkingTime"] != false {
		t.Errorf("an appeal's reply deadline runs around the clock")
	}
	units := map[string]any{}
	for _, st := range tk["steps"].([]any) {
		st := st.(map[string]any)
		units[st["action"].(string)] = st["unit"]
	}
	if units["CREATE"] != nil || units["DISPATCH"] == nil || units["DISPATCH"].(map[string]any)["name"] != "雁塔区疫情防控指挥部办公室" ||
		units["SIGN"] == nil {
		t.Fatalf("units of the steps = %v", units)
	}
	// The operator of the same ticket may redispatch, escalate or note, not sign.
	op := s.Do(t, operator, `query($id: ID!) { ticket(id: $id) { allowedActions } }`, vars).MustData(t)["ticket"].(map[string]any)["allowedActions"].([]any)
	if !slices.Contains(op, any("REDISPATCH")) || !slices.Contains(op, any("ESCALATE")) || slices.Contains(op, any("SIGN")) {
		t.Fatalf("operator's actions = %v", op)
	}
	var reads int
	s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'ticket.evidence_read' AND object = $1`, "ticket:"+id).Scan(&reads)
	if reads != 1 {
		t.Fatalf("%d evidence reads audited, want 1", reads)
	}
	if r := s.Do(t, beilinHandler, view, vars); r.Code() != "NOT_FOUND" {
		t.Fatalf("another county's handler: %q", r.Code())
	}
	if r := s.Do(t, resident, view, vars); r.Code() != "FORBIDDEN" {
		t.Fatalf("the resident reading the appeal desk: %q", r.Code())
	}
	mine := s.Do(t, resident, `{ myAppeals { allowedActions disputedFactId steps { unit { name } } } }`, nil).MustData(t)["myAppeals"].([]any)[0].(map[string]any)
	if len(mine["allowedActions"].([]any)) != 0 || mine["disputedFactId"] != tripID {
		t.Fatalf("the resident's own appeal = %v", mine)
	}
	for _, st := range mine["steps"].([]any) {
		if st.(map[string]any)["unit"] != nil {
			t.Fatalf("the resident sees the unit of a step: %v", st)
		}
	}
}

// A unit's figures: open and overdue now, returns, signing and answers on
// time, and the satisfaction of callbacks, for the unit's people only.
func TestUnitStats(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138720")
	person, _ := s.declare(resident, declaration("周统计", idNumber("61011319900101073"), "13800138720", s.community("610113"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	unit := s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)["createHandlingUnit"].(map[string]any)["id"].(string)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, beilinHandler := s.CreateStaff(t, "beilin_handler", "610103", apitest.G("HANDLER@610103"))
	_, supervisor := s.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	do := func(token, q string, vars map[string]any) {
		t.Helper()
		s.Do(t, token, q, vars).MustData(t)
	}

	complaint := s.Do(t, operator, `mutation($p: ID) { createTicket(input: {kind: COMPLAINT, subject: "门岗不查码", description: "无人查验", personId: $p}) { id } }`,
		map[string]any{"p": person}).MustData(t)["createTicket"].(map[string]any)["id"]
	c := map[string]any{"id": complaint}
	do(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, c)
	do(handler, `mutation($id: ID!) { returnTicket(id: $id, reason: "非本单位职责") { id } }`, c)
	do(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, c)
	do(handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, c)
	do(handler, `mutation($id: ID!) { replyTicket(id: $id, text: "已责令整改") { id } }`, c)
	do(operator, `mutation($id: ID!) { recordCallback(id: $id, satisfaction: BASICALLY_SATISFIED) { id } }`, c)
	// An appeal dispatched to the unit and left unsigned past its 2 hours.
	appeal := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码有误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]
	do(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": appeal})
	s.Clock.Advance(3 * time.Hour)

	const q = `query($u: ID) { unitStats(unitId: $u) { unit { id name } open overdue returned dispatched signedOnTime signOnTimeRate
		replied repliedOnTime replyOnTimeRate callbacks satisfactionRate } }`
	rows := s.Do(t, handler, q, map[string]any{"u": unit}).MustData(t)["unitStats"].([]any)
	if len(rows) != 1 {
		t.Fatalf("unitStats = %v", rows)
	}
	got := rows[0].(map[string]any)
	want := map[string]any{"open": 1.0, "overdue": 1.0, "returned": 1.0, "dispatched": 2.0, "signedOnTime": 1.0, "signOnTimeRate": 50.0,
		"replied": 1.0, "repliedOnTime": 1.0, "replyOnTimeRate": 100.0, "callbacks": 1.0, "satisfactionRate": 80.0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// A period before any of it has no figures and no rates.
	old := s.Do(t, operator, `query($u: ID) { unitStats(unitId: $u, from: "2026-10-01", to: "2026-10-15") { returned callbacks satisfactionRate } }`,
		map[string]any{"u": unit}).MustData(t)["unitStats"].([]any)[0].(map[string]any)
	if old["returned"] != 0.0 || old["callbacks"] != 0.0 || old["satisfactionRate"] != nil {
		t.Fatalf("an earlier period = %v", old)
	}
	if r := s.Do(t, beilinHandler, q, map[string]any{"u": unit}); r.Code() != "NOT_FOUND" {
		t.Fatalf("another county's handler: %q", r.Code())
	}
	if r := s.Do(t, beilinHandler, `{ unitStats { unit { id } } }`, nil); r.Code() != "" || len(r.Data["unitStats"].([]any)) != 0 {
		t.Fatalf("another county's handler lists %v (%q)", r.Data, r.Code())
	}
	if r := s.Do(t, supervisor, q, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("a supervisor (aggregates by indicators only): %q", r.Code())
	}
}

// The national push status by day: on time, failed then late, with the
// failed attempts and the receipts; supervisors only.
func TestNationalPushes(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, supervisor := s.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	stub := exchange.NewStub(pub)
	srv := httptest.NewServer(stub)
	defer srv.Close()
	push := &postgres.NationalPush{DB: s.DB, Key: key, Sender: &exchange.Client{URL: srv.URL, KeyID: "test"}}
	ctx := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)

	oct31 := time.Date(2026, 10, 31, 0, 0, 0, 0, cst)
	s.Clock.Set(oct31.Add(24*time.Hour + 30*time.Minute)) // 00:30 the next day
	if err := push.Push(ctx, oct31); err != nil {
		t.Fatal(err)
	}
	nov1 := oct31.AddDate(0, 0, 1)
	s.Clock.Set(nov1.Add(24*time.Hour + 30*time.Minute))
	stub.FailNext(1)
	if err := push.Push(ctx, nov1); err == nil {
		t.Fatal("the failing receiver accepted the push")
	}
	const q = `{ nationalPushes(from: "2026-10-30", to: "2026-11-02") { day status late ackedAt failedAttempts dueAt
		batchList { batchId attempts receipt lastError } } }`
	status := func() []any {
		t.Helper()
		return s.Do(t, supervisor, q, nil).MustData(t)["nationalPushes"].([]any)
	}
	days := status()
	if len(days) != 2 || days[0].(map[string]any)["day"] != "2026-11-01" || days[1].(map[string]any)["day"] != "2026-10-31" {
		t.Fatalf("days = %v", days)
	}
	if d := days[1].(map[string]any); d["status"] != "ON_TIME" || d["batchList"].([]any)[0].(map[string]any)["receipt"] == "" {
		t.Fatalf("31 October = %v", d)
	}
	if d := days[0].(map[string]any); d["status"] != "PENDING" || d["failedAttempts"] != 1.0 || d["ackedAt"] != nil ||
		d["batchList"].([]any)[0].(map[string]any)["lastError"] == "" {
		t.Fatalf("1 November before 10:00 = %v", d)
	}
	s.Clock.Set(nov1.Add(24*time.Hour + 11*time.Hour))
	if d := status()[0].(map[string]any); d["status"] != "FAILED" {
		t.Fatalf("1 November after 10:00, not acknowledged = %v", d)
	}
	if err := push.Push(ctx, nov1); err != nil {
		t.Fatal(err)
	}
	if d := status()[0].(map[string]any); d["status"] != "LATE" || d["late"] != true || d["failedAttempts"] != 1.0 {
		t.Fatalf("1 November acknowledged at 11:00 = %v", d)
	}
	if r := s.Do(t, operator, q, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("an operator: %q", r.Code())
	}
}
