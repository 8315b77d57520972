package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthcode"
	"healthcode/graph"
	"healthcode/graph/apitest"
	"healthcode/graph/generated"
	"healthcode/server"
)

// Every root field the class table names exists in the schema: a renamed
// field would otherwise fall back to normal without notice.
func TestOperationClassesNameSchemaFields(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for name := range graph.OperationClasses {
		typ, field, _ := strings.Cut(name, ".")
		def := schema.Types[typ]
		if def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("OperationClasses names %s, which is not a root field of the schema", name)
		}
	}
	for _, f := range []string{"Query.myCode", "Query.myCredential", "Query.verifyCode", "Mutation.recordScans", "Mutation.checkIn"} {
		if graph.OperationClasses[f] != healthcode.ClassEssential {
			t.Errorf("%s is %q, want essential", f, graph.OperationClasses[f])
		}
	}
}

// An operation takes the class of its least important root field, through
// fragments too; what the table does not name, or does not parse, is normal.
func TestOperationClass(t *testing.T) {
	for _, c := range []struct {
		query, op string
		want      healthcode.WorkClass
	}{
		{`{ myCode { colour } }`, "", healthcode.ClassEssential},
		{`query Page { myCode { colour } myCredential { token } }`, "", healthcode.ClassEssential},
		{`mutation { recordScans(input: []) { accepted } }`, "", healthcode.ClassEssential},
		{`mutation { login(username: "a", password: "b") { token } }`, "", healthcode.ClassLogin},
		{`query { myCode { colour } rankings(week: "2026-11-16", level: CITY) { rank } }`, "", healthcode.ClassNonEssential},
		{`query { myCode { colour } ...R } fragment R on Query { auditLog { totalCount } }`, "", healthcode.ClassNonEssential},
		{`query { ... on Query { codeHistory { id } } }`, "", healthcode.ClassNonEssential},
		{`query A { rankings(week: "x", level: CITY) { rank } } query B { myCode { colour } }`, "B", healthcode.ClassEssential},
		{`query A { rankings(week: "x", level: CITY) { rank } } query B { myCode { colour } }`, "A", healthcode.ClassNonEssential},
		{`query A { myCode { colour } } query B { myCode { colour } }`, "", healthcode.ClassNormal},
		{`{ tickets(first: 10) { totalCount } }`, "", healthcode.ClassNormal},
		{`{ __typename }`, "", healthcode.ClassNormal},
		{`{ myCode { `, "", healthcode.ClassNormal},
		// An essential-looking alias does not change the field.
		{`{ myCode: rankings(week: "x", level: CITY) { rank } }`, "", healthcode.ClassNonEssential},
	} {
		if got := graph.OperationClass(c.query, c.op); got != c.want {
			t.Errorf("OperationClass(%q, %q) = %s, want %s", c.query, c.op, got, c.want)
		}
	}
}

// Above saturation, through the whole stack: with the slots that
// non-essential work may take held by a slow ranking, the next ranking is
// refused with OVERLOADED (503, Retry-After, a Chinese message) at once,
// while the resident's code page is answered with its colour.
func TestOverloadShedsRankingsBeforeTheCodePage(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	b := apitest.Setup(t, apitest.Options{Dev: true,
		// Limit 2: non-essential work may take 1 slot, essential work 2.
		Admission: &server.AdmissionConfig{Limit: 2},
		WrapGraphQL: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Test-Hold") != "" {
					held <- struct{}{}
					<-release
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	s := &scenario{Bundle: b, t: t}
	b.Clock.Set(start)
	_, supervisor := b.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	_, resident := b.CreateResident(t, "13800138001")
	s.declare(resident, declaration("张三", idNumber("61011319900307123"), "13800138001", s.community("610113"), nil))

	const rankings = `query { rankings(week: "2026-11-16", level: CITY) { rank } }`
	done := make(chan int)
	go func() {
		req := httpPost(t, supervisor, rankings)
		req.Header.Set("X-Test-Hold", "1")
		rec := serve(b, req)
		done <- rec.Code
	}()
	<-held // a ranking is being computed, slowly

	rec := serve(b, httpPost(t, supervisor, rankings))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("a second ranking: %d (Retry-After %q), want 503 with Retry-After: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	got := decode(t, rec)
	if got.Code() != healthcode.EOVERLOADED || got.Errors[0].Message != healthcode.ErrOverloaded.Message {
		t.Fatalf("a second ranking: %+v, want OVERLOADED with the Chinese message", got.Errors)
	}

	code := b.Do(t, resident, `query { myCode { colour } myCredential { token } }`, nil)
	if code.Status != http.StatusOK || code.Code() != "" || code.Data["myCode"].(map[string]any)["colour"] != "GREEN" {
		t.Fatalf("the code page while rankings are shed: %d %+v %v", code.Status, code.Errors, code.Data)
	}
	close(release)
	if status := <-done; status != http.StatusOK {
		t.Errorf("the held ranking answered %d", status)
	}
	if r := b.Do(t, supervisor, rankings, nil); r.Code() == healthcode.EOVERLOADED {
		t.Error("a ranking refused once the replica is idle")
	}
}

func httpPost(t *testing.T, token, query string) *http.Request {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func serve(b *apitest.Bundle, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) *apitest.Response {
	t.Helper()
	out := &apitest.Response{Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return out
}

// A request's class comes from its body each time, remembered or not, and
// the handler still reads the whole body; a persisted query's hash learns
// its class from the request that carried the text, however often that
// request repeats.
func TestRequestClassByBody(t *testing.T) {
	t.Parallel()
	class := func(body string) (healthcode.WorkClass, string) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		c := graph.RequestClass(r)
		rest, _ := io.ReadAll(r.Body)
		return c, string(rest)
	}
	rankings := `{"query":"query R { rankings(week: \"2026-11-16\", level: CITY) { rank } }","operationName":"R","variables":{}}`
	code := `{"query":"query C { myCode { colour } }","operationName":"C","variables":{}}`
	for range 3 {
		for body, want := range map[string]healthcode.WorkClass{rankings: healthcode.ClassNonEssential, code: healthcode.ClassEssential} {
			if c, rest := class(body); c != want || rest != body {
				t.Fatalf("%s: %s (body %q), want %s", body, c, rest, want)
			}
		}
	}
	q := `query H { myCode { colour updatedAt } }`
	hash := fmt.Sprintf("%x", sha256.Sum256([]byte(q)))
	withText := fmt.Sprintf(`{"query":%q,"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}}`, q, hash)
	hashOnly := fmt.Sprintf(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}}`, hash)
	if c, _ := class(hashOnly); c != healthcode.ClassNormal {
		t.Fatalf("an unknown hash: %s, want NORMAL", c)
	}
	for range 2 {
		if c, _ := class(withText); c != healthcode.ClassEssential {
			t.Fatalf("the text with its hash: %s", c)
		}
	}
	if c, _ := class(hashOnly); c != healthcode.ClassEssential {
		t.Fatalf("the hash after its text: %s, want ESSENTIAL", c)
	}
}
