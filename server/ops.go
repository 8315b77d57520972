package server

import (
	"context"
	"log/slog"
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

// serveReadyz runs every ready check concurrently and answers 200 when all
// pass, 503 otherwise (and always while shutting down).
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	resp := readyResponse{Status: "ok", Checks: make(map[string]string, len(s.cfg.ReadyChecks))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for name, check := range s.cfg.ReadyChecks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyCheckTimeout)
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
			resp.Checks[name] = result
			mu.Unlock()
		})
	}
	wg.Wait()

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
	}
	if s.draining.Load() {
		status = http.StatusServiceUnavailable
		resp.Status = "unavailable"
		resp.Message = "服务正在停止"
	}
	writeJSON(w, status, resp)
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
