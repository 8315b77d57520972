package server

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// ReadyCheckTimeout bounds each readiness check.
const ReadyCheckTimeout = 2 * time.Second

// readyResponse is the body of GET /readyz. Checks maps each check name to
// "ok", "timeout" or "unavailable"; the cause is logged, never returned.
type readyResponse struct {
	Status  string            `json:"status"`
	Message string            `json:"message,omitempty"`
	Checks  map[string]string `json:"checks"`
}

// serveHealthz answers liveness probes: the process is up and serving.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// ReadyCacheTTL is how long /readyz reuses the outcome of its checks, so that
// probes under load (from several load balancers, every second) cost one
// round trip to each dependency per second at most.
const ReadyCacheTTL = time.Second

// readyCache holds the last outcome of the ready checks. Probes that come
// while the checks run wait for them instead of running their own.
type readyCache struct {
	mu     sync.Mutex
	at     time.Time
	checks map[string]string
	now    func() time.Time // time.Now unless a test sets it
}

// serveReadyz answers 200 when the replica can serve: every ready check
// passes (run concurrently, the outcome cached for ReadyCacheTTL), it is not
// draining, and admission control is not refusing most essential requests
// (saturated). It answers 503 otherwise. It bypasses admission control and
// does no other work, so it stays responsive under load.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	resp := readyResponse{Status: "ok", Checks: s.readyChecks(r)}
	status := http.StatusOK
	var failed []string
	for name, result := range resp.Checks {
		if result != "ok" {
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		status = http.StatusServiceUnavailable
		resp.Status = "unavailable"
		resp.Message = "依赖服务不可用：" + strings.Join(failed, "、")
	} else if s.admission != nil && s.admission.saturated() {
		status = http.StatusServiceUnavailable
		resp.Status = "saturated"
		resp.Message = "服务繁忙：多数必要请求被拒绝"
	}
	if s.draining.Load() {
		status = http.StatusServiceUnavailable
		resp.Status = "unavailable"
		resp.Message = "服务正在停止"
	}
	writeJSON(w, status, resp)
}

// readyChecks returns the outcome of every ready check, from the cache when
// it is younger than ReadyCacheTTL.
func (s *Server) readyChecks(r *http.Request) map[string]string {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if c.checks != nil && now().Sub(c.at) < ReadyCacheTTL {
		return maps.Clone(c.checks)
	}
	checks := make(map[string]string, len(s.cfg.ReadyChecks))
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for name, check := range s.cfg.ReadyChecks {
		wg.Go(func() {
			// Not the request's context: the outcome serves the next probes too.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), ReadyCheckTimeout)
			defer cancel()
			err := runCheck(ctx, check)
			result := "ok"
			if err != nil {
				result = "unavailable"
				if ctx.Err() != nil {
					result = "timeout"
				}
				s.log.LogAttrs(r.Context(), slog.LevelWarn, "ready check failed",
					slog.String("check", name),
					slog.String("request_id", r.Header.Get(requestIDHeader)),
					slog.String("error", err.Error()),
				)
			}
			mu.Lock()
			checks[name] = result
			mu.Unlock()
		})
	}
	wg.Wait()
	c.checks, c.at = checks, now()
	return maps.Clone(checks)
}

// runCheck runs check but returns when ctx is done even if check ignores it.
func runCheck(ctx context.Context, check func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- errPanicked
			}
		}()
		done <- check(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

type checkError string

func (e checkError) Error() string { return string(e) }

const errPanicked = checkError("ready check panicked")
