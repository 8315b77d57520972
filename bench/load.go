// Package bench holds what `make bench` needs besides the Go benchmarks of
// the packages: a bounded HTTP load driver for loopback servers, the
// "ceiling" of the code page (a minimal net/http handler doing the same
// session lookup, code read and signing), PostGraphile 4 as the peer, and the
// table printer (bench/benchtable). Only benchmarks and `make bench` use it.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Request is one request of a load: a POST of Body to the load's URL with
// a bearer Token ("" for none).
type Request struct {
	Token string
	Body  []byte
}

// Result is what a load measured.
type Result struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	// FirstError is the first failed response (status and body start).
	FirstError string
}

// Rate is the rate of successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// Drive posts reqs (round robin) to url from conns connections for d and
// returns the rate and latencies. A response fails when its status is not
// 200 or its body holds `"errors"` (a GraphQL error). It is bounded by d
// and by ctx.
func Drive(ctx context.Context, url string, reqs []Request, conns int, d time.Duration) Result {
	seqs := make([][]Request, len(reqs))
	for i, r := range reqs {
		seqs[i] = []Request{r}
	}
	return DriveSeq(ctx, url, seqs, conns, d)
}

// DriveSeq is Drive for sequences of requests: each call posts one sequence
// (round robin) in order, and counts as one (what a page sends when it
// opens); it fails at the sequence's first failed request.
func DriveSeq(ctx context.Context, url string, seqs [][]Request, conns int, d time.Duration) Result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return DriveFunc(ctx, conns, d, func(ctx context.Context, i int) error {
		for _, r := range seqs[i%len(seqs)] {
			if err := Post(ctx, client, url, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Post sends one request with client; an error for a status other than 200
// or a body holding `"errors"`.
func Post(ctx context.Context, client *http.Client, url string, r Request) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
		return fmt.Errorf("%d %s", resp.StatusCode, truncate(string(b), 300))
	}
	return nil
}

// DriveFunc calls do from conns goroutines for d (i counts the calls of
// each goroutine's share: c, c+conns, …) and returns the rate of calls that
// returned nil and the latencies of all. A call cut short by the end of the
// load is not counted.
func DriveFunc(ctx context.Context, conns int, d time.Duration, do func(ctx context.Context, i int) error) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		res       Result
		wg        sync.WaitGroup
	)
	start := time.Now()
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs, firstErr := 0, ""
			for i := c; ctx.Err() == nil; i += conns {
				t0 := time.Now()
				err := do(ctx, i)
				if err != nil && ctx.Err() != nil {
					break // the load's end, not a failure
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, lat...)
			res.Errors += errs
			if res.FirstError == "" {
				res.FirstError = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(latencies)
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.P50 = latencies[n*50/100]
		res.P99 = latencies[min(n-1, n*99/100)]
	}
	return res
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Median returns the result of median rate among rounds (for an odd number
// of rounds, one of them).
func Median(rounds []Result) Result {
	if len(rounds) == 0 {
		return Result{}
	}
	s := slices.Clone(rounds)
	slices.SortFunc(s, func(a, b Result) int {
		switch {
		case a.Rate() < b.Rate():
			return -1
		case a.Rate() > b.Rate():
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// Serve serves h on a loopback port until ctx ends and returns its base URL.
func Serve(ctx context.Context, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), nil
}

// DriveAll calls do(i) for i in [0, n) from conns goroutines and returns
// the rate of the calls that returned nil and the latencies of all.
func DriveAll(ctx context.Context, conns, n int, do func(ctx context.Context, i int) error) Result {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		res       Result
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				err := do(ctx, i)
				d := time.Since(t0)
				mu.Lock()
				latencies = append(latencies, d)
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(latencies)
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		res.P50 = latencies[n*50/100]
		res.P99 = latencies[min(n-1, n*99/100)]
	}
	return res
}

// LoadSpec is a load for a generator process (DriveProcess): what DriveSeq
// takes, and the file its Result goes to.
type LoadSpec struct {
	URL      string
	Seqs     [][]Request
	Conns    int
	Duration time.Duration
	Out      string
}

// LoadSpecEnv names the file of a LoadSpec in a generator process's
// environment.
const LoadSpecEnv = "HC_BENCH_LOADGEN"

// DriveProcess is DriveSeq in a process of its own: it runs generator (the
// test binary, which runs RunLoadSpec when LoadSpecEnv is set) with the
// load in a temporary file and reads back its Result. A server in the
// benchmark's process then shares its process with no client, as a server
// measured in another process (the peer) does. Errors: the process or its
// files failed.
func DriveProcess(ctx context.Context, generator []string, url string, seqs [][]Request, conns int, d time.Duration) (Result, error) {
	dir, err := os.MkdirTemp("", "hc-loadgen-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	spec := LoadSpec{URL: url, Seqs: seqs, Conns: conns, Duration: d, Out: filepath.Join(dir, "result.json")}
	b, err := json.Marshal(spec)
	if err != nil {
		return Result{}, err
	}
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, b, 0o600); err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, generator[0], generator[1:]...)
	cmd.Env = append(os.Environ(), LoadSpecEnv+"="+specFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("load generator: %w: %s", err, truncate(string(out), 500))
	}
	b, err = os.ReadFile(spec.Out)
	if err != nil {
		return Result{}, fmt.Errorf("load generator: %w", err)
	}
	var r Result
	return r, json.Unmarshal(b, &r)
}

// RunLoadSpec runs the load of the LoadSpec file named by LoadSpecEnv and
// writes its Result: the generator process's side of DriveProcess.
func RunLoadSpec(ctx context.Context) error {
	b, err := os.ReadFile(os.Getenv(LoadSpecEnv))
	if err != nil {
		return err
	}
	var spec LoadSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	r := DriveSeq(ctx, spec.URL, spec.Seqs, spec.Conns, spec.Duration)
	if b, err = json.Marshal(r); err != nil {
		return err
	}
	return os.WriteFile(spec.Out, b, 0o600)
}
