package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/graph/apitest"
)

// Issue 12 §1 for machine clients: a city sub-system's push and a medical
// institution's machine client (docs/exchange.md, docs/security-colour.md).

// post sends body to an exchange endpoint with an API key and returns the
// status and the decoded JSON answer.
func (s *scenario) post(t *testing.T, path, key, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s answer (status %d): %v: %s", path, rec.Code, err, rec.Body.Bytes())
	}
	return rec.Code, out
}

// pushRecords pushes records as NDJSON to /exchange/v1/records and returns
// the per-record answers.
func (s *scenario) pushRecords(t *testing.T, key string, records ...map[string]any) []map[string]any {
	t.Helper()
	var body bytes.Buffer
	for _, r := range records {
		line, _ := json.Marshal(r)
		body.Write(append(line, '\n'))
	}
	status, out := s.post(t, "/exchange/v1/records", key, "application/x-ndjson", body.Bytes())
	if status != http.StatusOK {
		t.Fatalf("push: status %d: %v", status, out)
	}
	var recs []map[string]any
	for _, r := range out["records"].([]any) {
		recs = append(recs, r.(map[string]any))
	}
	return recs
}

// cityRecord is a record of Xi'an's sub-system for the person with doc,
// living at home, with the given travel and temperature.
func cityRecord(id, name, doc, phone, home string, temperature float64, travel ...map[string]any) map[string]any {
	if travel == nil {
		travel = []map[string]any{}
	}
	return map[string]any{"recordId": id, "name": name, "sex": "1", "nationality": "CHN", "docType": "ID_CARD",
		"docNumber": doc, "region": home, "address": "雁塔路1号", "phone": phone, "temperature": temperature,
		"symptoms": []string{}, "travel": travel, "colour": "GREEN",
		"issuedAt": start.Add(-time.Hour).Format(time.RFC3339), "issuer": "6101"}
}

// One administrator created an API key and pushed a record that made a
// person red (a trip abroad) on its own. Now the record waits for a health
// officer of the residence who is not the key's creator; a yellow-making
// record still takes effect at once.
func TestColourSubsystemPushNeedsSecondPerson(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138711")
	doc := idNumber("61011319800101711")
	pid, _ := s.declare(resident, declaration("孙红", doc, "13800138711", home, nil))
	// The attacker: a city administrator who is also a health officer.
	_, admin := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"), apitest.G("HEALTH_OFFICER@6101"))
	key := s.Do(t, admin, `mutation { createApiKey(city: "6101", name: "西安子系统") { key } }`, nil).
		MustData(t)["createApiKey"].(map[string]any)["key"].(string)

	abroad := cityRecord("XA-1", "孙红", doc, "13800138711", home, 36.5,
		map[string]any{"place": "ABROAD:US", "from": day(-6), "to": day(-3)})
	got := s.pushRecords(t, key, abroad)[0]
	if got["status"] != "PENDING_APPROVAL" || got["requestId"] == nil {
		t.Fatalf("abroad record: %v", got)
	}
	if c := s.colourOf(t, admin, pid); c != "GREEN" {
		t.Fatalf("colour after the push: %s", c)
	}
	// The same record again answers the same request.
	if again := s.pushRecords(t, key, abroad)[0]; again["status"] != "PENDING_APPROVAL" || again["requestId"] != got["requestId"] {
		t.Fatalf("re-push: %v, first %v", again, got)
	}
	req := map[string]any{"id": got["requestId"]}
	approve := `mutation($id: ID!) { approveColourRequest(id: $id) { status kind personId effect } }`
	wantError(t, "the key's creator approves", s.Do(t, admin, approve, req), "FORBIDDEN")
	if c := s.colourOf(t, admin, pid); c != "GREEN" {
		t.Fatalf("colour after the creator's approval: %s", c)
	}
	if n := s.approvePending(t, "610113"); n != 1 {
		t.Fatalf("pending requests: %d", n)
	}
	if c := s.colourOf(t, admin, pid); c != "RED" {
		t.Fatalf("colour after the second officer's approval: %s", c)
	}
	// The record is now stored: pushing it again is a duplicate.
	if dup := s.pushRecords(t, key, abroad)[0]; dup["status"] != "DUPLICATE" || dup["unifiedColour"] != "RED" {
		t.Fatalf("re-push after approval: %v", dup)
	}

	// A fever reading (yellow) takes effect at once.
	_, other := s.CreateResident(t, "13800138712")
	doc2 := idNumber("61011319800101712")
	pid2, _ := s.declare(other, declaration("周黄", doc2, "13800138712", home, nil))
	if r := s.pushRecords(t, key, cityRecord("XA-2", "周黄", doc2, "13800138712", home, 37.9))[0]; r["status"] != "ACCEPTED" {
		t.Fatalf("fever record: %v", r)
	}
	if c := s.colourOf(t, admin, pid2); c != "YELLOW" {
		t.Fatalf("colour after the fever record: %s", c)
	}
}

// hospital registers a HOSPITAL in county (kind given at registration) and
// has the county administrator approve it; it returns its id.
func (s *scenario) hospital(t *testing.T, name, body, county, countyAdmin string) string {
	t.Helper()
	check, ok := healthcode.CreditCodeCheck(body)
	if !ok {
		t.Fatal("credit code body")
	}
	reg := s.Do(t, "", `mutation($n: String!, $c: String!, $r: String!, $u: String!) { registerInstitution(input: {name: $n,
		creditCode: $c, region: $r, contactName: "李院长", contactPhone: "13912345601", adminUsername: $u,
		adminDisplayName: "李院长", adminPassword: "hospital-pass-2020", kind: "HOSPITAL"}) { institution { id kind status } } }`,
		map[string]any{"n": name, "c": body + string(check), "r": county, "u": "hosp_" + strings.ToLower(body[8:])}).MustData(t)
	inst := reg["registerInstitution"].(map[string]any)["institution"].(map[string]any)
	if inst["kind"] != "HOSPITAL" || inst["status"] != "PENDING" {
		t.Fatalf("registered: %v", inst)
	}
	s.Do(t, countyAdmin, `mutation($i: ID!) { approveInstitution(id: $i) { status } }`, map[string]any{"i": inst["id"]}).MustData(t)
	return inst["id"].(string)
}

// postEvents posts medical events as a JSON array and returns the status and answer.
func (s *scenario) postEvents(t *testing.T, key string, events ...map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(events)
	return s.post(t, "/exchange/v1/medical-events", key, "application/json", body)
}

func event(id, doc, kind string) map[string]any {
	return map[string]any{"recordId": id, "docType": "ID_CARD", "docNumber": doc, "kind": kind,
		"at": start.Add(-2 * time.Hour).Format(time.RFC3339), "note": "核酸检测阳性"}
}

// A registered medical institution's machine client records medical events
// without a second person — the exception of issue 12 §1 — because issuing
// its key took two: requested by one administrator, in force only after
// another natural person administering the parent region approved it.
func TestMachineClientRecordsMedicalEvents(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138721")
	doc := idNumber("61011319800101721")
	pid, _ := s.declare(resident, declaration("吴红", doc, "13800138721", home, nil))
	_, elsewhere := s.CreateResident(t, "13800138722")
	docElsewhere := idNumber("61010319800101722")
	s.declare(elsewhere, declaration("郑绿", docElsewhere, "13800138722", s.community("610103"), nil))

	_, county := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	_, cityA := s.CreateStaff(t, "xian_admin_a", "6101", apitest.G("ADMIN@6101"))
	_, cityB := s.CreateStaff(t, "xian_admin_b", "6101", apitest.G("ADMIN@6101"))
	inst := s.hospital(t, "西安市雁塔区人民医院", "12610113MB0000001", "610113", county)

	create := `mutation($i: ID!, $n: String!) { createMachineClientKey(institutionId: $i, name: $n) { id key } }`
	k := s.Do(t, cityA, create, map[string]any{"i": inst, "n": "雁塔医院 LIS 接口"}).MustData(t)["createMachineClientKey"].(map[string]any)
	key, keyID := k["key"].(string), k["id"]

	// Not yet approved: the key authenticates nobody.
	if status, out := s.postEvents(t, key, event("LIS-1", doc, "CONFIRMED")); status != http.StatusUnauthorized {
		t.Fatalf("pending key: %d %v", status, out)
	}
	approve := `mutation($id: ID!) { approveApiKey(id: $id) { pending approvedBy { subject } createdBy { subject } } }`
	wantError(t, "self-approval", s.Do(t, cityA, approve, map[string]any{"id": keyID}), "FORBIDDEN")
	wantError(t, "the county approves (not the parent region)", s.Do(t, county, approve, map[string]any{"id": keyID}), "FORBIDDEN")
	pending := s.Do(t, cityB, `query { apiKeys(pendingOnly: true) { id kind region institutionName pending } }`, nil).MustData(t)["apiKeys"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["kind"] != "MEDICAL_CLIENT" || pending[0].(map[string]any)["region"] != "610113" {
		t.Fatalf("pending keys: %v", pending)
	}
	got := s.Do(t, cityB, approve, map[string]any{"id": keyID}).MustData(t)["approveApiKey"].(map[string]any)
	if got["pending"] != false || got["approvedBy"] == nil {
		t.Fatalf("approval: %v", got)
	}
	wantError(t, "second approval", s.Do(t, cityB, approve, map[string]any{"id": keyID}), "CONFLICT")

	// In force, for the two media types it reads only.
	if status, out := s.post(t, "/exchange/v1/medical-events", key, "text/csv", []byte("LIS-0")); status != http.StatusUnsupportedMediaType ||
		out["errors"].([]any)[0].(map[string]any)["message"] != "Content-Type 应为 application/json 或 application/x-ndjson" {
		t.Fatalf("csv: %d %v", status, out)
	}
	// In force: a confirmed case is red at once, the institution named.
	status, out := s.postEvents(t, key, event("LIS-1", doc, "CONFIRMED"), event("LIS-2", docElsewhere, "CONFIRMED"),
		event("LIS-3", idNumber("61011319800101729"), "CONFIRMED"), event("LIS-1", doc, "CONFIRMED"))
	if status != http.StatusOK {
		t.Fatalf("events: %d %v", status, out)
	}
	recs := out["records"].([]any)
	want := []string{"ACCEPTED", "REJECTED:OUTSIDE_JURISDICTION", "REJECTED:OUTSIDE_JURISDICTION", "REJECTED:DUPLICATE_IN_BATCH"}
	for i, w := range want {
		r := recs[i].(map[string]any)
		g := r["status"].(string)
		if r["reason"] != nil {
			g += ":" + r["reason"].(string)
		}
		if g != w {
			t.Fatalf("record %d: %v, want %s", i+1, r, w)
		}
	}
	if recs[0].(map[string]any)["colour"] != "RED" {
		t.Fatalf("accepted event: %v", recs[0])
	}
	if c := s.colourOf(t, county, pid); c != "RED" {
		t.Fatalf("colour after the machine client's event: %s", c)
	}
	facts := s.Do(t, county, `query($p: ID!) { personFacts(personId: $p) { kind summary enteredBy { subject institution roles } } }`,
		map[string]any{"p": pid}).MustData(t)["personFacts"].([]any)
	named := false
	for _, f := range facts {
		f := f.(map[string]any)
		if f["kind"] == "MEDICAL" && f["enteredBy"] != nil {
			by := f["enteredBy"].(map[string]any)
			named = by["institution"] == "西安市雁塔区人民医院" && by["subject"] == "apikey:"+keyID.(string)
		}
	}
	if !named {
		t.Fatalf("medical fact without the institution: %v", facts)
	}
	var audited int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE actor = $1 AND action = 'fact.record'
		AND role = 'MEDICAL_CLIENT' AND reason LIKE 'medical-client:%'`, "apikey:"+keyID.(string)).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("audit of the machine client's event: %d %v", audited, err)
	}
	// The same record again is a duplicate; the same id with other content is refused.
	_, out = s.postEvents(t, key, event("LIS-1", doc, "CONFIRMED"), event("LIS-1x", doc, "CONFIRMED"))
	if r := out["records"].([]any)[0].(map[string]any); r["status"] != "DUPLICATE" || r["colour"] != "RED" {
		t.Fatalf("duplicate: %v", r)
	}
	reused := event("LIS-1", doc, "SUSPECTED")
	_, out = s.postEvents(t, key, reused)
	if r := out["records"].([]any)[0].(map[string]any); r["reason"] != "RECORD_ID_REUSED" {
		t.Fatalf("reused id: %v", r)
	}
	// A city sub-system's key is no machine client.
	sub := s.Do(t, cityA, `mutation { createApiKey(city: "6101", name: "西安子系统") { key } }`, nil).MustData(t)["createApiKey"].(map[string]any)["key"].(string)
	if status, _ := s.postEvents(t, sub, event("LIS-9", doc, "DISCHARGED")); status != http.StatusForbidden {
		t.Fatalf("sub-system key on the machine client endpoint: %d", status)
	}
	// A suspended institution's key is refused.
	s.Do(t, county, `mutation($i: ID!) { suspendInstitution(id: $i, reason: "停业整顿") { status } }`, map[string]any{"i": inst}).MustData(t)
	if status, out := s.postEvents(t, key, event("LIS-4", doc, "DISCHARGED")); status != http.StatusForbidden {
		t.Fatalf("suspended institution: %d %v", status, out)
	}
	// Revoked: refused at once.
	s.Do(t, county, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt revokedBy { subject } } }`, map[string]any{"id": keyID}).MustData(t)
	if status, _ := s.postEvents(t, key, event("LIS-5", doc, "DISCHARGED")); status != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d", status)
	}
	// A venue is no medical institution.
	venue, _ := s.checkpoint(t, "雁塔商场", "610113")
	var venueInst string
	if err := s.Pool.QueryRow(context.Background(), "SELECT institution_id::text FROM venues WHERE id = $1", venue).Scan(&venueInst); err != nil {
		t.Fatal(err)
	}
	wantError(t, "key for a venue", s.Do(t, cityA, create, map[string]any{"i": venueInst, "n": "商场"}), "CONFLICT")
}
