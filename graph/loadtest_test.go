//go:build loadtest

package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"healthcode"
	"healthcode/graph"
	"healthcode/graph/apitest"
	"healthcode/postgres"
	"healthcode/server"
)

// TestLoad is the overload test of issue 17 (`make loadtest`, not part of
// `make test`): one API replica on loopback with admission control as in
// production (server.AdmissionConfig defaults), driven by a mixed load — the
// code page (myCode + myCredential) 50 %, recordScans 20 %, a console list of
// persons 15 %, rankings 15 %. It measures the saturation rate (closed loop,
// LOADTEST_CONCURRENCY clients), then offers 50 %, 100 % and 150 % of it as an
// open-loop arrival rate (requests start on schedule whether or not earlier
// ones have finished) for LOADTEST_DURATION each, then a login flood of 64
// clients, then 150 % again without admission control for comparison. It
// prints per class throughput, p50/p99, refusals, /readyz latency and the
// process's resident memory. The generator runs in the same process and on
// the same CPUs as the server and PostgreSQL.
func TestLoad(t *testing.T) {
	duration := envDuration(t, "LOADTEST_DURATION", 60*time.Second)
	satDuration := envDuration(t, "LOADTEST_SATURATION_DURATION", 15*time.Second)
	concurrency := envInt(t, "LOADTEST_CONCURRENCY", 32)

	var gqlInner http.Handler
	b := apitest.Setup(t, apitest.Options{Dev: true,
		WrapGraphQL: func(h http.Handler) http.Handler { gqlInner = h; return h },
	})
	b.Clock.Set(rankingNow)
	s := &scenario{Bundle: b, t: t}
	pg := b.Pool
	bundleReady := map[string]func(context.Context) error{
		"postgres": func(ctx context.Context) error { return pg.Ping(ctx) },
	}
	admitted := httptest.NewServer(server.New(server.Config{Auth: &postgres.AuthService{DB: b.DB}, GraphQL: gqlInner,
		Logger: quietLog(), ReadyChecks: bundleReady, Admission: &server.AdmissionConfig{Classify: classifyGraphQL}}).Handler())
	defer admitted.Close()
	unbounded := httptest.NewServer(server.New(server.Config{Auth: &postgres.AuthService{DB: b.DB}, GraphQL: gqlInner,
		Logger: quietLog(), ReadyChecks: bundleReady}).Handler())
	defer unbounded.Close()

	// The population: 200 residents with a declaration each, a venue and
	// its inspector, an administrator and a supervisor, a week of a ranked
	// indicator for every city.
	began := time.Now()
	const residents = 200
	tokens := make([]string, residents)
	for i := range residents {
		phone := fmt.Sprintf("1390000%04d", i)
		_, tokens[i] = b.CreateResident(t, phone)
		s.declare(tokens[i], declaration(fmt.Sprintf("负载%03d", i), idNumber(fmt.Sprintf("610113199001%02d%03d", i%28+1, i)), phone,
			s.community("610113"), nil))
	}
	venue, inspector := s.checkpoint(t, "负载测试商场", "610113")
	_, admin := b.CreateStaff(t, "load_admin", "61", apitest.G("ADMIN@61"))
	_, supervisor := b.CreateStaff(t, "load_supervisor", "61", apitest.G("SUPERVISOR@61"))
	var cities []string
	rows, err := pg.Query(context.Background(), `SELECT code FROM regions WHERE level = 'CITY'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		_ = rows.Scan(&c)
		cities = append(cities, c)
	}
	byCity := map[string][2]float64{}
	for i, c := range cities {
		byCity[c] = [2]float64{float64(50 + 4*i), 100}
	}
	indicatorRows(t, b, "COVERAGE", "2026-11-16", 7, byCity)
	t.Logf("setup: %d residents, a venue, %d cities ranked, in %s", residents, len(cities), time.Since(began).Round(time.Millisecond))

	// The credentials scanned: fetched per phase (they live 5 minutes).
	var credMu sync.Mutex
	var creds []string
	refreshCredentials := func() {
		credMu.Lock()
		defer credMu.Unlock()
		creds = creds[:0]
		for _, tok := range tokens[:50] {
			creds = append(creds, s.credentialOf(t, tok))
		}
	}

	var n atomic.Int64
	ops := []loadOp{
		{name: "code page", class: healthcode.ClassEssential, weight: 10, body: func() (string, []byte) {
			return tokens[n.Add(1)%residents], gqlBody(`query CodePage { myCode { colour clauses { reason } } myCredential { token expiresAt } }`, nil)
		}},
		{name: "recordScans", class: healthcode.ClassEssential, weight: 4, body: func() (string, []byte) {
			credMu.Lock()
			tok := creds[n.Add(1)%int64(len(creds))]
			credMu.Unlock()
			sc := scanOf(newUUID(), tok, venue, b.Clock.Now(), 36.5)
			return inspector, gqlBody(recordScans, map[string]any{"s": []any{sc}})
		}},
		{name: "persons (console)", class: healthcode.ClassNormal, weight: 3, body: func() (string, []byte) {
			return admin, gqlBody(`query Persons { persons(region: "610113", first: 20) { nodes { id name phone } } }`, nil)
		}},
		{name: "rankings", class: healthcode.ClassNonEssential, weight: 3, body: func() (string, []byte) {
			return supervisor, gqlBody(`query Rankings { rankings(week: "2026-11-16", level: CITY) { regionCode score rank interview } }`, nil)
		}},
	}

	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096}}
	refreshCredentials()
	// Warm up: every operation once, the caches of the parsed queries.
	for _, op := range ops {
		if r := sendOp(client, admitted.URL, op); r.outcome != "ok" {
			t.Fatalf("warm-up %s: %s", op.name, r.outcome)
		}
	}

	report := &loadReport{}
	// The saturation rate: what the replica answers without admission
	// control when clients always wait for it.
	sat := closedLoop(client, unbounded.URL, ops, concurrency, satDuration)
	satRate := float64(sat.ok()) / satDuration.Seconds()
	report.add(fmt.Sprintf("saturation: closed loop, %d clients, no admission control, %s", concurrency, satDuration), sat, satDuration, 0)
	t.Logf("saturation: %.0f req/s answered", satRate)

	for _, phase := range []struct {
		name string
		url  string
		pct  float64
	}{
		{"50 %:", admitted.URL, 0.5}, {"100 %:", admitted.URL, 1.0}, {"150 %:", admitted.URL, 1.5},
		{"login flood", admitted.URL, 0},
		{"150 % without admission control:", unbounded.URL, 1.5},
	} {
		if phase.pct == 0 {
			loginFlood(t, client, admitted.URL, report, &n, duration)
			continue
		}
		refreshCredentials()
		rate := satRate * phase.pct
		res := openLoop(client, phase.url, ops, rate, duration)
		report.add(fmt.Sprintf("%s %.0f req/s offered (open loop), %s", phase.name, rate, duration), res, duration, rate)
		t.Logf("%s done", phase.name)
	}

	fmt.Println(report.String())
	if out := os.Getenv("LOADTEST_OUT"); out != "" {
		_ = os.WriteFile(out, []byte(report.String()), 0o644)
	}
}

// loginFlood runs 64 clients logging in to unknown usernames, closed loop,
// for up to 20 s: admission control's login limit bounds the password
// hashes, and with them the memory.
func loginFlood(t *testing.T, client *http.Client, url string, report *loadReport, n *atomic.Int64, duration time.Duration) {
	login := []loadOp{{name: "login (unknown user)", class: healthcode.ClassLogin, weight: 1, body: func() (string, []byte) {
		return "", gqlBody(`mutation Login($u: String!) { login(username: $u, password: "wrong-password-123") { token } }`,
			map[string]any{"u": fmt.Sprintf("nobody%d", n.Add(1))})
	}}}
	floodFor := min(duration, 20*time.Second)
	res := closedLoop(client, url, login, 64, floodFor)
	report.add(fmt.Sprintf("login flood, 64 clients, %s", floodFor), res, floodFor, 0)
	t.Logf("login flood done")
}

// loadOp is one kind of request of the mix.
type loadOp struct {
	name   string
	class  healthcode.WorkClass
	weight int
	body   func() (token string, body []byte)
}

// result is the outcome of one request.
type result struct {
	op      int
	outcome string // ok, OVERLOADED, another code, or "transport"
	latency time.Duration
}

// phaseResult is every result of a phase, with the readiness probes and the
// peak resident memory.
type phaseResult struct {
	results     []result
	ops         []loadOp
	dropped     int // open loop: arrivals not sent, the generator's cap reached
	ready       []time.Duration
	readyFailed int
	peakRSS     int64
	peakHeap    uint64 // Go heap in use
}

func (p *phaseResult) ok() int {
	n := 0
	for _, r := range p.results {
		if r.outcome == "ok" {
			n++
		}
	}
	return n
}

func gqlBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func sendOp(client *http.Client, url string, op loadOp) result {
	token, body := op.body()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return result{outcome: "transport", latency: time.Since(start)}
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		return result{outcome: "transport", latency: lat}
	}
	var out apitest.Response
	if json.Unmarshal(raw, &out) != nil {
		return result{outcome: "status " + strconv.Itoa(resp.StatusCode), latency: lat}
	}
	if c := out.Code(); c != "" {
		return result{outcome: c, latency: lat}
	}
	return result{outcome: "ok", latency: lat}
}

// schedule returns the op indices of the mix in a fixed weighted order.
func schedule(ops []loadOp) []int {
	var s []int
	for i, op := range ops {
		for range op.weight {
			s = append(s, i)
		}
	}
	// Interleave: 0 1 2 3 0 1 … rather than 0 0 0 … 1 1.
	out := make([]int, 0, len(s))
	left := map[int]int{}
	for i, op := range ops {
		left[i] = op.weight
	}
	for len(out) < len(s) {
		for i := range ops {
			if left[i] > 0 {
				out = append(out, i)
				left[i]--
			}
		}
	}
	return out
}

// monitor probes /readyz every 500 ms and samples the resident memory every
// 250 ms until stop is closed.
func monitor(client *http.Client, url string, p *phaseResult, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	probe := &http.Client{Timeout: 5 * time.Second}
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			resp, err := probe.Get(url + "/readyz")
			d := time.Since(start)
			if err != nil || resp.StatusCode != http.StatusOK {
				p.readyFailed++
			}
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			p.ready = append(p.ready, d)
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss := residentBytes(); rss > p.peakRSS {
				p.peakRSS = rss
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			p.peakHeap = max(p.peakHeap, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return &wg
}

// closedLoop runs clients that each send the next request of the mix as
// soon as the last one is answered, for d.
func closedLoop(client *http.Client, url string, ops []loadOp, clients int, d time.Duration) *phaseResult {
	p := &phaseResult{ops: ops}
	sched := schedule(ops)
	stop := make(chan struct{})
	mon := monitor(client, url, p, stop)
	var mu sync.Mutex
	var next atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				i := sched[next.Add(1)%int64(len(sched))]
				r := sendOp(client, url, ops[i])
				r.op = i
				mu.Lock()
				p.results = append(p.results, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	mon.Wait()
	return p
}

// openLoop starts requests at rate per second on schedule for d, whether or
// not earlier ones have been answered (at most 4096 outstanding; arrivals
// beyond that are counted as dropped by the generator).
func openLoop(client *http.Client, url string, ops []loadOp, rate float64, d time.Duration) *phaseResult {
	p := &phaseResult{ops: ops}
	sched := schedule(ops)
	stop := make(chan struct{})
	mon := monitor(client, url, p, stop)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var outstanding atomic.Int64
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.Sub(start) >= d {
			break
		}
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		if outstanding.Load() >= 4096 {
			p.dropped++
			continue
		}
		i := sched[k%len(sched)]
		outstanding.Add(1)
		wg.Go(func() {
			defer outstanding.Add(-1)
			r := sendOp(client, url, ops[i])
			r.op = i
			mu.Lock()
			p.results = append(p.results, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stop)
	mon.Wait()
	return p
}

// loadReport renders the phases as a Markdown table.
type loadReport struct{ b strings.Builder }

func (r *loadReport) add(title string, p *phaseResult, d time.Duration, offered float64) {
	if r.b.Len() == 0 {
		r.b.WriteString("| phase | operation (class) | sent | answered/s | refused OVERLOADED | other errors | p50 / p99 ms (answered) | p99 ms (refusals) |\n|---|---|---|---|---|---|---|---|\n")
	}
	_ = offered
	for i, op := range p.ops {
		var ok, refused []time.Duration
		other := map[string]int{}
		sent := 0
		for _, x := range p.results {
			if x.op != i {
				continue
			}
			sent++
			switch x.outcome {
			case "ok":
				ok = append(ok, x.latency)
			case healthcode.EOVERLOADED:
				refused = append(refused, x.latency)
			default:
				other[x.outcome]++
			}
		}
		var others []string
		for k, v := range other {
			others = append(others, fmt.Sprintf("%d %s", v, k))
		}
		slices.Sort(others)
		o := strings.Join(others, ", ")
		if o == "" {
			o = "0"
		}
		fmt.Fprintf(&r.b, "| %s | %s (%s) | %d | %.0f | %d | %s | %s | %s |\n", title, op.name, op.class, sent,
			float64(len(ok))/d.Seconds(), len(refused), o, pct(ok, 50)+" / "+pct(ok, 99), pct(refused, 99))
	}
	ready := "—"
	if len(p.ready) > 0 {
		ready = fmt.Sprintf("%d probes, %d not 200, max %s", len(p.ready), p.readyFailed, slices.Max(p.ready).Round(time.Millisecond))
	}
	fmt.Fprintf(&r.b, "| %s | /readyz: %s; peak Go heap %d MiB, RSS %d MiB; generator dropped %d | | | | | | |\n", title, ready, p.peakHeap>>20, p.peakRSS>>20, p.dropped)
}

func pct(ds []time.Duration, q int) string {
	if len(ds) == 0 {
		return "—"
	}
	slices.Sort(ds)
	i := min(len(ds)-1, len(ds)*q/100)
	return fmt.Sprintf("%.1f", float64(ds[i].Microseconds())/1000)
}

// residentBytes is the process's resident set (VmRSS), 0 where /proc is missing.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func classifyGraphQL(r *http.Request) healthcode.WorkClass {
	if r.URL.Path == "/graphql" {
		return graph.RequestClass(r)
	}
	return ""
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

func envInt(t *testing.T, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return def
}

func (r *loadReport) String() string { return r.b.String() }
