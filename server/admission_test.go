package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"healthcode"
)

// holdingServer is a server with admission control whose GraphQL handler
// holds every request until the test releases it. The class of a request is
// its X-Class header.
type holdingServer struct {
	*bundle
	entered chan healthcode.WorkClass
	release map[healthcode.WorkClass]chan struct{} // one token ends one held request of the class
	wg      sync.WaitGroup
}

// done ends one held request of class.
func (h *holdingServer) done(class healthcode.WorkClass) { h.release[class] <- struct{}{} }

func newHoldingServer(t *testing.T, cfg AdmissionConfig, edit func(*Config)) *holdingServer {
	t.Helper()
	h := &holdingServer{entered: make(chan healthcode.WorkClass, 100), release: map[healthcode.WorkClass]chan struct{}{}}
	for _, c := range healthcode.WorkClasses {
		h.release[c] = make(chan struct{}, 100)
	}
	cfg.Classify = func(r *http.Request) healthcode.WorkClass { return healthcode.WorkClass(r.Header.Get("X-Class")) }
	h.bundle = setup(t, func(c *Config) {
		c.Admission = &cfg
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			class := healthcode.WorkClass(r.Header.Get("X-Class"))
			h.entered <- class
			<-h.release[class]
			_, _ = w.Write([]byte(`{"data":{}}`))
		})
		if edit != nil {
			edit(c)
		}
	})
	t.Cleanup(func() {
		for _, c := range h.release {
			close(c)
		}
		h.wg.Wait()
	})
	return h
}

func classRequest(ctx context.Context, class healthcode.WorkClass) *http.Request {
	r := gqlPost(`{"query":"{ me { __typename } }"}`).WithContext(ctx)
	r.Header.Set("X-Class", string(class))
	return r
}

// hold sends a request of class that the handler holds, and waits until it
// is inside the handler.
func (h *holdingServer) hold(t *testing.T, class healthcode.WorkClass) {
	t.Helper()
	h.wg.Go(func() { h.do(classRequest(context.Background(), class)) })
	if got := <-h.entered; got != class {
		t.Fatalf("entered the handler: %s, want %s", got, class)
	}
}

// queue sends a request of class that waits for a slot, and returns when it
// is waiting; the returned channel gets its response.
func (h *holdingServer) queue(t *testing.T, class healthcode.WorkClass) <-chan *httptest.ResponseRecorder {
	t.Helper()
	out := make(chan *httptest.ResponseRecorder, 1)
	before := h.waiting(class)
	h.wg.Go(func() { out <- h.do(classRequest(context.Background(), class)) })
	waitUntil(t, "the request waits for a slot", func() bool { return h.waiting(class) != before })
	return out
}

func (h *holdingServer) waiting(class healthcode.WorkClass) int {
	a := h.srv.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queues[class])
}

func (h *holdingServer) inFlight() int {
	a := h.srv.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}

// refusedNow sends a request of class that gives up at once if it has to
// wait (its client is gone), so the outcome does not depend on timing.
func (h *holdingServer) refusedNow(t *testing.T, class healthcode.WorkClass) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := make(chan *httptest.ResponseRecorder, 1)
	h.wg.Go(func() { out <- h.do(classRequest(ctx, class)) })
	var w *httptest.ResponseRecorder
	select {
	case w = <-out:
	case <-h.entered:
		return false // admitted, and held until the test ends
	}
	checkCodedError(t, w, http.StatusServiceUnavailable, healthcode.EOVERLOADED, healthcode.ErrOverloaded.Message)
	if w.Header().Get("Retry-After") == "" {
		t.Error("an OVERLOADED answer without Retry-After")
	}
	return true
}

// With every slot that non-essential work may take in use, a ranking is
// refused with OVERLOADED while normal and essential work is still
// admitted; when the replica is full, a freed slot goes to the waiting
// essential request before the normal one that waited longer.
func TestAdmissionShedsNonEssentialFirst(t *testing.T) {
	t.Parallel()
	// Limit 4: non-essential work may fill 2 slots, normal 3, essential 4.
	h := newHoldingServer(t, AdmissionConfig{Limit: 4, MaxWait: time.Hour}, nil)
	h.hold(t, healthcode.ClassNonEssential)
	h.hold(t, healthcode.ClassNonEssential)
	if !h.refusedNow(t, healthcode.ClassNonEssential) {
		t.Fatal("a third non-essential request was admitted with 2 of 4 slots in use")
	}
	h.hold(t, healthcode.ClassNormal) // 3 in flight
	if !h.refusedNow(t, healthcode.ClassNormal) {
		t.Fatal("a normal request was admitted with 3 of 4 slots in use")
	}
	h.hold(t, healthcode.ClassEssential) // 4 in flight: full
	if !h.refusedNow(t, healthcode.ClassEssential) {
		t.Fatal("an essential request was admitted with every slot in use")
	}

	normal := h.queue(t, healthcode.ClassNormal)
	essential := h.queue(t, healthcode.ClassEssential)
	h.done(healthcode.ClassNonEssential) // a ranking ends: 3 in flight
	if got := <-h.entered; got != healthcode.ClassEssential {
		t.Fatalf("the freed slot went to %s, want the essential request", got)
	}
	if h.waiting(healthcode.ClassNormal) != 1 {
		t.Fatal("the normal request stopped waiting")
	}
	h.done(healthcode.ClassNonEssential)
	h.done(healthcode.ClassNormal) // two more end: 2 in flight, room for normal work
	if got := <-h.entered; got != healthcode.ClassNormal {
		t.Fatalf("entered: %s, want the waiting normal request", got)
	}
	h.done(healthcode.ClassNormal)
	h.done(healthcode.ClassEssential)
	h.done(healthcode.ClassEssential)
	for _, c := range []<-chan *httptest.ResponseRecorder{essential, normal} {
		if w := <-c; w.Code != http.StatusOK {
			t.Errorf("a queued request answered %d %s", w.Code, w.Body)
		}
	}
	metrics := scrape(t, h.srv.Metrics())
	for _, want := range []string{
		`admission_requests_total{class="non-essential",result="refused"} 1`,
		`admission_requests_total{class="essential",result="queued"} 1`,
		`admission_requests_total{class="normal",result="admitted"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(metrics, "admission_"))
		}
	}
}

// Logins have a limit of their own: with it reached, another login is
// refused while the replica still admits essential work, so a login flood
// cannot take more than LoginLimit password hashes' worth of memory.
func TestAdmissionBoundsLogins(t *testing.T) {
	t.Parallel()
	h := newHoldingServer(t, AdmissionConfig{Limit: 8, LoginLimit: 2, MaxWait: time.Hour}, nil)
	h.hold(t, healthcode.ClassLogin)
	h.hold(t, healthcode.ClassLogin)
	if !h.refusedNow(t, healthcode.ClassLogin) {
		t.Fatal("a third login was admitted with LoginLimit 2")
	}
	h.hold(t, healthcode.ClassEssential)
	login := h.queue(t, healthcode.ClassLogin)
	h.done(healthcode.ClassEssential)
	waitUntil(t, "two requests in flight", func() bool { return h.inFlight() == 2 })
	if h.waiting(healthcode.ClassLogin) != 1 {
		t.Fatal("a login was admitted when a non-login request ended")
	}
	h.done(healthcode.ClassLogin)
	if got := <-h.entered; got != healthcode.ClassLogin {
		t.Fatalf("entered: %s, want the waiting login", got)
	}
	h.done(healthcode.ClassLogin)
	h.done(healthcode.ClassLogin)
	if w := <-login; w.Code != http.StatusOK {
		t.Errorf("the queued login answered %d", w.Code)
	}
}

// Static files (class "") and the ops endpoints bypass admission control:
// with every slot taken, /healthz, /readyz and the web front end answer.
func TestAdmissionBypass(t *testing.T) {
	t.Parallel()
	h := newHoldingServer(t, AdmissionConfig{Limit: 1, MaxWait: time.Hour}, func(c *Config) {
		c.ReadyChecks = map[string]func(context.Context) error{"postgres": func(context.Context) error { return nil }}
	})
	h.hold(t, healthcode.ClassEssential)
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		if w := h.do(httptest.NewRequest(http.MethodGet, path, nil)); w.Code != http.StatusOK {
			t.Errorf("GET %s with the replica full = %d %s", path, w.Code, w.Body)
		}
	}
}

// /readyz reuses the outcome of its checks for ReadyCacheTTL, so probes
// under load cost one ping a second.
func TestReadyzCachesChecks(t *testing.T) {
	t.Parallel()
	var pings atomic.Int32
	b := setup(t, func(c *Config) {
		c.ReadyChecks = map[string]func(context.Context) error{
			"postgres": func(context.Context) error { pings.Add(1); return nil },
		}
	})
	now := time.Date(2022, 1, 4, 10, 0, 0, 0, time.UTC)
	b.srv.ready.now = func() time.Time { return now }
	for range 3 {
		if w := b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil)); w.Code != http.StatusOK {
			t.Fatalf("readyz = %d %s", w.Code, w.Body)
		}
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("3 probes within %s ran the check %d times, want 1", ReadyCacheTTL, n)
	}
	now = now.Add(ReadyCacheTTL)
	b.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if n := pings.Load(); n != 2 {
		t.Errorf("a probe %s later ran the check %d times in all, want 2", ReadyCacheTTL, n)
	}
}

// /readyz means "can serve": busy shedding non-essential work, or refusing
// some essential requests, it is ready; refusing more than four in five
// essential requests it is not (saturated),
// and it is ready again once that has passed.
func TestReadyzSaturated(t *testing.T) {
	t.Parallel()
	now := time.Date(2022, 1, 4, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHoldingServer(t, AdmissionConfig{Limit: 2, MaxWait: time.Hour, Now: clock}, nil)
	readyz := func() (int, string) {
		w := h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body readyResponse
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body.Status
	}
	h.hold(t, healthcode.ClassNonEssential)
	h.refusedNow(t, healthcode.ClassNonEssential)
	if code, status := readyz(); code != http.StatusOK {
		t.Fatalf("shedding non-essential work only: readyz = %d %s, want 200", code, status)
	}
	h.hold(t, healthcode.ClassEssential) // full
	for range 4 {
		h.refusedNow(t, healthcode.ClassEssential)
	}
	if code, status := readyz(); code != http.StatusOK {
		t.Fatalf("4 essential requests refused, 1 admitted: readyz = %d %s, want 200 (busy, not saturated)", code, status)
	}
	h.refusedNow(t, healthcode.ClassEssential)
	if code, status := readyz(); code != http.StatusServiceUnavailable || status != "saturated" {
		t.Fatalf("5 essential requests refused, 1 admitted: readyz = %d %s, want 503 saturated", code, status)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if code, status := readyz(); code != http.StatusOK {
		t.Fatalf("2 s later: readyz = %d %s, want 200", code, status)
	}
}

// Without Config.Admission nothing is refused.
func TestAdmissionOff(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if b.srv.admission != nil {
		t.Fatal("admission control on without Config.Admission")
	}
	if w := b.do(classRequest(context.Background(), healthcode.ClassNonEssential)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
}

// waitUntil polls cond every millisecond until it holds, and fails the test
// after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
