package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthcode/demo"
	"healthcode/graph/apitest"
)

const citiesQuery = `query { regions(first: 20) { nodes { code name level } pageInfo { hasNextPage } } }`

func login(t *testing.T, b *apitest.Bundle, username, password string) string {
	t.Helper()
	resp := b.Do(t, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token me { name grants { role regionCode } } } }`,
		map[string]any{"u": username, "p": password})
	data := resp.MustData(t)
	return data["login"].(map[string]any)["token"].(string)
}

// A new user's first steps: log in as the demo province admin and list the
// ten cities of Shaanxi.
func TestAdminListsTenCities(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{Dev: true})
	if err := demo.SeedAccounts(context.Background(), b.DB); err != nil {
		t.Fatal(err)
	}
	if err := b.Enforcer.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	token := login(t, b, "admin", demo.Password)
	data := b.Do(t, token, citiesQuery, nil).MustData(t)
	nodes := data["regions"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 10 {
		t.Fatalf("got %d cities, want 10: %v", len(nodes), nodes)
	}
	first := nodes[0].(map[string]any)
	if first["code"] != "6101" || first["name"] != "西安市" || first["level"] != "CITY" {
		t.Fatalf("first city = %v, want 6101 西安市 CITY", first)
	}

	// The Yanta admin sees Yanta's streets but not the province's cities.
	yanta := login(t, b, "yanta_admin", demo.Password)
	if r := b.Do(t, yanta, citiesQuery, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("yanta admin listing cities: code %q, want FORBIDDEN", r.Code())
	}
	data = b.Do(t, yanta, `query { regions(parent: "610113", first: 100) { nodes { code } } }`, nil).MustData(t)
	for _, n := range data["regions"].(map[string]any)["nodes"].([]any) {
		if code := n.(map[string]any)["code"].(string); !strings.HasPrefix(code, "610113") {
			t.Fatalf("yanta admin got region %s outside 610113", code)
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, token := b.CreateStaff(t, "prov", "61", apitest.G("ADMIN@61"))
	var codes []string
	after := ""
	for page := 0; page < 10; page++ {
		vars := map[string]any{"after": after}
		if after == "" {
			vars["after"] = nil
		}
		data := b.Do(t, token, `query($after: String) { regions(first: 3, after: $after) { edges { cursor node { code } } pageInfo { hasNextPage endCursor } } }`, vars).MustData(t)
		conn := data["regions"].(map[string]any)
		for _, e := range conn["edges"].([]any) {
			codes = append(codes, e.(map[string]any)["node"].(map[string]any)["code"].(string))
		}
		pi := conn["pageInfo"].(map[string]any)
		if !pi["hasNextPage"].(bool) {
			break
		}
		after = pi["endCursor"].(string)
	}
	if len(codes) != 10 || codes[0] != "6101" || codes[9] != "6110" {
		t.Fatalf("paged codes = %v", codes)
	}
	if r := b.Do(t, token, `query { regions(first: 1000) { nodes { code } } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("first: 1000 → code %q, want INVALID", r.Code())
	}
	if r := b.Do(t, token, `query { regions(first: 5, after: "bm90LWEtY3Vyc29y") { nodes { code } } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("forged cursor → code %q, want INVALID", r.Code())
	}
}

// A revoked grant is refused on the very next request.
func TestRevokedGrantRefusedNextRequest(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, admin := b.CreateStaff(t, "prov", "61", apitest.G("ADMIN@61"))
	yantaID, yanta := b.CreateStaff(t, "yanta", "610113", apitest.G("ADMIN@610113"))
	q := `query { regions(parent: "610113", first: 5) { nodes { code } } }`
	b.Do(t, yanta, q, nil).MustData(t)

	var grantID string
	data := b.Do(t, admin, `query { staff(first: 100) { nodes { id username grants { id role regionCode } } } }`, nil).MustData(t)
	for _, n := range data["staff"].(map[string]any)["nodes"].([]any) {
		n := n.(map[string]any)
		if n["username"] == "yanta" {
			grantID = n["grants"].([]any)[0].(map[string]any)["id"].(string)
		}
	}
	if grantID == "" {
		t.Fatalf("grant of staff %d not listed", yantaID)
	}
	b.Do(t, admin, `mutation($id: ID!) { revokeRole(grantId: $id) }`, map[string]any{"id": grantID}).MustData(t)
	if r := b.Do(t, yanta, q, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("after revocation: code %q, want FORBIDDEN", r.Code())
	}
}

func TestJurisdictionOfMutations(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, yanta := b.CreateStaff(t, "yanta", "610113", apitest.G("ADMIN@610113"))
	// A compound in a Yanta community: allowed; in Beilin: refused.
	var yantaCommunity, beilinCommunity string
	ctx := context.Background()
	b.Pool.QueryRow(ctx, `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610113%'`).Scan(&yantaCommunity)
	b.Pool.QueryRow(ctx, `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610103%'`).Scan(&beilinCommunity)
	m := `mutation($c: String!, $n: String!) { createCompound(community: $c, name: $n) { code name level parentCode } }`
	data := b.Do(t, yanta, m, map[string]any{"c": yantaCommunity, "n": "曲江一号小区"}).MustData(t)
	cc := data["createCompound"].(map[string]any)
	if cc["code"] != yantaCommunity+"001" || cc["level"] != "COMPOUND" {
		t.Fatalf("compound = %v", cc)
	}
	if r := b.Do(t, yanta, m, map[string]any{"c": yantaCommunity, "n": "曲江一号小区"}); r.Code() != "CONFLICT" {
		t.Fatalf("duplicate compound name: code %q, want CONFLICT", r.Code())
	}
	if r := b.Do(t, yanta, m, map[string]any{"c": beilinCommunity, "n": "某小区"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("compound in Beilin: code %q, want FORBIDDEN", r.Code())
	}
	cs := `mutation($r: String!) { createStaff(input: {username: "newbie", displayName: "新人", password: "abcdef123456", region: $r}) { id region { code } } }`
	if r := b.Do(t, yanta, cs, map[string]any{"r": "610103"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("staff in Beilin: code %q, want FORBIDDEN", r.Code())
	}
	data = b.Do(t, yanta, cs, map[string]any{"r": "610113"}).MustData(t)
	newID := data["createStaff"].(map[string]any)["id"].(string)
	g := `mutation($id: ID!, $r: String!) { grantRole(staffId: $id, role: HANDLER, region: $r) { id role roleLabel region { name } } }`
	if r := b.Do(t, yanta, g, map[string]any{"id": newID, "r": "6101"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("grant at 6101 by yanta admin: code %q, want FORBIDDEN", r.Code())
	}
	data = b.Do(t, yanta, g, map[string]any{"id": newID, "r": "610113"}).MustData(t)
	if data["grantRole"].(map[string]any)["roleLabel"] != "承办人员" {
		t.Fatalf("grant = %v", data["grantRole"])
	}
	// Every change is in the audit log, visible to an auditor.
	_, auditor := b.CreateStaff(t, "aud", "61", apitest.G("AUDITOR@61"))
	data = b.Do(t, auditor, `query { auditLog(first: 10) { nodes { action actor role regionCode hash prevHash } } }`, nil).MustData(t)
	actions := map[string]bool{}
	for _, n := range data["auditLog"].(map[string]any)["nodes"].([]any) {
		actions[n.(map[string]any)["action"].(string)] = true
	}
	for _, want := range []string{"region.create_compound", "staff.create", "grant.create"} {
		if !actions[want] {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
	if r := b.Do(t, yanta, `query { auditLog(first: 10) { nodes { id } } }`, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("admin reading audit log: code %q, want FORBIDDEN", r.Code())
	}
}

// Bad input gets a clear coded error, never a 500 or an internal message.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{DepthLimit: 4})
	_, token := b.CreateStaff(t, "prov", "61", apitest.G("ADMIN@61"))

	// Many aliased lists: each costs its page size.
	var tooComplex strings.Builder
	tooComplex.WriteString("query {")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&tooComplex, " r%d: regions(first: 100) { nodes { code name level parentCode } }", i)
	}
	tooComplex.WriteString(" }")

	cases := []struct{ name, query, wantCode string }{
		{"malformed", "query { regions(", "GRAPHQL_PARSE_FAILED"},
		{"unknown field", "query { nope }", "GRAPHQL_VALIDATION_FAILED"},
		{"unknown region", `query { region(code: "619999") { name } }`, "NOT_FOUND"},
		{"malformed region", `query { region(code: "abc") { name } }`, "INVALID"},
		{"sql-looking region", `query { region(code: "61'; DROP TABLE regions; --") { name } }`, "INVALID"},
		{"sql-looking community", `mutation { createCompound(community: "610113001001' OR 1=1 --", name: "x") { code } }`, "INVALID"},
		{"bad id", `mutation { revokeRole(grantId: "1 OR 1=1") }`, "INVALID"},
		{"too deep", "query { me { staff { grants { region { code } } } } }", "INVALID"},
		{"too complex", tooComplex.String(), "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, c := range cases {
		r := b.Do(t, token, c.query, nil)
		if r.Status >= 500 {
			t.Errorf("%s: status %d", c.name, r.Status)
		}
		if r.Code() != c.wantCode {
			t.Errorf("%s: code %q (%+v), want %q", c.name, r.Code(), r.Errors, c.wantCode)
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "SQLSTATE") || strings.Contains(e.Message, "pgx") {
				t.Errorf("%s: internal text leaked: %s", c.name, e.Message)
			}
		}
	}
	var n int
	if err := b.Pool.QueryRow(context.Background(), "SELECT count(*) FROM regions").Scan(&n); err != nil || n != 21809 {
		t.Fatalf("regions after bad input: %d, %v", n, err)
	}

	// Oversized body.
	big := bytes.Repeat([]byte("a"), 2<<20)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"INVALID"`) {
		t.Fatalf("oversized body: %d %s", rec.Code, rec.Body.String())
	}

	// Forged, malformed and expired tokens.
	for _, tok := range []string{"hcs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "garbage", "hcr_' OR 1=1 --"} {
		if r := b.Do(t, tok, "query { me { name } }", nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
			t.Errorf("token %q: status %d code %q", tok, r.Status, r.Code())
		}
	}
	if _, err := b.Pool.Exec(context.Background(), "UPDATE sessions SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	if r := b.Do(t, token, "query { me { name } }", nil); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("expired token: code %q", r.Code())
	}
	// Anonymous callers get UNAUTHENTICATED from the services.
	if r := b.Do(t, "", citiesQuery, nil); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous: code %q", r.Code())
	}
}

func TestDevFieldsAbsentOutsideDev(t *testing.T) {
	t.Parallel()
	prod := apitest.Setup(t, apitest.Options{})
	r := prod.Do(t, "", `query { devMessages(phone: "13800138000") { body } }`, nil)
	if r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("devMessages outside dev: code %q, want GRAPHQL_VALIDATION_FAILED", r.Code())
	}
	if r := prod.Do(t, "", `query { __schema { types { name } } }`, nil); r.Code() == "" {
		t.Fatalf("introspection allowed outside dev")
	}
	dev := apitest.Setup(t, apitest.Options{Dev: true})
	if r := dev.Do(t, "", `query { devMessages(phone: "13800138000") { body } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("devMessages in dev: %+v", r.Errors)
	}
}
