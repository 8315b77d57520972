package graph_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/graph/apitest"
)

// During a database outage the API answers with the retryable UNAVAILABLE
// code, HTTP 503 and Retry-After — both from a resolver (an anonymous login)
// and from the authentication of a bearer token — never INTERNAL.
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, token := b.CreateStaff(t, "outage_admin", "610113", apitest.G("ADMIN@610113"))

	// The database goes away: nothing listens on the pool's address.
	cfg := b.Pool.Config().Copy()
	cfg.ConnConfig.Port = 1
	dead, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	live := b.DB.Pool
	b.DB.Pool = dead
	defer func() { b.DB.Pool = live }()

	for name, req := range map[string]struct{ token, query string }{
		"resolver":       {"", `mutation { login(username: "outage_admin", password: "x") { token } }`},
		"authentication": {token, `{ me { id } }`},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(`{"query": `+quote(req.query)+`}`)))
		r.Header.Set("Content-Type", "application/json")
		if req.token != "" {
			r.Header.Set("Authorization", "Bearer "+req.token)
		}
		w := httptest.NewRecorder()
		b.Handler.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" {
			t.Errorf("%s: status %d, Retry-After %q, want 503 and 2: %s", name, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		if !bytes.Contains(w.Body.Bytes(), []byte(`"code":"`+healthcode.EUNAVAILABLE+`"`)) {
			t.Errorf("%s: body %s, want code UNAVAILABLE", name, w.Body)
		}
	}
}

func quote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		if r == '"' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '"'))
}
