package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/devenv/redistest"
	"healthcode/graph"
	"healthcode/graph/apitest"
	"healthcode/ratelimit"
)

// postFrom posts a GraphQL request as if from the client address addr.
func postFrom(t *testing.T, b *apitest.Bundle, addr, token, query string, vars map[string]any) *apitest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	out := &apitest.Response{Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("decode: %v: %s", err, rec.Body.String())
	}
	return out
}

// redisLimiter is a limiter on a Redis database of the test's own, on the
// bundle's clock.
func redisLimiter(t *testing.T, clock healthcode.Clock) *ratelimit.Redis {
	t.Helper()
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return &ratelimit.Redis{Client: c, Clock: clock}
}

const registerMutation = `mutation($c: String!, $u: String!) { registerInstitution(input: {name: "某公司", creditCode: $c, region: "610113",
	contactName: "王经理", contactPhone: "13912345678", adminUsername: $u, adminDisplayName: "王经理", adminPassword: "admin-pass-2020"}) {
	institution { id status } } }`

func creditCode(t *testing.T, n int) string {
	t.Helper()
	body := fmt.Sprintf("91610113MA6U%05d", n)
	c, ok := healthcode.CreditCodeCheck(body)
	if !ok {
		t.Fatal("credit code")
	}
	return body + string(c)
}

// Anonymous registrations are limited per client address and per credit
// code, in Redis, with a coded RATE_LIMITED answer and a retry-after
// (issue 12 §4: five ACTIVE institutions in 0.2 s).
func TestRegistrationRateLimited(t *testing.T) {
	t.Parallel()
	clock := &healthcode.OffsetClock{}
	clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	b := apitest.Setup(t, apitest.Options{RateLimiter: redisLimiter(t, clock)})
	var last *apitest.Response
	for i := range 6 {
		last = postFrom(t, b, "198.51.100.7", "", registerMutation, map[string]any{"c": creditCode(t, i), "u": fmt.Sprintf("spam%d", i)})
		if i < 5 && last.Code() != "" {
			t.Fatalf("registration %d: %s %v", i, last.Code(), last.Errors)
		}
	}
	if last.Code() != healthcode.ERATELIMITED {
		t.Fatalf("sixth registration from one address: %q, want RATE_LIMITED", last.Code())
	}
	if ra, _ := last.Errors[0].Extensions["retryAfter"].(float64); ra <= 0 || !strings.Contains(last.Errors[0].Message, "秒后再试") {
		t.Fatalf("no retry-after: %v", last.Errors[0])
	}
	// One credit code tried from many addresses.
	code := creditCode(t, 100)
	for i := range 4 {
		r := postFrom(t, b, fmt.Sprintf("198.51.100.%d", 20+i), "", registerMutation, map[string]any{"c": code, "u": fmt.Sprintf("code%d", i)})
		want := map[int]string{0: "", 1: "CONFLICT", 2: "CONFLICT", 3: "RATE_LIMITED"}[i]
		if r.Code() != want {
			t.Fatalf("attempt %d with one credit code: %q, want %q", i, r.Code(), want)
		}
	}
	// The window passes (the clock moves): the address may register again.
	clock.Advance(time.Hour)
	if r := postFrom(t, b, "198.51.100.7", "", registerMutation, map[string]any{"c": creditCode(t, 200), "u": "later"}); r.Code() != "" {
		t.Fatalf("after an hour: %s", r.Code())
	}
}

type downLimiter struct{}

func (downLimiter) Allow(context.Context, string, healthcode.Limit) (time.Duration, error) {
	return 0, errors.New("redis: connection refused")
}

// When Redis is down, a fail-closed operation (registration) is refused
// with UNAVAILABLE and a fail-open one (login) goes ahead.
func TestRateLimiterDown(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{RateLimiter: downLimiter{}})
	if r := b.Do(t, "", registerMutation, map[string]any{"c": creditCode(t, 1), "u": "down"}); r.Code() != healthcode.EUNAVAILABLE {
		t.Fatalf("registration with the limiter down: %q", r.Code())
	}
	if r := b.Do(t, "", `mutation { login(username: "nobody", password: "wrong-password") { token } }`, nil); r.Code() != healthcode.EUNAUTHENTICATED {
		t.Fatalf("login with the limiter down: %q", r.Code())
	}
}

// A costly field cannot be aliased past its cap: 20 aliased logins (a
// password spray in one request) and 2,400 aliased QR images are refused
// before anything runs.
func TestAliasCaps(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	var q strings.Builder
	q.WriteString("mutation {")
	for i := range 20 {
		fmt.Fprintf(&q, ` l%d: login(username: "admin", password: "guess-%d") { token }`, i, i)
	}
	q.WriteString("}")
	r := b.Do(t, "", q.String(), nil)
	if r.Code() != healthcode.EINVALID || !strings.Contains(r.Errors[0].Message, "login") {
		t.Fatalf("20 aliased logins: %q %v", r.Code(), r.Errors)
	}
	var n int
	if err := b.Pool.QueryRow(context.Background(), "SELECT count(*) FROM login_throttle").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused request tried %d passwords", n)
	}
	q.Reset()
	q.WriteString("{ myCredential { ")
	for i := range 4 {
		fmt.Fprintf(&q, " q%d: qrPng", i)
	}
	q.WriteString(" } }")
	if r := b.Do(t, "", q.String(), nil); r.Code() != healthcode.EINVALID {
		t.Fatalf("4 aliased qrPng: %q", r.Code())
	}
	// Through a fragment as well.
	if r := b.Do(t, "", `query { a: myCode { colour } ...F ...G } fragment F on Query { b: myCode { colour } c: myCode { colour } } fragment G on Query { d: myCode { colour } }`, nil); r.Code() != healthcode.EINVALID {
		t.Fatalf("myCode four times through fragments: %q", r.Code())
	}
}

// A subscription ends when its session does: at logout (issue 12 §4: a
// ticketQueue subscription kept streaming after logout) and at expiry.
func TestSubscriptionsEndWithTheSession(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(b.Handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	subscribe := func(token string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		var ack map[string]any
		if err := wsjson.Read(ctx, c, &ack); err != nil || ack["type"] != "connection_ack" {
			t.Fatalf("connection_init: %v %v", ack, err)
		}
		wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe",
			"payload": map[string]any{"query": "subscription { ticketQueue { id state } }"}})
		return c
	}
	// ended waits for the server to close the connection.
	ended := func(c *websocket.Conn, why string) {
		t.Helper()
		for {
			var msg map[string]any
			if err := wsjson.Read(ctx, c, &msg); err != nil {
				if ctx.Err() != nil {
					t.Fatalf("the subscription outlived the session (%s)", why)
				}
				return
			}
		}
	}
	_, loggedOut := b.CreateStaff(t, "handler_a", "610113", apitest.G("HANDLER@610113"))
	c := subscribe(loggedOut)
	defer c.CloseNow()
	b.Do(t, loggedOut, `mutation { logout }`, nil).MustData(t)
	ended(c, "logout")

	id, expiring := b.CreateStaff(t, "handler_b", "610113", apitest.G("HANDLER@610113"))
	if _, err := b.Pool.Exec(ctx, "UPDATE sessions SET expires_at = $2 WHERE staff_id = $1", id, b.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c = subscribe(expiring)
	defer c.CloseNow()
	b.Clock.Advance(2 * time.Hour)
	ended(c, "expiry")
}

// The rules that fail open (the code page's) count on the replica
// (ratelimit.Local, no Redis round trip per call) and reach Redis at its next
// sync, where another replica sees them; a rule that fails closed
// (registration) counts in Redis at once.
func TestApproxRateLimiterForFailOpenRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &healthcode.OffsetClock{}
	clock.Set(time.Date(2020, 2, 20, 9, 0, 0, 0, time.UTC))
	exact := redisLimiter(t, clock)
	approx := &ratelimit.Local{Shared: exact}
	b := apitest.Setup(t, apitest.Options{RateLimiter: exact, ApproxRateLimiter: approx, RateLimits: map[string]graph.RateRule{
		"myCode":              {PerAccount: healthcode.Limit{Events: 3, Per: time.Minute}},
		"registerInstitution": graph.DefaultRateLimits["registerInstitution"],
	}})
	_, token := b.CreateResident(t, "13900000077")
	for i := range 3 {
		if r := b.Do(t, token, `{ myCode { colour } }`, nil); r.Code() == healthcode.ERATELIMITED {
			t.Fatalf("myCode %d refused", i)
		}
	}
	if r := b.Do(t, token, `{ myCode { colour } }`, nil); r.Code() != healthcode.ERATELIMITED {
		t.Fatalf("fourth myCode in a minute: %q, want RATE_LIMITED", r.Code())
	}
	keys := func(pattern string) []string {
		k, err := exact.Client.Keys(ctx, "hc:rl:"+pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := keys("*:myCode"); len(k) != 0 {
		t.Fatalf("myCode counted in Redis before the sync: %v", k)
	}
	postFrom(t, b, "198.51.100.7", "", registerMutation, map[string]any{"c": creditCode(t, 1), "u": "approx"})
	if k := keys("addr:198.51.100.7:registerInstitution"); len(k) != 1 {
		t.Fatalf("registration not counted in Redis at once: %v", k)
	}
	if err := approx.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	k := keys("acct:*:myCode")
	if len(k) != 1 {
		t.Fatalf("myCode's account key after the sync: %v", k)
	}
	// Another replica sees the account's three calls.
	other := &ratelimit.Local{Shared: exact}
	key := strings.TrimPrefix(k[0], "hc:rl:")
	if wait, err := other.Allow(ctx, key, healthcode.Limit{Events: 3, Per: time.Minute}); err != nil || wait <= 0 {
		t.Fatalf("another replica after the sync: %v %v; want a wait", wait, err)
	}
}

// Failed logins lock no account: an attacker guessing a staff password from
// one address is throttled at that address alone, while the owner logs in
// from theirs; the staff table has no lockout state (docs/security.md).
func TestFailedLoginsLockNoAccount(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.CreateStaff(t, "lockout_target", "610113")
	const login = `mutation($p: String!) { login(username: "lockout_target", password: $p) { token } }`
	bad, good := map[string]any{"p": "wrong-password"}, map[string]any{"p": apitest.StaffPassword}
	var last *apitest.Response
	for i := 0; i < 8; i++ {
		last = postFrom(t, b, "203.0.113.7", "", login, bad)
		if i < 2 && last.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %q, want UNAUTHENTICATED", i+1, last.Code())
		}
		if i >= 2 && last.Code() != "RATE_LIMITED" && last.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %q", i+1, last.Code())
		}
	}
	if r := postFrom(t, b, "203.0.113.7", "", login, good); r.Code() != "RATE_LIMITED" {
		t.Fatalf("the right password from the guessing address: %q, want RATE_LIMITED (throttled)", r.Code())
	}
	if r := postFrom(t, b, "198.51.100.20", "", login, good); len(r.Errors) > 0 {
		t.Fatalf("the owner from another address: %+v, want a session", r.Errors)
	}
	// Once the delay has passed, the right password works from there too.
	b.Clock.Advance(16 * time.Minute)
	if r := postFrom(t, b, "203.0.113.7", "", login, good); len(r.Errors) > 0 {
		t.Fatalf("after the delay: %+v", r.Errors)
	}
	var n int
	if err := b.Pool.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'staff' AND column_name IN ('failed_logins', 'locked_until')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("staff lockout columns: %d (%v), want none", n, err)
	}
}
