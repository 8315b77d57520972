package server

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"healthcode"
)

// AdmissionConfig configures admission control: a bound on the requests a
// replica works on at once, shared by the classes of work
// (healthcode.WorkClass) so that above saturation the least important work is
// refused first, with a coded OVERLOADED error (503, Retry-After), instead of
// every request queueing until it times out. A zero field takes its default.
type AdmissionConfig struct {
	// Limit is how many requests may be in flight at once over all classes
	// (ADMISSION_LIMIT; default DefaultAdmissionLimit). Essential work may
	// fill all of it, normal work three quarters, non-essential work half:
	// the rest is kept for the classes above.
	Limit int
	// LoginLimit is how many logins may be in flight at once
	// (ADMISSION_LOGIN_LIMIT; default GOMAXPROCS): a password hash costs
	// tens of MiB and a CPU, so this bounds the memory of a login flood.
	LoginLimit int
	// MaxWait is how long an essential request or a login may wait for a
	// slot before it is refused (ADMISSION_MAX_WAIT; default 500 ms); normal
	// work waits half of it and non-essential work never waits.
	MaxWait time.Duration
	// QueueLimit is how many requests of one class may wait at once
	// (default Limit); a request beyond it is refused at once.
	QueueLimit int
	// Classify gives the class of a request; "" lets it bypass admission
	// control (static files, key sets). Nil: every request is normal. The
	// ops endpoints (/healthz, /readyz) and websocket upgrades always bypass
	// it; /metrics has a listener of its own (MetricsAddr).
	Classify func(r *http.Request) healthcode.WorkClass
	// Now is the clock of the saturation window (default time.Now); tests
	// set it.
	Now func() time.Time
}

// DefaultAdmissionLimit is the default AdmissionConfig.Limit: eight requests
// per CPU, enough to keep the CPUs and the database pool busy while
// requests wait on each other, few enough that none waits long.
func DefaultAdmissionLimit() int { return 8 * runtime.GOMAXPROCS(0) }

// msgOverloaded is the message of a refused request, for residents.
var msgOverloaded = healthcode.ErrOverloaded.Message

// admission is the state of admission control: the requests in flight, the
// queues of waiting requests per class, and the essential outcomes of the
// last two seconds for /readyz.
type admission struct {
	cfg     AdmissionConfig
	metrics *Metrics

	mu       sync.Mutex
	inFlight int
	logins   int
	queues   map[healthcode.WorkClass][]*waiter
	// The essential requests admitted and refused in the current and the
	// previous second (window = the Unix second of the current one).
	window            int64
	admitted, refused [2]int
}

// waiter is a request waiting for a slot; granted is set, under the lock,
// when a finishing request hands its slot over.
type waiter struct {
	ready   chan struct{}
	granted bool
}

func newAdmission(cfg AdmissionConfig, m *Metrics) *admission {
	if cfg.Limit <= 0 {
		cfg.Limit = DefaultAdmissionLimit()
	}
	if cfg.LoginLimit <= 0 {
		cfg.LoginLimit = runtime.GOMAXPROCS(0)
	}
	cfg.LoginLimit = min(cfg.LoginLimit, cfg.Limit)
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = cfg.Limit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &admission{cfg: cfg, metrics: m, queues: make(map[healthcode.WorkClass][]*waiter)}
}

// capacity is how many requests in flight a class may find and still be
// admitted: all of Limit for essential work and logins, three quarters for
// normal work, half for non-essential work (at least one each).
func (a *admission) capacity(c healthcode.WorkClass) int {
	switch c {
	case healthcode.ClassEssential, healthcode.ClassLogin:
		return a.cfg.Limit
	case healthcode.ClassNonEssential:
		return max(1, a.cfg.Limit/2)
	}
	return max(1, a.cfg.Limit*3/4)
}

// wait is how long a request of class c may wait for a slot.
func (a *admission) wait(c healthcode.WorkClass) time.Duration {
	switch c {
	case healthcode.ClassEssential, healthcode.ClassLogin:
		return a.cfg.MaxWait
	case healthcode.ClassNonEssential:
		return 0
	}
	return a.cfg.MaxWait / 2
}

// fits reports whether a request of class c may start now. Called with mu held.
func (a *admission) fits(c healthcode.WorkClass) bool {
	if c == healthcode.ClassLogin && a.logins >= a.cfg.LoginLimit {
		return false
	}
	return a.inFlight < a.capacity(c)
}

// take counts a started request of class c. Called with mu held.
func (a *admission) take(c healthcode.WorkClass) {
	a.inFlight++
	if c == healthcode.ClassLogin {
		a.logins++
	}
}

// acquire admits a request of class c, waiting up to its class's wait for a
// slot, and reports whether it was admitted; an admitted request must call
// release. done ends the wait early (the client went away).
func (a *admission) acquire(c healthcode.WorkClass, done <-chan struct{}) bool {
	a.mu.Lock()
	if len(a.queues[c]) == 0 && a.fits(c) {
		a.take(c)
		a.count(c, true)
		a.mu.Unlock()
		a.metrics.observeAdmission(c, "admitted")
		return true
	}
	d := a.wait(c)
	if d <= 0 || len(a.queues[c]) >= a.cfg.QueueLimit {
		a.count(c, false)
		a.mu.Unlock()
		a.metrics.observeAdmission(c, "refused")
		return false
	}
	w := &waiter{ready: make(chan struct{})}
	a.queues[c] = append(a.queues[c], w)
	a.mu.Unlock()

	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-w.ready:
	case <-timer.C:
	case <-done:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !w.granted {
		q := a.queues[c]
		for i, x := range q {
			if x == w {
				a.queues[c] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		a.count(c, false)
		a.metrics.observeAdmission(c, "refused")
		return false
	}
	a.count(c, true)
	a.metrics.observeAdmission(c, "queued")
	return true
}

// release ends a request of class c and hands free slots to the waiting
// requests, the most important class first, first come first served within
// a class.
func (a *admission) release(c healthcode.WorkClass) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if c == healthcode.ClassLogin {
		a.logins--
	}
	for _, class := range healthcode.WorkClasses {
		for len(a.queues[class]) > 0 && a.fits(class) {
			w := a.queues[class][0]
			a.queues[class] = a.queues[class][1:]
			a.take(class)
			w.granted = true
			close(w.ready)
		}
	}
}

// count records the outcome of an essential request in the saturation
// window. Called with mu held.
func (a *admission) count(c healthcode.WorkClass, admitted bool) {
	if c != healthcode.ClassEssential {
		return
	}
	a.roll()
	if admitted {
		a.admitted[0]++
	} else {
		a.refused[0]++
	}
}

// roll moves the window to the current second. Called with mu held.
func (a *admission) roll() {
	now := a.cfg.Now().Unix()
	switch {
	case now == a.window:
	case now == a.window+1:
		a.admitted = [2]int{0, a.admitted[0]}
		a.refused = [2]int{0, a.refused[0]}
	default:
		a.admitted, a.refused = [2]int{}, [2]int{}
	}
	a.window = now
}

// saturated reports whether the replica refused more than four in five of
// the essential requests of the last one to two seconds: it cannot serve
// what it is for, and /readyz says so. Shedding other work, being busy, or
// refusing some of the code page in a surge is not saturation: a load
// balancer that pulled every replica refusing some requests would pull them
// all at once.
func (a *admission) saturated() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roll()
	refused := a.refused[0] + a.refused[1]
	return refused > 0 && refused > 4*(a.admitted[0]+a.admitted[1])
}

// admit is the admission-control middleware: it classifies each request
// (AdmissionConfig.Classify), admits it when its class has room, lets it
// wait briefly otherwise, and answers OVERLOADED (503, Retry-After) when it
// cannot start in time. It runs before authentication, so a refused request
// costs no database work. Without Config.Admission it passes everything on.
func (s *Server) admit(next http.Handler) http.Handler {
	if s.admission == nil {
		return next
	}
	a := s.admission
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz":
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // a subscription: long-lived, not a unit of work
			return
		}
		class := healthcode.ClassNormal
		if a.cfg.Classify != nil {
			class = a.cfg.Classify(r)
		}
		if class == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !a.acquire(class, r.Context().Done()) {
			s.log.DebugContext(r.Context(), "request refused by admission control", "class", string(class),
				"request_id", r.Header.Get(requestIDHeader))
			respondError(w, r, s.log, "admit request", healthcode.ErrOverloaded)
			return
		}
		defer a.release(class)
		next.ServeHTTP(w, r)
	})
}
