package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthcode"
)

// The API server's requests take the class of what they do: GraphQL by its
// operation, the scan upload essential, report downloads non-essential, the
// sub-system push normal; static files and key sets bypass admission.
func TestRequestClass(t *testing.T) {
	post := func(path, body string) *http.Request {
		return httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	}
	for _, c := range []struct {
		r    *http.Request
		want healthcode.WorkClass
	}{
		{post("/graphql", `{"query":"{ myCode { colour } myCredential { token } }"}`), healthcode.ClassEssential},
		{post("/graphql", `{"query":"{ rankings(week: \"2026-11-16\", level: CITY) { rank } }"}`), healthcode.ClassNonEssential},
		{post("/graphql", `{"query":"mutation { login(username: \"a\", password: \"b\") { token } }"}`), healthcode.ClassLogin},
		{post("/graphql", `{"query":"{ tickets(first: 5) { totalCount } }"}`), healthcode.ClassNormal},
		{httptest.NewRequest(http.MethodGet, "/graphql?query={myCode{colour}}", nil), healthcode.ClassEssential},
		{post("/api/scans", `{}`), healthcode.ClassEssential},
		{httptest.NewRequest(http.MethodGet, "/reports/rankings/1.xlsx", nil), healthcode.ClassNonEssential},
		{post("/exchange/v1/records", `{}`), healthcode.ClassNormal},
		{httptest.NewRequest(http.MethodGet, "/.well-known/healthcode/keys.json", nil), ""},
		{httptest.NewRequest(http.MethodGet, "/scan/", nil), ""},
	} {
		if got := requestClass(c.r); got != c.want {
			t.Errorf("%s %s: class %q, want %q", c.r.Method, c.r.URL, got, c.want)
		}
	}
	// The body is still there for the handler.
	r := post("/graphql", `{"query":"{ me { id } }"}`)
	requestClass(r)
	var b strings.Builder
	buf := make([]byte, 64)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if b.String() != `{"query":"{ me { id } }"}` {
		t.Errorf("the body after classifying: %q", b.String())
	}
}
