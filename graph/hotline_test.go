package graph_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"healthcode/graph/apitest"
)

const ticketFields = `id state kind overdue reopenCount unit { name regionCode } dueAt`

// The owner's scenario: a resident in Yanta appeals a red code caused by a
// wrong trip → dispatched to the Yanta unit → signed → the handler retracts
// the trip → the code is green in the same request → the resident gets an
// SMS → a dissatisfied callback reopens the ticket.
func TestScenarioAppeal(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138400")
	_, code := s.declare(resident, declaration("孙八", idNumber("61011319900101040"), "13800138400", s.community("610113"),
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-4), "to": day(-3)}}}))
	wantCode(t, "wrong trip", code, "RED", "R1")
	tripID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)

	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, beilinHandler := s.CreateStaff(t, "beilin_handler", "610103", apitest.G("HANDLER@610103"))

	pixel, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
	data := s.Do(t, resident, `mutation($e: String) { fileAppeal(input: {reason: "我没有出国，行程填错了", evidenceBase64: $e, evidenceType: "image/png"}) { `+ticketFields+` } }`,
		map[string]any{"e": base64.StdEncoding.EncodeToString(pixel)}).MustData(t)
	id := data["fileAppeal"].(map[string]any)["id"].(string)

	act := func(token, m string, vars map[string]any) map[string]any {
		t.Helper()
		if vars == nil {
			vars = map[string]any{}
		}
		vars["id"] = id
		d := s.Do(t, token, m, vars).MustData(t)
		for _, v := range d {
			return v.(map[string]any)
		}
		return nil
	}
	tk := act(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { `+ticketFields+` } }`, nil)
	if tk["state"] != "DISPATCHED" || tk["unit"].(map[string]any)["regionCode"] != "610113" {
		t.Fatalf("dispatched = %v", tk)
	}
	// A Beilin handler neither sees nor acts on it.
	if r := s.Do(t, beilinHandler, `query($id: ID!) { ticket(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
		t.Fatalf("beilin handler reading a yanta ticket: %q", r.Code())
	}
	if r := s.Do(t, beilinHandler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
		t.Fatalf("beilin handler signing a yanta ticket: %q", r.Code())
	}
	act(handler, `mutation($id: ID!) { signTicket(id: $id) { state } }`, nil)
	act(handler, `mutation($id: ID!) { noteTicket(id: $id, text: "内部：核对出入境记录") { state } }`, nil)

	view := act(handler, `query($id: ID!) { appealView(ticketId: $id) { code { colour ruleSetVersion clauses { id factIds } }
		facts { kind id summary actor createdAt } history { to cause } } }`, nil)
	found := false
	for _, f := range view["facts"].([]any) {
		f := f.(map[string]any)
		if f["kind"] == "STAY" && f["id"] == tripID && f["actor"] != "" {
			found = true
		}
	}
	if !found || view["code"].(map[string]any)["colour"] != "RED" {
		t.Fatalf("appeal view lacks the trip %s with its author: %v", tripID, view)
	}
	if r := s.Do(t, handler, `mutation($id: ID!) { replyTicket(id: $id, text: "x") { id } }`, map[string]any{"id": id}); r.Code() != "CONFLICT" {
		t.Fatalf("plain reply to an appeal: %q", r.Code())
	}
	tk = act(handler, `mutation($id: ID!, $f: ID!) { resolveAppeal(id: $id, text: "经核实无出境记录，已撤销错误行程", correction: {retractKind: STAY, retractId: $f}) { state } }`,
		map[string]any{"f": tripID})
	if tk["state"] != "REPLIED" {
		t.Fatalf("resolved = %v", tk)
	}
	wantCode(t, "after the correction", s.myCode(resident, ""), "GREEN")
	var sms int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = 'notify:sms' AND dedup_key LIKE 'ticket:%'").Scan(&sms)
	if sms != 1 {
		t.Fatalf("%d appeal outcome SMS queued, want 1", sms)
	}
	// The resident sees the public steps, not the internal note.
	steps := s.Do(t, resident, `query { myAppeals { id steps { action text visibility } } }`, nil).MustData(t)["myAppeals"].([]any)[0].(map[string]any)["steps"].([]any)
	for _, st := range steps {
		if st.(map[string]any)["visibility"] != "PUBLIC" || strings.Contains(st.(map[string]any)["text"].(string), "内部") {
			t.Fatalf("resident sees an internal step: %v", st)
		}
	}
	tk = act(operator, `mutation($id: ID!) { recordCallback(id: $id, satisfaction: DISSATISFIED, reason: "认为处理太慢") { `+ticketFields+` } }`, nil)
	if tk["state"] != "DISPATCHED" || tk["reopenCount"].(float64) != 1 {
		t.Fatalf("after a dissatisfied callback = %v", tk)
	}
}

// An overdue ticket produces a 督办 notice to the parent region.
func TestScenarioOverdueSupervision(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138401")
	s.declare(resident, declaration("周九", idNumber("61011319900101041"), "13800138401", s.community("610113"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	id := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)

	tickets := s.Tickets()
	s.Clock.Advance(100 * time.Minute) // past 80 % of the 2-hour signing limit
	if warned, overdue, err := tickets.ProcessDeadlines(context.Background()); err != nil || warned != 1 || overdue != 0 {
		t.Fatalf("at 100 minutes: warned %d overdue %d err %v", warned, overdue, err)
	}
	s.Clock.Advance(30 * time.Minute)
	if _, overdue, err := tickets.ProcessDeadlines(context.Background()); err != nil || overdue != 1 {
		t.Fatalf("at 130 minutes: overdue %d err %v", overdue, err)
	}
	if _, overdue, _ := tickets.ProcessDeadlines(context.Background()); overdue != 0 {
		t.Fatalf("a second pass marked %d more", overdue)
	}
	notices := s.Do(t, xian, `query { ticketNotices { kind regionCode ticketId } }`, nil).MustData(t)["ticketNotices"].([]any)
	found := false
	for _, n := range notices {
		n := n.(map[string]any)
		if n["kind"] == "OVERDUE" && n["regionCode"] == "6101" && n["ticketId"] == id {
			found = true
		}
	}
	if !found {
		t.Fatalf("no 督办 notice to 6101: %v", notices)
	}
	q := s.Do(t, xian, `query { tickets(overdue: true) { nodes { id overdue supervised } } }`, nil).MustData(t)["tickets"].(map[string]any)["nodes"].([]any)
	if len(q) != 1 || q[0].(map[string]any)["supervised"] != true {
		t.Fatalf("overdue queue = %v", q)
	}
}

// Operators see masked data; the unmasked phone and ID only for the person of
// an open ticket they work on, with a reason, and every such view is audited.
func TestUnmaskNeedsOpenTicket(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138402")
	pid, _ := s.declare(resident, declaration("吴十", idNumber("61011319900101042"), "13800138402", s.community("610113"), nil))
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	found := s.Do(t, operator, `query { findPersons(phone: "13800138402") { id phone docNumber } }`, nil).MustData(t)["findPersons"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["phone"] != "138****8402" {
		t.Fatalf("findPersons = %v", found)
	}
	id := s.Do(t, operator, `mutation($p: ID!) { createTicket(input: {kind: CONSULTATION, personId: $p, callerPhone: "13800138402", subject: "咨询转码", description: "黄码何时转绿"}) { id state } }`,
		map[string]any{"p": pid}).MustData(t)["createTicket"].(map[string]any)["id"]
	unmask := `mutation($id: ID!, $r: String!) { unmaskPerson(ticketId: $id, reason: $r) { phone docNumber } }`
	if r := s.Do(t, operator, unmask, map[string]any{"id": id, "r": " "}); r.Code() != "INVALID" {
		t.Fatalf("unmask without reason: %q", r.Code())
	}
	u := s.Do(t, operator, unmask, map[string]any{"id": id, "r": "核实来电人身份"}).MustData(t)["unmaskPerson"].(map[string]any)
	if u["phone"] != "13800138402" {
		t.Fatalf("unmasked = %v", u)
	}
	var audited int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'person.unmask' AND reason LIKE 'ticket:%'").Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d unmask audit records, want 1", audited)
	}
	// The attack of issue 12 §4: an operator opens a ticket about someone
	// who never called (another caller's phone, or none) and unmasks them
	// at once. Refused: the ticket did not come from the person.
	_, stranger := s.CreateResident(t, "13800138499")
	victim, _ := s.declare(stranger, declaration("受害人", idNumber("61011319900101099"), "13800138499", s.community("610113"), nil))
	for _, caller := range []string{`callerPhone: "13900000001", `, ""} {
		other := s.Do(t, operator, `mutation($p: ID!) { createTicket(input: {kind: CONSULTATION, personId: $p, `+caller+`subject: "咨询", description: "查询"}) { id } }`,
			map[string]any{"p": victim}).MustData(t)["createTicket"].(map[string]any)["id"]
		if r := s.Do(t, operator, unmask, map[string]any{"id": other, "r": "核实身份"}); r.Code() != "FORBIDDEN" {
			t.Fatalf("unmask on a self-made ticket (%q): %q %v", caller, r.Code(), r.Data)
		}
	}
	// 直接办结 closes the consultation; then nobody may unmask any more.
	s.Do(t, operator, `mutation($id: ID!) { closeTicket(id: $id, text: "按知识库答复") { state } }`, map[string]any{"id": id}).MustData(t)
	if r := s.Do(t, operator, unmask, map[string]any{"id": id, "r": "再看一次"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("unmask on a closed ticket: %q", r.Code())
	}
}

// Bad input to the hotline: clear errors, nothing written.
func TestHotlineBadInput(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138403")
	s.declare(resident, declaration("郑一", idNumber("61011319900101043"), "13800138403", s.community("610113"), nil))
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	if r := s.Do(t, resident, `mutation($e: String) { fileAppeal(input: {reason: "错", evidenceBase64: $e}) { id } }`,
		map[string]any{"e": base64.StdEncoding.EncodeToString([]byte("GIF89a neither a PNG, a JPEG nor a PDF"))}); r.Code() != "INVALID" {
		t.Fatalf("evidence of another type: %q", r.Code())
	}
	big := make([]byte, 600<<10) // over 512 KB, still inside the 1 MiB request limit as base64
	copy(big, []byte("\x89PNG\r\n\x1a\n"))
	if r := s.Do(t, resident, `mutation($e: String) { fileAppeal(input: {reason: "错", evidenceBase64: $e}) { id } }`,
		map[string]any{"e": base64.StdEncoding.EncodeToString(big)}); r.Code() != "INVALID" {
		t.Fatalf("oversized evidence: status %d code %q", r.Status, r.Code())
	}
	if r := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "  "}) { id } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("empty reason: %q", r.Code())
	}
	id := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]
	if r := s.Do(t, operator, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "FORBIDDEN" && r.Code() != "CONFLICT" {
		t.Fatalf("operator signing: %q", r.Code())
	}
	if r := s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "INVALID" {
		t.Fatalf("dispatch with no unit in the county: %q %v", r.Code(), r.Errors)
	}
	if r := s.Do(t, handler, `mutation($id: ID!) { returnTicket(id: $id, reason: "") { id } }`, map[string]any{"id": id}); r.Code() == "" {
		t.Fatalf("return with empty reason accepted")
	}
	var steps int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM ticket_steps").Scan(&steps)
	if steps != 1 {
		t.Fatalf("%d steps after refused actions, want only the creation", steps)
	}
}

// A unit's live queue: a websocket subscription pushes the tickets that
// change, checked against the subscriber's grants.
func TestTicketQueueSubscription(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138404")
	s.declare(resident, declaration("王二", idNumber("61011319900101044"), "13800138404", s.community("610113"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, beilin := s.CreateStaff(t, "beilin_handler", "610103", apitest.G("HANDLER@610103"))

	srv := httptest.NewServer(s.Handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subscribe := func(token string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		var ack map[string]any
		if err := wsjson.Read(ctx, c, &ack); err != nil || ack["type"] != "connection_ack" {
			t.Fatalf("connection_init: %v %v", ack, err)
		}
		wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe",
			"payload": map[string]any{"query": "subscription { ticketQueue { id state } }"}})
		return c
	}
	select {
	case <-s.Listener.Ready():
	case <-ctx.Done():
		t.Fatal("the listener did not connect")
	}
	mine, theirs := subscribe(handler), subscribe(beilin)
	defer mine.CloseNow()
	defer theirs.CloseNow()
	for s.Tickets().QueueSubscribers() < 2 { // the server registers them asynchronously
		select {
		case <-ctx.Done():
			t.Fatal("the subscriptions were not registered")
		case <-time.After(10 * time.Millisecond):
		}
	}
	id := s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)["fileAppeal"].(map[string]any)["id"]
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	var msg struct {
		Type    string
		Payload struct {
			Data struct {
				TicketQueue struct{ ID, State string }
			}
		}
	}
	await := func(state string) {
		t.Helper()
		for {
			if err := wsjson.Read(ctx, mine, &msg); err != nil {
				t.Fatalf("no queue update to %s: %v", state, err)
			}
			if msg.Type == "next" && msg.Payload.Data.TicketQueue.ID == id && msg.Payload.Data.TicketQueue.State == state {
				return
			}
		}
	}
	await("DISPATCHED")

	// The listener loses its connection (a database restart) and the
	// ticket changes meanwhile: once it is back, the subscriber receives
	// the change it missed, replayed from the change history.
	states, release := make(chan bool, 4), make(chan struct{})
	s.Listener.OnState(func(connected bool) {
		states <- connected
		if !connected {
			<-release // held down until the change is committed
		}
	})
	if _, err := s.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'healthcode-listener' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	if <-states {
		t.Fatal("still connected")
	}
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}).MustData(t)
	close(release)
	await("SIGNED")
	// The Beilin handler's subscription received nothing about it.
	rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer rcancel()
	var other map[string]any
	if err := wsjson.Read(rctx, theirs, &other); err == nil && other["type"] == "next" {
		t.Fatalf("a beilin handler was pushed a yanta ticket: %v", other)
	}
}

// The rest of the lifecycle through the API: duplicates suggested and merged,
// an extension requested and approved by the level above, an escalation, the
// knowledge base and the work calendar.
func TestHotlineLifecycleOperations(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138405")
	pid, _ := s.declare(resident, declaration("冯五", idNumber("61011319900101045"), "13800138405", s.community("610113"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	create := `mutation($p: ID!) { createTicket(input: {kind: COMPLAINT, personId: $p, subject: "投诉卡口", description: "卡口不认可绿码"}) { id } }`
	first := s.Do(t, operator, create, map[string]any{"p": pid}).MustData(t)["createTicket"].(map[string]any)["id"]
	second := s.Do(t, operator, create, map[string]any{"p": pid}).MustData(t)["createTicket"].(map[string]any)["id"]
	dup := s.Do(t, operator, `query($id: ID!) { ticket(id: $id) { duplicates } }`, map[string]any{"id": second}).MustData(t)["ticket"].(map[string]any)["duplicates"].([]any)
	if len(dup) != 1 || dup[0] != first {
		t.Fatalf("duplicates of %v = %v, want [%v]", second, dup, first)
	}
	m := s.Do(t, operator, `mutation($id: ID!, $into: ID!) { mergeTickets(id: $id, into: $into) { state mergedInto } }`,
		map[string]any{"id": second, "into": first}).MustData(t)["mergeTickets"].(map[string]any)
	if m["state"] != "MERGED" || m["mergedInto"] != first {
		t.Fatalf("merged = %v", m)
	}
	do := func(token, q string, vars map[string]any) map[string]any {
		t.Helper()
		vars["id"] = first
		for _, v := range s.Do(t, token, q, vars).MustData(t) {
			return v.(map[string]any)
		}
		return nil
	}
	do(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { state } }`, map[string]any{})
	do(handler, `mutation($id: ID!) { signTicket(id: $id) { state } }`, map[string]any{})
	before := do(handler, `mutation($id: ID!) { requestExtension(id: $id, reason: "需协调交通部门", extension: "2wd") { extensionPending replyDue } }`, map[string]any{})
	if before["extensionPending"] != true {
		t.Fatalf("extension not pending: %v", before)
	}
	if r := s.Do(t, handler, `mutation($id: ID!) { decideExtension(id: $id, approve: true) { id } }`, map[string]any{"id": first}); r.Code() != "FORBIDDEN" {
		t.Fatalf("handler approving own extension: %q", r.Code())
	}
	after := do(xian, `mutation($id: ID!) { decideExtension(id: $id, approve: true) { extensionPending replyDue } }`, map[string]any{})
	if after["extensionPending"] != false || after["replyDue"].(string) <= before["replyDue"].(string) {
		t.Fatalf("extension not applied: before %v after %v", before, after)
	}
	esc := do(handler, `mutation($id: ID!) { escalateTicket(id: $id, reason: "涉及跨省互认，需省级协调") { state } }`, map[string]any{})
	if esc["state"] != "ESCALATED" {
		t.Fatalf("escalated = %v", esc)
	}
	kb := s.Do(t, operator, `query { knowledge(query: "黄码") { question answer } }`, nil).MustData(t)["knowledge"].([]any)
	if len(kb) == 0 {
		t.Fatal("knowledge base has no answer about 黄码")
	}
	cal := s.Do(t, operator, `query { workCalendar(year: 2026) { date name workday } }`, nil).MustData(t)["workCalendar"].([]any)
	var makeup bool
	for _, d := range cal {
		d := d.(map[string]any)
		if d["date"] == "2026-02-14" && d["workday"] == true {
			makeup = true
		}
	}
	if !makeup {
		t.Fatalf("2026-02-14 (a Saturday make-up working day) missing from %v", cal)
	}
}
