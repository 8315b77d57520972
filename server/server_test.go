package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"healthcode"
	"healthcode/credential"
)

// fakeAuth accepts "good-token" as staff 42 and fails "broken-token" with an
// internal error; anything else is UNAUTHENTICATED.
type fakeAuth struct{}

func (fakeAuth) Authenticate(_ context.Context, token string) (*healthcode.Actor, error) {
	switch token {
	case "good-token":
		return &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 42, Name: "admin"}, nil
	case "broken-token":
		return nil, errors.New("query sessions: connection refused")
	}
	return nil, healthcode.Errorf(healthcode.EUNAUTHENTICATED, "令牌无效")
}

// seen is what the fake GraphQL handler observed in its request context.
type seen struct {
	Actor *healthcode.Actor
	Info  healthcode.RequestInfo
	Body  []byte
}

// bundle is a server with fakes and a log buffer.
type bundle struct {
	srv  *Server
	logs *syncBuffer

	mu   sync.Mutex
	last *seen
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func setup(t *testing.T, edit func(*Config)) *bundle {
	t.Helper()
	b := &bundle{logs: &syncBuffer{}}
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("panic") != "" {
			panic("secret internal detail: password=hunter2")
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.last = &seen{
			Actor: healthcode.ActorFromContext(r.Context()),
			Info:  healthcode.RequestInfoFromContext(r.Context()),
			Body:  body,
		}
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{}}`)
	})
	cfg := Config{
		Auth:    fakeAuth{},
		GraphQL: gql,
		Logger:  slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	b.srv = New(cfg)
	return b
}

func (b *bundle) seen() *seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

func (b *bundle) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	b.srv.Handler().ServeHTTP(w, r)
	return w
}

func gqlPost(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// checkCodedError asserts a GraphQL-style error response.
func checkCodedError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode %q: %v", w.Body, err)
	}
	if len(body.Errors) != 1 || body.Errors[0].Extensions.Code != code || body.Errors[0].Message != msg {
		t.Fatalf("body = %s, want code %s message %s", w.Body, code, msg)
	}
}

func TestAuthValidToken(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost(`{"query":"{me{id}}"}`)
	r.Header.Set("Authorization", "Bearer good-token")
	w := b.do(r)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	s := b.seen()
	if s == nil || s.Actor == nil || s.Actor.ID != 42 || s.Actor.Kind != healthcode.ActorStaff {
		t.Fatalf("actor in context = %+v, want staff 42", s)
	}
	if string(s.Body) != `{"query":"{me{id}}"}` {
		t.Errorf("body = %q", s.Body)
	}
	if strings.Contains(b.logs.String(), "good-token") {
		t.Error("token appears in the logs")
	}
}

func TestAuthSchemeCaseInsensitive(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost(`{}`)
	r.Header.Set("Authorization", "bearer good-token")
	if w := b.do(r); w.Code != http.StatusOK || b.seen().Actor == nil {
		t.Fatalf("status = %d, actor %+v", w.Code, b.seen())
	}
}

func TestAuthInvalidToken(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"Bearer expired", "Bearer ", "Basic dXNlcjpwYXNz", "good-token"} {
		b := setup(t, nil)
		r := gqlPost(`{}`)
		r.Header.Set("Authorization", header)
		w := b.do(r)
		checkCodedError(t, w, http.StatusUnauthorized, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")
		if w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%q: no WWW-Authenticate header", header)
		}
		if b.seen() != nil {
			t.Errorf("%q: GraphQL handler was called", header)
		}
	}
}

func TestAuthInternalError(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost(`{}`)
	r.Header.Set("Authorization", "Bearer broken-token")
	w := b.do(r)
	checkCodedError(t, w, http.StatusInternalServerError, healthcode.EINTERNAL, "服务内部错误，请稍后重试")
	if strings.Contains(w.Body.String(), "connection refused") {
		t.Error("internal error text leaked to the client")
	}
	if !strings.Contains(b.logs.String(), "connection refused") {
		t.Error("internal error not logged")
	}
}

func TestAuthAnonymous(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	w := b.do(gqlPost(`{}`))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	if s := b.seen(); s == nil || s.Actor != nil {
		t.Fatalf("seen = %+v, want an anonymous request", s)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxBodyBytes = 16 })

	w := b.do(gqlPost(strings.Repeat("x", 17)))
	checkCodedError(t, w, http.StatusRequestEntityTooLarge, healthcode.EINVALID, "请求体过大")
	if b.seen() != nil {
		t.Error("GraphQL handler was called")
	}

	// A chunked body (no Content-Length) is cut at the limit.
	r := gqlPost("")
	r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", 17)))
	r.ContentLength = -1
	if w := b.do(r); w.Code != http.StatusBadRequest {
		t.Errorf("chunked over limit: status = %d, want 400 from the handler's read error", w.Code)
	}

	if w := b.do(gqlPost(strings.Repeat("x", 16))); w.Code != http.StatusOK {
		t.Errorf("body at limit: status = %d", w.Code)
	}
}

func TestBodyLimitDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost("")
	r.ContentLength = DefaultMaxBodyBytes + 1
	checkCodedError(t, b.do(r), http.StatusRequestEntityTooLarge, healthcode.EINVALID, "请求体过大")
}

func TestPanic(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost(`{}`)
	r.URL.RawQuery = "panic=1"
	r.Header.Set(requestIDHeader, "req-panic-1")
	w := b.do(r)
	checkCodedError(t, w, http.StatusInternalServerError, healthcode.EINTERNAL, "服务内部错误，请稍后重试")
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Error("panic text leaked to the client")
	}
	logs := b.logs.String()
	for _, want := range []string{"hunter2", "req-panic-1", "goroutine", `"status":500`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	mw := httptest.NewRecorder()
	b.srv.MetricsHandler().ServeHTTP(mw, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(mw.Body.String(), `http_requests_total{code="500",method="POST",route="/graphql"} 1`) {
		t.Errorf("panicked request not counted as 500:\n%s", grep(mw.Body.String(), "http_requests_total"))
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	r := gqlPost(`{}`)
	r.Header.Set(requestIDHeader, "abc-123")
	w := b.do(r)
	if got := w.Header().Get(requestIDHeader); got != "abc-123" {
		t.Errorf("echoed id = %q, want abc-123", got)
	}
	if got := b.seen().Info.RequestID; got != "abc-123" {
		t.Errorf("context id = %q, want abc-123", got)
	}

	for _, bad := range []string{"", "has space", "semi;colon", strings.Repeat("a", 65), "<script>"} {
		r := gqlPost(`{}`)
		if bad != "" {
			r.Header.Set(requestIDHeader, bad)
		}
		w := b.do(r)
		got := w.Header().Get(requestIDHeader)
		if got == bad || !validRequestID(got) || len(got) != 32 {
			t.Errorf("id for %q = %q, want a new 32-char id", bad, got)
		}
		if ctxID := b.seen().Info.RequestID; ctxID != got {
			t.Errorf("context id = %q, header id %q", ctxID, got)
		}
	}
	if a, c := b.do(gqlPost(`{}`)).Header().Get(requestIDHeader), b.do(gqlPost(`{}`)).Header().Get(requestIDHeader); a == c {
		t.Errorf("two requests got the same id %q", a)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*Config)
		remote string
		xff    string
		want   string
	}{
		{"peer", nil, "203.0.113.9:5555", "", "203.0.113.9"},
		{"xff ignored by default", nil, "203.0.113.9:5555", "1.2.3.4", "203.0.113.9"},
		{"xff first entry", func(c *Config) { c.TrustForwardedFor = true }, "10.0.0.1:5555", "1.2.3.4, 10.0.0.2", "1.2.3.4"},
		{"xff garbage", func(c *Config) { c.TrustForwardedFor = true }, "10.0.0.1:5555", "nonsense", "10.0.0.1"},
		{"trusted proxy", trust("10.0.0.0/8"), "10.0.0.1:5555", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"},
		{"untrusted peer", trust("10.0.0.0/8"), "198.51.100.1:5555", "1.2.3.4", "198.51.100.1"},
		{"ipv6 peer", nil, "[2001:db8::1]:443", "", "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.edit)
			r := gqlPost(`{}`)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			b.do(r)
			if got := b.seen().Info.ClientAddr; got != tt.want {
				t.Errorf("client addr = %q, want %q", got, tt.want)
			}
		})
	}
}

func trust(prefix string) func(*Config) {
	return func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(prefix)} }
}

func TestAccessLogOmitsSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := gqlPost(`{"query":"mutation{login(password:\"s3cret\")}"}`)
	r.URL.RawQuery = "variables=phone13800138000"
	r.Header.Set("Authorization", "Bearer good-token")
	b.do(r)
	logs := b.logs.String()
	for _, secret := range []string{"s3cret", "good-token", "13800138000"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{`"method":"POST"`, `"path":"/graphql"`, `"status":200`, `"bytes":11`, `"request_id":`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	w := b.do(gqlPost(`{}`))
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("CSP = %q", w.Header().Get("Content-Security-Policy"))
	}
	// Only the scanner's pages may compile WebAssembly (its QR decoder);
	// nothing may eval JavaScript.
	if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "wasm-unsafe-eval") {
		t.Errorf("API CSP allows WebAssembly: %q", csp)
	}
	for path, wasm := range map[string]bool{"/scan/": true, "/scan": true, "/scan/sw.js": true, "/scanner": false, "/console/": false, "/": false} {
		w := b.do(httptest.NewRequest(http.MethodGet, path, nil))
		csp := w.Header().Get("Content-Security-Policy")
		if strings.Contains(csp, "wasm-unsafe-eval") != wasm || strings.Contains(csp, "'unsafe-eval'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP = %q", path, csp)
		}
	}
	// The console shows printed paper codes and pass cards in a frame, which
	// keeps its policy: their one style sheet is allowed by its hash, no
	// other inline style.
	csp := b.do(httptest.NewRequest(http.MethodGet, "/console/", nil)).Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'self' "+credential.PrintStyleSource+";") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("console CSP = %q", csp)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	w := b.do(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != http.StatusOK || w.Body.String() != "ok" {
		t.Fatalf("healthz = %d %q", w.Code, w.Body)
	}
}

func TestReadyzOK(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.ReadyChecks = map[string]func(context.Context) error{
			"postgres": func(context.Context) error { return nil },
			"redis":    func(context.Context) error { return nil },
		}
	})
	w := b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	var got readyResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "ok" || got.Checks["postgres"] != "ok" || got.Checks["redis"] != "ok" {
		t.Errorf("body = %s", w.Body)
	}
}

func TestReadyzFailing(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.ReadyChecks = map[string]func(context.Context) error{
			"postgres": func(context.Context) error { return nil },
			"redis":    func(context.Context) error { return errors.New("dial tcp 10.1.2.3:6379: connection refused") },
		}
	})
	w := b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	var got readyResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "unavailable" || got.Checks["redis"] != "unavailable" || got.Checks["postgres"] != "ok" ||
		!strings.Contains(got.Message, "redis") {
		t.Errorf("body = %s", w.Body)
	}
	if strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Error("internal error text leaked")
	}
	if !strings.Contains(b.logs.String(), "10.1.2.3") {
		t.Error("check error not logged")
	}
}

func TestReadyzTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.ReadyChecks = map[string]func(context.Context) error{
			// Ignores its context: the server must still answer.
			"slow": func(context.Context) error { time.Sleep(ReadyCheckTimeout + time.Second); return nil },
		}
	})
	start := time.Now()
	w := b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"slow":"timeout"`) {
		t.Fatalf("readyz = %d %s", w.Code, w.Body)
	}
	if d := time.Since(start); d > ReadyCheckTimeout+500*time.Millisecond {
		t.Errorf("readyz took %v", d)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.do(gqlPost(`{}`))
	b.do(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	b.do(httptest.NewRequest(http.MethodGet, "/no/such/file-12345.js", nil))
	b.srv.Metrics().ObserveOperation("Me", "query", 3*time.Millisecond)
	b.srv.Metrics().ObserveError(healthcode.EFORBIDDEN)
	b.srv.Metrics().ObserveError("SOMETHING_ELSE")

	// Not on the public listener (issue 12 §5): 404, no metric leaks.
	if w := b.do(httptest.NewRequest(http.MethodGet, "/metrics", nil)); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "go_goroutines") {
		t.Fatalf("public /metrics = %d %.200s", w.Code, w.Body)
	}
	// On the metrics listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.srv.ServeMetrics(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeMetrics: %v", err)
		}
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	body := string(raw)
	for _, want := range []string{
		`http_requests_total{code="200",method="POST",route="/graphql"} 1`,
		`http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`http_requests_total{code="404",method="GET",route="other"} 1`,
		`http_request_duration_seconds_bucket{route="/graphql",le="+Inf"} 1`,
		`graphql_operations_total{operation="Me",type="query"} 1`,
		`graphql_errors_total{code="FORBIDDEN"} 1`,
		`graphql_errors_total{code="OTHER"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "12345") {
		t.Error("a raw path became a label value")
	}
}

func TestRouteLabel(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/graphql":                              "/graphql",
		"/healthz":                              "/healthz",
		"/readyz":                               "/readyz",
		"/metrics":                              "/metrics",
		"/.well-known/healthcode/keys.json":     "/.well-known/*",
		"/":                                     "static",
		"/style.css":                            "static",
		"/x/y/z":                                "static", // a route of the resident pages
		"/graphql/extra":                        "static",
		"/x/y/z.js":                             "other",
		"/404.html":                             "other",
		"/" + strings.Repeat("a", 100) + ".css": "other",
	} {
		if got := routeLabel(path); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestOperationLabelBounded(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for i := range maxOperationNames + 50 {
		m.ObserveOperation("Op"+strings.Repeat("x", i%60)+string(rune('A'+i/60)), "query", time.Millisecond)
	}
	m.ObserveOperation("", "mutation", 0)
	m.ObserveOperation("bad name!", "weird", 0)
	if got := m.operationLabel("NeverSeenBefore"); got != "other" {
		t.Errorf("label after the bound = %q, want other", got)
	}
	if got := m.operationLabel("bad name!"); got != "invalid" {
		t.Errorf("label of invalid name = %q", got)
	}
	var nilM *Metrics
	nilM.ObserveOperation("X", "query", 0) // must not panic
	nilM.ObserveError("INTERNAL")
}

func TestGraphiQL(t *testing.T) {
	t.Parallel()
	playground := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>GraphiQL</html>")
	})
	browser := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		return r
	}

	dev := setup(t, func(c *Config) { c.Playground = playground })
	w := dev.do(browser())
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "GraphiQL") {
		t.Fatalf("dev browser GET = %d %s", w.Code, w.Body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); csp != "" {
		t.Errorf("playground has CSP %q", csp)
	}

	// A GET asking for JSON goes to GraphQL even in dev mode.
	r := httptest.NewRequest(http.MethodGet, "/graphql?query={me{id}}", nil)
	r.Header.Set("Accept", "application/json")
	if w := dev.do(r); !strings.Contains(w.Body.String(), `"data"`) {
		t.Errorf("dev JSON GET = %d %s", w.Code, w.Body)
	}
	if w := dev.do(gqlPost(`{}`)); !strings.Contains(w.Body.String(), `"data"`) {
		t.Errorf("dev POST = %d %s", w.Code, w.Body)
	}

	prod := setup(t, nil)
	w = prod.do(browser())
	if strings.Contains(w.Body.String(), "GraphiQL") {
		t.Fatalf("production served GraphiQL")
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("production /graphql has no CSP")
	}
}

func TestWebIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	w := b.do(httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "陕西健康码平台") {
		t.Fatalf("GET / = %d %.200s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("index Cache-Control = %q", cc)
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("index has no CSP")
	}
	w = b.do(httptest.NewRequest(http.MethodGet, "/nope.js", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "页面不存在") {
		t.Errorf("unknown path = %d %.200s", w.Code, w.Body)
	}
}

func TestMount(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Mount = map[string]http.Handler{
			"GET /.well-known/healthcode/keys.json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"keys":[]}`)
			}),
		}
	})
	w := b.do(httptest.NewRequest(http.MethodGet, "/.well-known/healthcode/keys.json", nil))
	if w.Code != http.StatusOK || w.Body.String() != `{"keys":[]}` {
		t.Fatalf("mounted route = %d %s", w.Code, w.Body)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{})
	b := setup(t, func(c *Config) {
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
			_, _ = io.WriteString(w, "done")
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- b.srv.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Post(url+"/graphql", "application/json", strings.NewReader(`{}`))
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- string(body)
	}()
	<-started
	cancel()
	// Shutdown waits for the in-flight request; readyz reports draining.
	waitUntil(t, "the server drains", b.srv.draining.Load)
	w := b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining = %d", w.Code)
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestNewRequiresAuth(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New without Auth did not panic")
		}
	}()
	New(Config{})
}

func TestPoolCollector(t *testing.T) {
	t.Parallel()
	// pgxpool connects lazily: no database is needed to read its stats.
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none?pool_max_conns=7")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m := NewMetrics()
	if err := m.RegisterDBPool(pool); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterDBPool(pool); err == nil {
		t.Error("second RegisterDBPool succeeded")
	}
	body := scrape(t, m)
	for _, want := range []string{"pgxpool_max_conns 7", "pgxpool_acquired_conns 0", "pgxpool_idle_conns 0",
		"pgxpool_total_conns 0", "pgxpool_acquire_count 0", "pgxpool_empty_acquire_wait_time_ns 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// fakeCollector emits one gauge, after delay.
type fakeCollector struct{ delay time.Duration }

var fakeDesc = prometheus.NewDesc("asynq_queue_size", "test", []string{"queue"}, nil)

func (fakeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- fakeDesc }
func (f fakeCollector) Collect(ch chan<- prometheus.Metric) {
	time.Sleep(f.delay)
	ch <- prometheus.MustNewConstMetric(fakeDesc, prometheus.GaugeValue, 3, "critical")
}

// The queue collector adds to asynq's exporter what it lacks: asynq_up and a
// scrape that does not wait for a slow or unreachable Redis.
func TestQueueCollector(t *testing.T) {
	t.Parallel()
	up := prometheus.NewDesc("asynq_up", "test", nil, nil)
	m := NewMetrics()
	if err := m.register("queue", newGuardedCollector(fakeCollector{}, up, func() error { return nil })); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, m)
	for _, want := range []string{"asynq_up 1", `asynq_queue_size{queue="critical"} 3`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	m = NewMetrics()
	_ = m.register("queue", newGuardedCollector(fakeCollector{}, up, func() error { return errors.New("redis down") }))
	if body := scrape(t, m); !strings.Contains(body, "asynq_up 0") || strings.Contains(body, "asynq_queue_size") {
		t.Errorf("failing check: %s", grep(body, "asynq"))
	}

	m = NewMetrics()
	c := newGuardedCollector(fakeCollector{delay: time.Second}, up, func() error { return nil })
	c.timeout = 50 * time.Millisecond
	_ = m.register("queue", c)
	start := time.Now()
	if body := scrape(t, m); !strings.Contains(body, "asynq_up 0") {
		t.Errorf("slow collector: %s", grep(body, "asynq"))
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Error("scrape waited for the slow collector")
	}

	// asynq's exporter itself, against a Redis that is not there.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: "127.0.0.1:1"})
	defer insp.Close()
	m = NewMetrics()
	if err := m.RegisterQueue(insp); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, m); !strings.Contains(body, "asynq_up 0") {
		t.Errorf("unreachable redis: %s", grep(body, "asynq"))
	}
}

func TestOutboxCollector(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	if err := m.RegisterOutbox(func(ctx context.Context) (OutboxBacklog, error) {
		if _, ok := ctx.Deadline(); !ok {
			return OutboxBacklog{}, errors.New("no deadline")
		}
		return OutboxBacklog{Pending: 17, Unfinished: 101, Running: 4, OldestUnfinished: 75 * time.Second}, nil
	}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, m)
	for _, want := range []string{"outbox_up 1", "outbox_pending 17", "outbox_unfinished 101", "outbox_running 4",
		"outbox_oldest_unfinished_seconds 75"} {
		if !strings.Contains(body, want) {
			t.Errorf("outbox metrics lack %s: %s", want, grep(body, "outbox"))
		}
	}
}

func TestCodeCacheCollector(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	hits := int64(0)
	stats := func() CodeCacheStats {
		hits += 10
		return CodeCacheStats{Hits: hits, Misses: 3, Invalidations: 5, Flushes: 2, Discarded: 1, Evictions: 7, Entries: 42}
	}
	if err := m.RegisterCodeCache(stats); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterCodeCache(stats); err == nil {
		t.Error("second RegisterCodeCache succeeded")
	}
	body := scrape(t, m)
	for _, want := range []string{"code_cache_hits_total 10", "code_cache_misses_total 3", "code_cache_invalidations_total 5",
		"code_cache_flushes_total 2", "code_cache_discarded_total 1", "code_cache_evictions_total 7", "code_cache_entries 42"} {
		if !strings.Contains(body, want) {
			t.Errorf("code cache metrics lack %s: %s", want, grep(body, "code_cache"))
		}
	}
	if body := scrape(t, m); !strings.Contains(body, "code_cache_hits_total 20") {
		t.Errorf("second scrape: %s", grep(body, "code_cache_hits"))
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape status = %d: %s", w.Code, w.Body)
	}
	return w.Body.String()
}

func grep(s, substr string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}

// On shutdown with a drain period the server keeps accepting and serving
// requests while /readyz answers 503 (so a load balancer takes it out of
// rotation first), and only then stops.
func TestServeDrainsBeforeStopping(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Drain = time.Second })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- b.srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	get := func(path string) int {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // a new connection each time
		resp, err := c.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s while draining: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz"); code != http.StatusOK {
		t.Fatalf("readyz before shutdown = %d", code)
	}
	stopped := time.Now()
	cancel()
	waitUntil(t, "the server drains", b.srv.draining.Load)
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining = %d, want 503", code)
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("a request while draining = %d, want 200", code)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if d := time.Since(stopped); d < time.Second {
		t.Fatalf("stopped after %s, before the drain period", d)
	}
}

// An unreachable dependency behind authentication is answered 503 with
// Retry-After and the code UNAVAILABLE.
func TestAuthUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Auth = downAuth{} })
	r := gqlPost(`{}`)
	r.Header.Set("Authorization", "Bearer good-token")
	w := b.do(r)
	checkCodedError(t, w, http.StatusServiceUnavailable, healthcode.EUNAVAILABLE, "服务暂时不可用，请稍后重试")
	if w.Header().Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
	}
}

type downAuth struct{}

func (downAuth) Authenticate(context.Context, string) (*healthcode.Actor, error) {
	return nil, fmt.Errorf("query sessions: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
}
