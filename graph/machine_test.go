package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
