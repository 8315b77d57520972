//go:build faults

package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"healthcode"
	"healthcode/devenv"
	"healthcode/graph/apitest"
	"healthcode/migrations"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/rbac"
	"healthcode/sms/smstest"
)

// Population is the number of synthetic persons: a province-wide designation
// re-evaluates them in Population/1000 batches and texts most of them.
const Population = 5000

// harness is the platform under test: servers, processes, the gateway
// stand-in and an in-process handle on the database for setup and checks.
type harness struct {
	t      *testing.T
	ctx    context.Context
	dir    string
	bin    string
	keyDir string
	env    *devenv.Env
	db     *postgres.DB
	api    *apitest.Bundle // staff and resident accounts, as the API tests make them
	gw     *smstest.Gateway
	gwURL  string

	mu    sync.Mutex
	procs map[string]*proc
}

// proc is one healthcode process.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // serve: host:port
	log  string // its log file
	done chan error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// PostgreSQL runs as the postgres user: its directory must be reachable.
	dir, err := os.MkdirTemp("", "healthcode-faults-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("logs kept in %s", dir)
		}
	})
	h := &harness{t: t, ctx: t.Context(), dir: dir, procs: map[string]*proc{}}
	h.bin = os.Getenv("HEALTHCODE_BIN")
	if h.bin == "" {
		h.bin, _ = filepath.Abs("../bin/healthcode")
	}
	if _, err := os.Stat(h.bin); err != nil {
		t.Fatalf("the healthcode binary %s: %v (run make build)", h.bin, err)
	}
	logf, err := os.Create(filepath.Join(h.dir, "servers.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	h.env, err = devenv.Start(h.ctx, devenv.Options{Dir: filepath.Join(h.dir, "data"), Throwaway: true, Log: logf,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.env.Stop)
	t.Cleanup(h.stopAll)
	if err := migrations.Up(h.env.DatabaseURL); err != nil {
		t.Fatal(err)
	}

	// The personal-data key of the processes is the API tests' key, so the
	// in-process handle reads what they write.
	h.keyDir = filepath.Join(h.dir, "keys")
	if err := os.MkdirAll(h.keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.keyDir, "data.key"), []byte(base64.StdEncoding.EncodeToString(apitest.TestKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := h.command("keys", "rotate").CombinedOutput(); err != nil {
		t.Fatalf("keys rotate: %v: %s", err, out)
	}
	pool, err := postgres.Open(h.ctx, h.env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cipher, err := pii.NewCipher(apitest.TestKey)
	if err != nil {
		t.Fatal(err)
	}
	h.db = &postgres.DB{Pool: pool, PII: cipher}
	enforcer, err := rbac.New(h.db.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	h.db.Authz = enforcer
	if err := h.db.EnsureRuleSet(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.api = &apitest.Bundle{Pool: pool, DB: h.db, Enforcer: enforcer}

	h.gw = &smstest.Gateway{Latency: 20 * time.Millisecond}
	if h.gwURL, err = h.gw.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

// command builds a healthcode command with the harness's environment.
func (h *harness) command(args ...string) *exec.Cmd {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+h.env.DatabaseURL,
		"REDIS_URL="+h.env.RedisURL,
		"HEALTHCODE_KEY_DIR="+h.keyDir,
		"HEALTHCODE_DEV=false",
		"SMS_GATEWAY_URL="+h.gwURL,
		"SMS_GATEWAY_TIMEOUT=5s",
		"WORKER_SHUTDOWN_GRACE=15s",
		"WORKER_CONCURRENCY=4",
		"SHUTDOWN_DRAIN=2s",
		"LOG_FORMAT=json",
		"METRICS_ADDR=off", // several serve replicas on one machine
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// start starts a process (serve or worker) named name and waits until it is
// up: a serve replica answers /readyz, a worker has logged its start.
func (h *harness) start(name, command string, env ...string) *proc {
	h.t.Helper()
	p := &proc{name: name, log: filepath.Join(h.dir, name+".log"), done: make(chan error, 1)}
	cmd := h.command(command)
	if command == "serve" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			h.t.Fatal(err)
		}
		p.addr = ln.Addr().String()
		ln.Close()
		cmd.Env = append(cmd.Env, "HTTP_ADDR="+p.addr)
	}
	cmd.Env = append(cmd.Env, env...)
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p.cmd = cmd
	go func() { p.done <- cmd.Wait(); f.Close() }()
	h.mu.Lock()
	h.procs[name] = p
	h.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			h.t.Fatalf("%s exited during start: %v\n%s", name, err, tail(p.log))
		default:
		}
		if command == "serve" {
			if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		} else if strings.Contains(readFile(p.log), `"worker started"`) {
			return p
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not start:\n%s", name, tail(p.log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig to p and, for SIGKILL and SIGTERM, waits until it exited
// (within limit); it returns the exit error and how long the exit took.
func (h *harness) signal(p *proc, sig syscall.Signal, limit time.Duration) (error, time.Duration) {
	h.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		h.t.Fatalf("signal %s: %v", p.name, err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err, time.Since(start)
	case <-time.After(limit):
		h.t.Fatalf("%s did not exit within %s of %s:\n%s", p.name, limit, sig, tail(p.log))
	}
	return nil, 0
}

func (h *harness) stopAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.procs {
		select {
		case err := <-p.done:
			p.done <- err
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// pid returns a running process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(path string) string {
	s := readFile(path)
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

// gqlResult is one GraphQL answer over HTTP.
type gqlResult struct {
	Status     int
	RetryAfter string
	Data       map[string]any
	Code       string // extensions.code of the first error
	Err        error  // transport error
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// gql posts query to a serve replica.
func gql(addr, token, query string, vars map[string]any) gqlResult {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return gqlResult{Err: err}
	}
	defer resp.Body.Close()
	r := gqlResult{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var doc struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &doc); err != nil {
		r.Err = fmt.Errorf("decode %q: %w", b, err)
		return r
	}
	r.Data = doc.Data
	if len(doc.Errors) > 0 {
		r.Code, _ = doc.Errors[0].Extensions["code"].(string)
	}
	return r
}

// must posts query and fails the test on any error.
func (h *harness) must(addr, token, query string, vars map[string]any) map[string]any {
	h.t.Helper()
	r := gql(addr, token, query, vars)
	if r.Err != nil || r.Code != "" || r.Status != http.StatusOK {
		h.t.Fatalf("%s: status %d code %s err %v", query, r.Status, r.Code, r.Err)
	}
	return r.Data
}

// mustRetry posts query until it succeeds (after an outage), for at most a
// minute.
func (h *harness) mustRetry(addr, token, query string, vars map[string]any) map[string]any {
	h.t.Helper()
	data, err := retry(addr, token, query, vars)
	if err != nil {
		h.t.Fatal(err)
	}
	return data
}

// retry is mustRetry for other goroutines than the test's.
func retry(addr, token, query string, vars map[string]any) (map[string]any, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		r := gql(addr, token, query, vars)
		if r.Err == nil && r.Code == "" && r.Status == http.StatusOK {
			return r.Data, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: status %d code %s err %v", query, r.Status, r.Code, r.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// subscription is a live ticketQueue subscription over graphql-transport-ws.
type subscription struct {
	conn   *websocket.Conn
	mu     sync.Mutex
	states map[string]map[string]bool // ticket id → states received
}

func (h *harness) subscribe(addr, token string) *subscription {
	h.t.Helper()
	ctx := h.ctx
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		h.t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	_ = wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	var ack map[string]any
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack["type"] != "connection_ack" {
		h.t.Fatalf("connection_init: %v %v", ack, err)
	}
	_ = wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": "subscription { ticketQueue { id state } }"}})
	s := &subscription{conn: c, states: map[string]map[string]bool{}}
	go func() {
		for {
			var msg struct {
				Type    string
				Payload struct {
					Data struct {
						TicketQueue struct{ ID, State string }
					}
				}
			}
			if err := wsjson.Read(ctx, c, &msg); err != nil {
				return
			}
			if msg.Type == "next" {
				q := msg.Payload.Data.TicketQueue
				s.mu.Lock()
				if s.states[q.ID] == nil {
					s.states[q.ID] = map[string]bool{}
				}
				s.states[q.ID][q.State] = true
				s.mu.Unlock()
			}
		}
	}()
	h.t.Cleanup(func() { c.CloseNow() })
	return s
}

// missing returns the ids that have not received state.
func (s *subscription) missing(ids []string, state string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range ids {
		if !s.states[id][state] {
			out = append(out, id)
		}
	}
	return out
}

// waitUntil polls cond every 50 ms until it holds or limit passes.
func (h *harness) waitUntil(what string, limit time.Duration, cond func() bool) time.Duration {
	h.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			h.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// waitFast is waitUntil polling as fast as cond runs (to catch a task while
// it runs).
func (h *harness) waitFast(what string, limit time.Duration, cond func() bool) {
	h.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			h.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
	}
}

// count runs a count query on the in-process handle, retrying while the
// database is restarting.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	var err error
	for range 100 {
		if err = h.db.Pool.QueryRow(h.ctx, query, args...).Scan(&n); err == nil {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("%s: %v", query, err)
	return 0
}

// settle waits until the outbox holds no unfinished work: every task caused
// by a write finished (periodic slots younger than 90 s aside), delayed ones
// (the late pass of a designation, a minute after it) included.
func (h *harness) settle(limit time.Duration) time.Duration {
	h.t.Helper()
	return h.waitUntil("the outbox to finish its work", limit, func() bool {
		return h.count(`SELECT count(*) FROM outbox WHERE done_at IS NULL
			AND (dedup_key IS NULL OR dedup_key NOT LIKE 'periodic:%' OR created_at < now() - interval '90 seconds')`) == 0
	})
}

// checkCodes re-evaluates every person afresh in process and fails when any
// code changes: every code must already be what a fresh evaluation gives.
// Codes whose time-driven re-evaluation is due are left to the minute task.
func (h *harness) checkCodes(label string) {
	h.t.Helper()
	var lo, hi int64
	if err := h.db.Pool.QueryRow(h.ctx, "SELECT COALESCE(min(id), 0), COALESCE(max(id), 0) FROM persons").Scan(&lo, &hi); err != nil {
		h.t.Fatal(err)
	}
	cause := "fault-check:" + label
	for from := lo; from <= hi; from += healthcode.ReevaluateBatchSize {
		if _, err := h.db.ReevaluateRange(h.ctx, from, from+healthcode.ReevaluateBatchSize, cause); err != nil {
			h.t.Fatal(err)
		}
	}
	wrong := h.count(`SELECT count(*) FROM code_history WHERE cause = $1`, cause)
	if wrong > 0 {
		h.t.Errorf("%s: %d codes differ from a fresh evaluation", label, wrong)
	} else {
		h.t.Logf("%s: all %d codes match a fresh evaluation", label, hi-lo+1)
	}
}

// smsMark is where a phase's messages start.
type smsMark struct {
	outbox   int64
	requests int
}

func (h *harness) smsMark() smsMark {
	var id int64
	_ = h.db.Pool.QueryRow(h.ctx, "SELECT COALESCE(max(id), 0) FROM outbox").Scan(&id)
	return smsMark{outbox: id, requests: len(h.gw.Requests())}
}

// checkSMS checks the messages queued since m: each was delivered to the
// gateway (its idempotency key "outbox:<id>" arrived), its delivery is
// recorded and its row is done, and no other key arrived. It returns the
// number of messages and of requests that repeated a delivered key (the
// gateway drops them: a message is delivered once in effect).
func (h *harness) checkSMS(label string, m smsMark) (messages, repeats int) {
	h.t.Helper()
	rows, err := h.db.Pool.Query(h.ctx, `SELECT o.id, o.done_at IS NOT NULL AND o.failed_at IS NULL,
			EXISTS (SELECT 1 FROM task_deliveries d WHERE d.outbox_id = o.id)
		FROM outbox o WHERE o.task_type = 'notify:sms' AND o.id > $1`, m.outbox)
	if err != nil {
		h.t.Fatal(err)
	}
	want := map[string]bool{}
	var notDone, notRecorded int
	for rows.Next() {
		var id int64
		var done, recorded bool
		if err := rows.Scan(&id, &done, &recorded); err != nil {
			h.t.Fatal(err)
		}
		want[fmt.Sprintf("outbox:%d", id)] = true
		if !done {
			notDone++
		}
		if !recorded {
			notRecorded++
		}
	}
	rows.Close()
	delivered := h.gw.Delivered()
	var lost []string
	for key := range want {
		if delivered[key] == 0 {
			lost = append(lost, key)
		}
	}
	var stray int
	for _, r := range h.gw.Requests()[m.requests:] {
		if !want[r.Key] {
			stray++
		}
		if r.Repeat {
			repeats++
		}
	}
	if len(lost) > 0 || notDone > 0 || notRecorded > 0 || stray > 0 {
		h.t.Errorf("%s: of %d messages %d never reached the gateway (e.g. %v), %d rows not done, %d deliveries not recorded, %d unexpected keys",
			label, len(want), len(lost), first(lost, 3), notDone, notRecorded, stray)
	}
	return len(want), repeats
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// logLines returns the lines of p's log that contain substr.
func logLines(p *proc, substr string) []string {
	f, err := os.Open(p.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}
