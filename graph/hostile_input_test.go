package graph_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode/graph/apitest"
)

// The bad inputs of issue 12 §5, each of which answered INTERNAL (or an
// uncoded HTTP 400): every one gets a coded error now, and nothing is stored.
func TestHostileInputsAreCoded(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138611")
	s.declare(resident, declaration("恶意输入", idNumber("61011319900101061"), "13800138611", home, nil))
	venue, inspector := s.checkpoint(t, "恶意输入商场", "610113")
	credential := s.credentialOf(t, resident)
	_, operator := s.CreateStaff(t, "hostile-operator", "61", apitest.G("OPERATOR@61"))
	_, admin := s.CreateStaff(t, "hostile-admin", "61", apitest.G("ADMIN@61"))
	at := s.Clock.Now().Add(-time.Minute)

	cases := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"scan with NaN temperature", inspector, recordScans,
			map[string]any{"s": []any{withTemp(scanOf("00000000-0000-4000-8000-000000000611", credential, venue, at, 36.5), "NaN")}}, "INVALID"},
		{"scan with infinite temperature", inspector, recordScans,
			map[string]any{"s": []any{withTemp(scanOf("00000000-0000-4000-8000-000000000612", credential, venue, at, 36.5), "+Inf")}}, "INVALID"},
		{"check-in with NaN", resident, `mutation($t: Float!) { checkIn(temperature: $t) { colour } }`,
			map[string]any{"t": "NaN"}, "INVALID"},
		{"declaration with NaN", resident, declareMutation,
			map[string]any{"in": withTemp(declaration("恶意输入", idNumber("61011319900101061"), "13800138611", home, nil)["in"].(map[string]any), "NaN")}, "INVALID"},
		{"NUL in a ticket subject", operator, `mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"kind": "CONSULTATION", "subject": "a\x00b", "description": "x", "place": "610113"}}, "INVALID"},
		{"NUL in a knowledge query", operator, `query($q: String) { knowledge(query: $q) { question } }`,
			map[string]any{"q": "核酸\x00"}, "INVALID"},
		{"NUL in a name", resident, declareMutation,
			declaration("恶意\x00输入", idNumber("61011319900101061"), "13800138611", home, nil), "INVALID"},
		{"malformed time", admin, `query($at: Time) { weeklyReports(at: $at) { regionCode } }`,
			map[string]any{"at": "not-a-time"}, "INVALID"},
		{"malformed time literal", admin, `query { weeklyReports(at: "not-a-time") { regionCode } }`, nil, "INVALID"},
	}
	for _, c := range cases {
		r := s.Do(t, c.token, c.query, c.vars)
		if r.Status >= 500 || r.Code() != c.want {
			t.Errorf("%s: status %d code %q (%+v), want %s", c.name, r.Status, r.Code(), r.Errors, c.want)
		}
	}
	// Introspection outside dev mode.
	prod := apitest.Setup(t, apitest.Options{})
	_, prodAdmin := prod.CreateStaff(t, "prod-admin", "61", apitest.G("ADMIN@61"))
	for _, q := range []string{`query { __schema { types { name } } }`, `query { __type(name: "Query") { name } }`,
		`query { me { name } __schema { queryType { name } } }`} {
		for _, tok := range []string{"", prodAdmin} {
			if r := prod.Do(t, tok, q, nil); r.Status >= 500 || r.Code() != "FORBIDDEN" {
				t.Errorf("introspection %q: status %d code %q (%+v)", q, r.Status, r.Code(), r.Errors)
			}
		}
	}
	var n int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM scans`).Scan(&n); err != nil || n != 0 {
		t.Errorf("scans stored from bad input: %d, %v", n, err)
	}

	// A wrong Content-Type: HTTP 400 (or 415) with a coded JSON error.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "", "multipart/form-data; boundary=x"} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(`{"query":"{ me { name } }"}`)))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), `"code":"INVALID"`) {
			t.Errorf("Content-Type %q: %d %s", ct, rec.Code, rec.Body.String())
		}
	}
}

func withTemp(m map[string]any, temp any) map[string]any {
	m["temperature"] = temp
	return m
}
