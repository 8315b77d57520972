package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
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

// listAlerts is the alerts query as token, filtered by kind.
func (s *scenario) listAlerts(t *testing.T, token, kind string) *apitest.Response {
	t.Helper()
	vars := map[string]any{"k": nil}
	if kind != "" {
		vars["k"] = kind
	}
	return s.Do(t, token, `query($k: AlertKind) { alerts(kind: $k, first: 10) { nodes { id kind actor regionCode count threshold windowSeconds detail } } }`, vars)
}

func alertNodes(t *testing.T, r *apitest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, n := range r.MustData(t)["alerts"].(map[string]any)["nodes"].([]any) {
		out = append(out, n.(map[string]any))
	}
	return out
}

// MASS_PERSON_READ was declared and never raised. One operator reading the
// data of more distinct persons than the threshold (configured here at 5 an
// hour) within the window raises one alert, whatever the kind of read
// (person, personFacts, findPersons); reading the same person again does
// not count twice; the auditor of the province sees it, the reader and an
// auditor of another city do not; an hour later reads count afresh.
func TestMassPersonReadRaisesAlert(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	s.DB.AlertLimits = map[healthcode.AlertKind]healthcode.AlertLimit{healthcode.AlertMassPersonRead: {Count: 5, Window: time.Hour}}
	home := s.community("610113")
	readerID, reader := s.CreateStaff(t, "mass_reader", "610113", apitest.G("OPERATOR@610113"))
	_, auditor := s.CreateStaff(t, "read_auditor", "61", apitest.G("AUDITOR@61"))
	_, baoji := s.CreateStaff(t, "baoji_auditor", "6103", apitest.G("AUDITOR@6103"))
	var pids, phones []string
	for i := range 7 {
		phone := fmt.Sprintf("138001388%02d", i)
		_, resident := s.CreateResident(t, phone)
		pid, _ := s.declare(resident, declaration([]string{"赵读", "钱读", "孙读", "李读", "周读", "吴读", "郑读"}[i],
			idNumber(fmt.Sprintf("610113199001018%02d", i)), phone, home, nil))
		pids, phones = append(pids, pid), append(phones, phone)
	}
	person := `query($id: ID!) { person(id: $id, purpose: "核实") { id } }`
	read := func(i int) {
		t.Helper()
		switch i % 3 {
		case 0:
			s.Do(t, reader, person, map[string]any{"id": pids[i]}).MustData(t)
		case 1:
			s.Do(t, reader, `query($id: ID!) { personFacts(personId: $id, purpose: "核实") { kind } }`, map[string]any{"id": pids[i]}).MustData(t)
		case 2:
			s.Do(t, reader, `query($ph: String) { findPersons(phone: $ph) { id } }`, map[string]any{"ph": phones[i]}).MustData(t)
		}
		s.Clock.Set(s.Clock.Now().Add(time.Minute))
	}
	for i := range 5 {
		read(i)
		read(0) // the same person again
	}
	if got := alertNodes(t, s.listAlerts(t, auditor, "MASS_PERSON_READ")); len(got) != 0 {
		t.Fatalf("after 5 distinct persons: %v", got)
	}
	read(5)
	got := alertNodes(t, s.listAlerts(t, auditor, "MASS_PERSON_READ"))
	if len(got) != 1 || got[0]["count"] != float64(6) || got[0]["threshold"] != float64(5) ||
		got[0]["actor"] != fmt.Sprintf("staff:%d", readerID) || got[0]["regionCode"] != "610113" || got[0]["windowSeconds"] != float64(3600) {
		t.Fatalf("after 6 distinct persons: %v", got)
	}
	read(6)
	if again := alertNodes(t, s.listAlerts(t, auditor, "")); len(again) != 1 || again[0]["count"] != float64(7) {
		t.Fatalf("a seventh person: %v, want the same alert counting 7", again)
	}
	if r := s.listAlerts(t, reader, ""); r.Code() != "FORBIDDEN" {
		t.Fatalf("the reader lists alerts: %q", r.Code())
	}
	if other := alertNodes(t, s.listAlerts(t, baoji, "")); len(other) != 0 {
		t.Fatalf("an auditor of Baoji sees %v", other)
	}
	// Two hours later one read is no burst: the alert stays the only one.
	s.Clock.Set(s.Clock.Now().Add(2 * time.Hour))
	read(1)
	if after := alertNodes(t, s.listAlerts(t, auditor, "")); len(after) != 1 || after[0]["count"] != float64(7) {
		t.Fatalf("a read two hours later: %v", after)
	}
}

// MASS_DESIGNATION through the API: one health officer of the province
// asking to designate more areas HIGH within the window than the threshold
// (configured here at 3 an hour) raises one alert — areas count, not only
// persons — together with red-making requests about persons. The province's
// auditor sees it; the officer and an auditor of another city do not.
func TestMassDesignationRaisesAlert(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	s.DB.AlertLimits = map[healthcode.AlertKind]healthcode.AlertLimit{healthcode.AlertMassDesignation: {Count: 3, Window: time.Hour}}
	home := s.community("610113")
	officerID, officer := s.CreateStaff(t, "mass_officer", "61", apitest.G("HEALTH_OFFICER@61"))
	_, auditor := s.CreateStaff(t, "designation_auditor", "61", apitest.G("AUDITOR@61"))
	_, baoji := s.CreateStaff(t, "baoji_auditor2", "6103", apitest.G("AUDITOR@6103"))
	rows, err := s.Pool.Query(context.Background(), `SELECT code FROM regions WHERE level = 'COUNTY' AND code LIKE '6101%' ORDER BY code LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	counties, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(counties) != 3 {
		t.Fatalf("counties %v, %v", counties, err)
	}
	set := `mutation($r: String!) { setAreaRisk(region: $r, level: HIGH, reason: "聚集性疫情") { id pending } }`
	for _, c := range counties {
		if r := s.Do(t, officer, set, map[string]any{"r": c}).MustData(t)["setAreaRisk"].(map[string]any); r["pending"] != true {
			t.Fatalf("HIGH designation of %s in force at once: %v", c, r)
		}
		s.Do(t, officer, set, map[string]any{"r": c}).MustData(t) // the same area again does not count twice
		s.Clock.Set(s.Clock.Now().Add(5 * time.Minute))
	}
	if got := alertNodes(t, s.listAlerts(t, auditor, "MASS_DESIGNATION")); len(got) != 0 {
		t.Fatalf("after 3 areas: %v", got)
	}
	// A fourth subject: a red-making medical event about a person.
	_, resident := s.CreateResident(t, "13800138901")
	pid, _ := s.declare(resident, declaration("赵指定", idNumber("61011319900101901"), "13800138901", home, nil))
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`, map[string]any{"p": pid}).MustData(t)
	got := alertNodes(t, s.listAlerts(t, auditor, "MASS_DESIGNATION"))
	if len(got) != 1 || got[0]["count"] != float64(4) || got[0]["threshold"] != float64(3) ||
		got[0]["actor"] != fmt.Sprintf("staff:%d", officerID) || got[0]["regionCode"] != "61" {
		t.Fatalf("after 3 areas and a person: %v", got)
	}
	if r := s.listAlerts(t, officer, ""); r.Code() != "FORBIDDEN" {
		t.Fatalf("the officer lists alerts: %q", r.Code())
	}
	if other := alertNodes(t, s.listAlerts(t, baoji, "")); len(other) != 0 {
		t.Fatalf("an auditor of Baoji sees %v", other)
	}
}
