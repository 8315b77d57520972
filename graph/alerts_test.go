package graph_test

import (
	"fmt"
	"testing"
	"time"

	"healthcode/graph/apitest"
)

// An operator unmasking 11 persons within an hour (threshold 10) raises one
// MASS_UNMASK alert — not one per unmask — that an auditor sees and the
// operator does not; acknowledging it is audited, and a second
// acknowledgement is a conflict. An hour after the burst, new unmasks count
// afresh.
func TestMassUnmaskRaisesOneAlert(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, operator := s.CreateStaff(t, "mass_operator", "61", apitest.G("OPERATOR@61"))
	_, auditor := s.CreateStaff(t, "alert_auditor", "61", apitest.G("AUDITOR@61"))
	names := []string{"赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八", "冯九", "陈十", "褚十一", "卫十二"}
	unmask := `mutation($id: ID!) { unmaskPerson(ticketId: $id, reason: "核实来电人身份") { docNumber } }`
	list := `query($k: AlertKind, $ack: Boolean) { alerts(kind: $k, acknowledged: $ack, first: 10) { nodes { id kind actor regionCode windowSeconds count threshold firstAt lastAt acknowledgedBy acknowledgedAt note detail } } }`
	alerts := func(vars map[string]any) []any {
		t.Helper()
		return s.Do(t, auditor, list, vars).MustData(t)["alerts"].(map[string]any)["nodes"].([]any)
	}
	for i, name := range names {
		phone := fmt.Sprintf("138001385%02d", i)
		_, resident := s.CreateResident(t, phone)
		pid, _ := s.declare(resident, declaration(name, idNumber(fmt.Sprintf("610113199001013%02d", i)), phone, home, nil))
		id := s.Do(t, operator, `mutation($p: ID!, $ph: String!) { createTicket(input: {kind: CONSULTATION, personId: $p, callerPhone: $ph, subject: "咨询转码", description: "黄码何时转绿"}) { id } }`,
			map[string]any{"p": pid, "ph": phone}).MustData(t)["createTicket"].(map[string]any)["id"]
		s.Do(t, operator, unmask, map[string]any{"id": id}).MustData(t)
		s.Clock.Set(s.Clock.Now().Add(time.Minute))
		got := alerts(nil)
		switch {
		case i < 10 && len(got) != 0:
			t.Fatalf("after %d unmasks: alerts %v", i+1, got)
		case i >= 10 && len(got) != 1: // the 12th unmask updates the same alert
			t.Fatalf("after %d unmasks: %d alerts, want one: %v", i+1, len(got), got)
		}
	}
	a := alerts(map[string]any{"k": "MASS_UNMASK", "ack": false})
	if len(a) != 1 {
		t.Fatalf("unacknowledged MASS_UNMASK alerts = %v", a)
	}
	al := a[0].(map[string]any)
	if al["kind"] != "MASS_UNMASK" || al["count"] != float64(12) || al["threshold"] != float64(10) ||
		al["windowSeconds"] != float64(3600) || al["regionCode"] != "61" || al["firstAt"] == al["lastAt"] || al["acknowledgedAt"] != nil {
		t.Fatalf("alert = %v", al)
	}
	if got := alerts(map[string]any{"k": "MASS_DESIGNATION"}); len(got) != 0 {
		t.Fatalf("MASS_DESIGNATION alerts = %v", got)
	}
	if r := s.Do(t, operator, list, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("operator lists alerts: %q", r.Code())
	}
	ack := `mutation($id: ID!, $n: String!) { acknowledgeAlert(id: $id, note: $n) { id acknowledgedBy acknowledgedAt note } }`
	vars := map[string]any{"id": al["id"], "n": "已核实：该话务员当日集中回访申诉人"}
	if r := s.Do(t, operator, ack, vars); r.Code() != "NOT_FOUND" && r.Code() != "FORBIDDEN" {
		t.Fatalf("operator acknowledges: %q", r.Code())
	}
	if r := s.Do(t, auditor, ack, map[string]any{"id": al["id"], "n": " "}); r.Code() != "INVALID" {
		t.Fatalf("acknowledge without note: %q", r.Code())
	}
	done := s.Do(t, auditor, ack, vars).MustData(t)["acknowledgeAlert"].(map[string]any)
	if done["acknowledgedAt"] == nil || done["note"] != vars["n"] {
		t.Fatalf("acknowledged = %v", done)
	}
	if r := s.Do(t, auditor, ack, vars); r.Code() != "CONFLICT" {
		t.Fatalf("second acknowledgement: %q", r.Code())
	}
	if got := alerts(map[string]any{"ack": false}); len(got) != 0 {
		t.Fatalf("unacknowledged after acknowledging: %v", got)
	}
	logged := s.Do(t, auditor, `query { auditLog(first: 5) { nodes { action object reason } } }`, nil).MustData(t)["auditLog"].(map[string]any)["nodes"].([]any)
	if rec := logged[0].(map[string]any); rec["action"] != "alert.acknowledge" || rec["object"] != "alert:"+al["id"].(string) || rec["reason"] != vars["n"] {
		t.Fatalf("newest audit record = %v", rec)
	}
}
