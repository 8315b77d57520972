package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcode/graph/generated"
)

// The POST transport answers exactly as gqlgen's: the same status, content
// type and bytes, for answers of data alone, query errors, protocol errors
// and bodies that are not JSON, under each Accept header a client sends.
func TestPostTransportWritesAsGqlgen(t *testing.T) {
	t.Parallel()
	server := func(tr graphql.Transport) http.Handler {
		srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
		srv.AddTransport(tr)
		return srv
	}
	ours, theirs := server(postTransport{}), server(transport.POST{})
	bodies := []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"B","variables":{}}`,
		`{"query":"query A { __typename } query B { __typename }"}`,
		`{"query":"{ nope }"}`,
		`{"query":"{"}`,
		`{"query":"query($x: Int!) { __typename }","variables":{"x":"<a&b>"}}`,
		`{"query":`,
		`not json <&>`,
	}
	accepts := []string{"", "*/*", "application/json",
		"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed",
		"application/graphql-response+json", "text/html"}
	for _, body := range bodies {
		for _, accept := range accepts {
			do := func(h http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			a, b := do(ours), do(theirs)
			if a.Code != b.Code || a.Header().Get("Content-Type") != b.Header().Get("Content-Type") || a.Body.String() != b.Body.String() {
				t.Errorf("%s (Accept %q):\nours   %d %s %s\ngqlgen %d %s %s", body, accept,
					a.Code, a.Header().Get("Content-Type"), a.Body, b.Code, b.Header().Get("Content-Type"), b.Body)
			}
		}
	}
}

// A response of data alone is written as json.Marshal writes it: HTML
// characters and the JavaScript line separators escaped; other responses
// go through json.Marshal.
func TestWriteResponseAsMarshal(t *testing.T) {
	t.Parallel()
	yes := true
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage("{\"myCode\":{\"colour\":\"GREEN\",\"reason\":\"<b>体温 &gt; 37.3℃</b>\u2028\u2029\\\"\",\"n\":[1,2.5,null,true]}}")},
		{Data: json.RawMessage(`null`)},
		{Data: json.RawMessage(`{"a":"<"}`), Errors: gqlerror.List{}, Extensions: map[string]any{}},
		{},
		{Data: json.RawMessage(`{"a":1}`), Errors: gqlerror.List{{Message: "x <y>"}}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"k": "<v>"}},
		{Data: json.RawMessage(`{"a":1}`), HasNext: &yes, Label: "l"},
	} {
		var got strings.Builder
		writeResponse(&got, resp)
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("writeResponse:\n got %s\nwant %s", got.String(), want)
		}
	}
}

// The answers gqlgen gives to a query (with its empty extensions map) take
// the short way.
func TestGqlgenAnswersAreDataOnly(t *testing.T) {
	t.Parallel()
	var seen []*graphql.Response
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
	srv.AddTransport(postTransport{})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		r := next(ctx)
		seen = append(seen, r)
		return r
	})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	if len(seen) != 1 || !dataOnly(seen[0]) {
		t.Fatalf("gqlgen's answer to { __typename } is not data alone: %+v", seen)
	}
}
