package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// PostGraphile installs PostGraphile 4 with npm into a temporary folder and
// runs it against databaseURL (the given schema) on a loopback port. The
// platform's public schema is not servable as it is (PostGraphile stops on
// naming conflicts of its relations): the benchmark gives it a schema of
// its own with a view of the table it reads. It returns
// the GraphQL URL and a stop function that ends the process and removes the
// folder, or an error saying why it could not (no npm, npm unreachable, the
// server did not start) — the benchmark then reports the row as unavailable.
func PostGraphile(ctx context.Context, databaseURL, schema string, logf func(string, ...any)) (url string, stop func(), err error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", nil, errors.New("npm is not installed")
	}
	dir, err := os.MkdirTemp("", "hc-postgraphile-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	ictx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	install := exec.CommandContext(ictx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "postgraphile@4")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("npm install postgraphile@4 failed (unreachable?): %v: %s", err, truncate(string(out), 300))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "postgraphile"), "-c", databaseURL, "-s", schema,
		"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--disable-query-log", "--disable-graphiql")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logb syncBuilder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		cleanup()
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-exited
		cleanup()
	}
	url = fmt.Sprintf("http://127.0.0.1:%d/graphql", port)
	told := false
	deadline := time.Now().Add(3 * time.Minute) // schema introspection is slow on a loaded machine
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			cleanup()
			return "", nil, fmt.Errorf("postgraphile exited: %s", truncate(logb.String(), 600))
		default:
		}
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
		if err != nil && logf != nil && !told && strings.Contains(logb.String(), "listening") {
			logf("PostGraphile listening but not answering yet: %v", err)
			told = true
		}
		if err == nil {
			resp.Body.Close()
			{ // listening: the benchmark's warm-up tells whether it answers
				if v, err := exec.Command(filepath.Join(dir, "node_modules", ".bin", "postgraphile"), "--version").Output(); err == nil && logf != nil {
					logf("PostGraphile %s", strings.TrimSpace(string(v)))
				}
				return url, stop, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("postgraphile did not start: %s", truncate(logb.String(), 300))
}

// syncBuilder is a strings.Builder written by a child process's output
// copiers and read by the readiness loop.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
