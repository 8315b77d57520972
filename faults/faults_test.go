//go:build faults

package faults_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/demo"
	"healthcode/graph/apitest"
	"healthcode/postgres"
	"healthcode/workers"
)

// TestFaults runs the scenarios in order on one platform: two serve
// replicas and two workers outside dev mode, Population persons.
func TestFaults(t *testing.T) {
	h := newHarness(t)
	began := time.Now()
	n, err := demo.SeedSynthetic(h.ctx, h.db, Population, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("setup: %d synthetic persons in %s", n, time.Since(began).Round(time.Millisecond))

	_, officer := h.api.CreateStaff(t, "fault_officer", "61", apitest.G("HEALTH_OFFICER@61"))
	_, admin := h.api.CreateStaff(t, "fault_admin", "61", apitest.G("ADMIN@61"))
	_, second := h.api.CreateStaff(t, "fault_second", "61", apitest.G("HEALTH_OFFICER@61"))
	s := &scenarios{h: h, officer: officer, admin: admin, second: second}
	s.workersStarted = time.Now()
	s.serve1 = h.start("serve1", "serve")
	s.serve2 = h.start("serve2", "serve")
	s.worker1 = h.start("worker1", "worker")
	s.worker2 = h.start("worker2", "worker")

	t.Run("two replicas and two workers behave as one", s.twoReplicas)
	t.Run("worker killed mid-batch and mid-SMS", s.workerKilled)
	t.Run("redis killed and restarted empty", s.redisLost)
	t.Run("postgres restarted and stopped for 20 s", s.postgresOutage)
	t.Run("sigterm of serve and worker", s.sigterm)
	t.Run("sms throughput against gateway latency", s.smsThroughput)
	t.Run("periodic slots missed while no worker ran", s.periodicCatchUp)
	t.Logf("fault tests took %s", time.Since(began).Round(time.Second))
}

type scenarios struct {
	h                *harness
	officer, admin   string
	second           string // the second health officer, who approves HIGH designations
	serve1, serve2   *proc
	worker1, worker2 *proc
	restarts         int
	workersStarted   time.Time
}

// restart starts a new worker in place of p (as a supervisor would).
func (s *scenarios) restart(p *proc, env ...string) *proc {
	s.restarts++
	name := strings.SplitN(p.name, "-", 2)[0]
	return s.h.start(fmt.Sprintf("%s-%d", name, s.restarts), "worker", env...)
}

// designate sets the risk level of region through serve replica 1.
func (s *scenarios) designate(region, level string) {
	s.h.t.Helper()
	d := s.h.mustRetry(s.serve1.addr, s.officer, `mutation($r: String!, $l: RiskLevel!) { setAreaRisk(region: $r, level: $l, reason: "故障演练") { id requestId } }`,
		map[string]any{"r": region, "l": level})
	req := d["setAreaRisk"].(map[string]any)["requestId"]
	if req == nil {
		return
	}
	// HIGH (or lowering one) waits for a second officer (docs/security-colour.md);
	// an approval retried after it committed answers CONFLICT.
	deadline := time.Now().Add(time.Minute)
	for {
		r := gql(s.serve1.addr, s.second, `mutation($id: ID!) { approveColourRequest(id: $id) { status } }`, map[string]any{"id": req})
		if r.Err == nil && r.Status == http.StatusOK && (r.Code == "" || r.Code == "CONFLICT") {
			return
		}
		if time.Now().After(deadline) {
			s.h.t.Fatalf("approve designation of %s: status %d code %s err %v", region, r.Status, r.Code, r.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leased returns the unfinished outbox rows of taskType that p holds.
func (s *scenarios) leased(p *proc, taskType string) []int64 {
	rows, err := s.h.db.Pool.Query(s.h.ctx, `SELECT id FROM outbox WHERE task_type = $1 AND done_at IS NULL
		AND lease_until > clock_timestamp() AND lease_owner LIKE $2`, taskType, fmt.Sprintf("%%:%d:%%", p.pid()))
	if err != nil {
		return nil
	}
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids
}

// A worker killed (kill -9) while it re-evaluates a batch, and another while
// it sends SMS: their tasks are taken over once their leases run out, every
// code ends as a fresh evaluation gives it, every SMS is delivered once.
func (s *scenarios) workerKilled(t *testing.T) {
	h := s.h
	h.t = t
	m := h.smsMark()
	s.designate("61", "HIGH")
	inFlight := 0

	// Kill whichever worker runs a batch first, then whichever sends SMS.
	for _, phase := range []struct{ what, taskType string }{
		{"mid-batch", healthcode.TaskReevaluateBatch}, {"mid-SMS", healthcode.TaskNotifySMS},
	} {
		var victim **proc
		var held []int64
		h.waitFast("a worker running "+phase.taskType, 2*time.Minute, func() bool {
			for _, p := range []**proc{&s.worker1, &s.worker2} {
				if held = s.leased(*p, phase.taskType); len(held) > 0 {
					victim = p
					return true
				}
			}
			return false
		})
		owner := fmt.Sprintf("%%:%d:%%", (*victim).pid())
		h.signal(*victim, syscall.SIGKILL, 10*time.Second)
		*victim = s.restart(*victim)
		takeover := h.waitUntil("the killed worker's tasks taken over", 2*time.Minute, func() bool {
			return h.count(`SELECT count(*) FROM outbox WHERE id = ANY($1) AND done_at IS NULL
				AND (lease_owner IS NULL OR lease_owner LIKE $2)`, held, owner) == 0
		})
		t.Logf("kill -9 %s: the killed worker's %d %s tasks taken over %s after the kill (lease %s, relay poll 2 s)",
			phase.what, len(held), phase.taskType, takeover.Round(100*time.Millisecond), workers.DefaultLease)
		if phase.taskType == healthcode.TaskNotifySMS {
			inFlight = len(held)
		}
	}

	settled := h.settle(4 * time.Minute)
	t.Logf("settled %s later (the designation's late pass runs a minute after it)", settled.Round(time.Second))
	h.checkCodes("kill -9")
	msgs, repeats := h.checkSMS("kill -9", m)
	t.Logf("kill -9: %d SMS delivered exactly once; %d requests repeated a key the gateway had delivered (dropped by it; at most the %d in flight at the kill)",
		msgs, repeats, inFlight)
	if msgs == 0 {
		t.Error("the designation sent no SMS: the scenario tested nothing")
	}
	if repeats > inFlight {
		t.Errorf("%d repeated requests, more than the %d messages in flight at the kill", repeats, inFlight)
	}
}

// Redis killed (kill -9) with re-evaluation batches and SMS queued, down for
// 20 s and restarted empty: the outbox hands the lost tasks over again.
func (s *scenarios) redisLost(t *testing.T) {
	h := s.h
	h.t = t
	// One task at a time per worker, so that work waits in the queue.
	for _, p := range []**proc{&s.worker1, &s.worker2} {
		h.signal(*p, syscall.SIGTERM, 30*time.Second)
		*p = s.restart(*p, "WORKER_CONCURRENCY=1")
	}
	m := h.smsMark()
	s.designate("61", "LOW")
	queued := func(taskType string) int {
		return h.count(`SELECT count(*) FROM outbox WHERE task_type = $1 AND id > $2 AND sent_at IS NOT NULL
			AND done_at IS NULL AND lease_owner IS NULL`, taskType, m.outbox)
	}
	var batches, sms int
	begin := time.Now()
	h.waitUntil("batches and SMS waiting in the queue", 2*time.Minute, func() bool {
		batches, sms = queued(healthcode.TaskReevaluateBatch), queued(healthcode.TaskNotifySMS)
		return (batches > 0 && sms >= 50) || (time.Since(begin) > 20*time.Second && batches+sms >= 50)
	})
	if err := h.env.KillRedis(); err != nil {
		t.Fatal(err)
	}
	t.Logf("redis killed with %d re-evaluation batches and %d SMS queued in it", batches, sms)
	time.Sleep(20 * time.Second)
	if err := h.env.StartRedis(h.ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	settled := h.settle(5 * time.Minute)
	var requeued time.Duration
	for _, p := range []*proc{s.worker1, s.worker2} {
		for _, line := range logLines(p, "the queue lost its content") {
			var entry struct {
				Time  time.Time `json:"time"`
				Tasks int       `json:"tasks"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Time.After(restarted.Add(-time.Second)) {
				requeued = max(entry.Time.Sub(restarted), time.Millisecond)
				t.Logf("redis back empty after 20 s: %s noticed it within %s of Redis answering and handed %d tasks over again",
					p.name, requeued.Round(100*time.Millisecond)+100*time.Millisecond, entry.Tasks)
			}
		}
	}
	if requeued == 0 {
		t.Error("no relay noticed that the queue lost its content")
	}
	t.Logf("redis back empty after 20 s: the outbox finished its work %s later", settled.Round(time.Second))
	h.checkCodes("redis lost")
	msgs, repeats := h.checkSMS("redis lost", m)
	t.Logf("redis lost: %d SMS delivered exactly once (%d repeated requests dropped by the gateway)", msgs, repeats)
	for _, p := range []**proc{&s.worker1, &s.worker2} {
		h.signal(*p, syscall.SIGTERM, 30*time.Second)
		*p = s.restart(*p)
	}
}

// PostgreSQL restarted, then stopped for 20 s, under load on both replicas:
// the API answers 503 UNAVAILABLE with Retry-After (never 500), a grant
// revoked on replica 1 right after the outage is never honoured on replica
// 2, and a ticket subscriber on replica 2 receives every event.
func (s *scenarios) postgresOutage(t *testing.T) {
	h := s.h
	h.t = t
	// A county with persons, its handling unit, its handler subscribed on
	// replica 2, an operator, and tickets dispatched to the unit.
	var county string
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT left(residence_code, 6) c FROM persons GROUP BY c ORDER BY count(*) DESC LIMIT 1`).
		Scan(&county); err != nil {
		t.Fatal(err)
	}
	_, countyAdmin := h.api.CreateStaff(t, "fault_county_admin", county, apitest.G("ADMIN@"+county))
	_, handler := h.api.CreateStaff(t, "fault_handler", county, apitest.G("HANDLER@"+county))
	_, operator := h.api.CreateStaff(t, "fault_operator", "61", apitest.G("OPERATOR@61"))
	revokedID, revoked := h.api.CreateStaff(t, "fault_revoked", county, apitest.G("ADMIN@"+county))
	// The replicas learn of these accounts' grants.
	if _, err := h.db.Pool.Exec(h.ctx, "SELECT pg_notify('grants_changed', '')"); err != nil {
		t.Fatal(err)
	}
	h.mustRetry(s.serve1.addr, countyAdmin, `mutation($r: String!) { createHandlingUnit(region: $r, name: "故障演练承办单位") { id } }`,
		map[string]any{"r": county})
	sub := h.subscribe(s.serve2.addr, handler)
	rows, err := h.db.Pool.Query(h.ctx, `SELECT id FROM persons WHERE residence_code LIKE $1 || '%' ORDER BY id LIMIT 8`, county)
	if err != nil {
		t.Fatal(err)
	}
	persons, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	var tickets []string
	for _, p := range persons {
		d := h.mustRetry(s.serve1.addr, operator, `mutation($p: ID!) { createTicket(input: {kind: COMPLAINT, personId: $p, subject: "故障演练", description: "故障演练工单"}) { id } }`,
			map[string]any{"p": fmt.Sprint(p)})
		id := d["createTicket"].(map[string]any)["id"].(string)
		tickets = append(tickets, id)
		h.mustRetry(s.serve1.addr, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": id})
	}
	h.waitUntil("the subscriber on replica 2 to see the dispatches", 30*time.Second, func() bool {
		return len(sub.missing(tickets, "DISPATCHED")) == 0
	})
	check := `query($r: String!) { persons(region: $r, first: 1) { nodes { id } } }`
	h.mustRetry(s.serve2.addr, revoked, check, map[string]any{"r": county})

	// Load on both replicas for the whole phase.
	var (
		mu      sync.Mutex
		answers = map[string]int{}
		noRetry int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := []string{s.serve1.addr, s.serve2.addr}[i%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := gql(addr, s.admin, `{ me { __typename } }`, nil)
				key := fmt.Sprintf("%d %s", r.Status, r.Code)
				if r.Err != nil {
					key = "transport error"
				} else if r.Code == "" {
					key = fmt.Sprintf("%d ok", r.Status)
				}
				mu.Lock()
				answers[key]++
				if r.Status == http.StatusServiceUnavailable && r.RetryAfter == "" {
					noRetry++
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	backUp := func(what string) time.Duration {
		return h.waitUntil(what, time.Minute, func() bool {
			return gql(s.serve1.addr, s.admin, `{ me { __typename } }`, nil).Code == "" &&
				gql(s.serve2.addr, s.admin, `{ me { __typename } }`, nil).Code == ""
		})
	}

	// A restart.
	if err := h.env.StopPostgres(); err != nil {
		t.Fatal(err)
	}
	if err := h.env.StartPostgres(h.ctx, "healthcode"); err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres restart: both replicas answered again %s after it accepted connections", backUp("the replicas after the restart").Round(10*time.Millisecond))

	// An outage of 20 s.
	if err := h.env.StopPostgres(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Second)
	if err := h.env.StartPostgres(h.ctx, "healthcode"); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	// At once: the tickets signed on replica 1 (replica 2's listener may be
	// reconnecting), and a grant revoked on replica 1.
	var signWG sync.WaitGroup
	var signErr error
	signWG.Add(1)
	go func() {
		defer signWG.Done()
		for _, id := range tickets {
			if _, err := retry(s.serve1.addr, handler, `mutation($id: ID!) { signTicket(id: $id) { id } }`, map[string]any{"id": id}); err != nil {
				signErr = err
				return
			}
		}
	}()
	var grantID int64
	if err := h.db.Pool.QueryRow(h.ctx, "SELECT id FROM grants WHERE staff_id = $1", revokedID).Scan(&grantID); err != nil {
		// The in-process pool reconnects on its own; retry once it has.
		h.waitUntil("the database", time.Minute, func() bool {
			return h.db.Pool.QueryRow(h.ctx, "SELECT id FROM grants WHERE staff_id = $1", revokedID).Scan(&grantID) == nil
		})
	}
	h.mustRetry(s.serve1.addr, s.admin, `mutation($g: ID!) { revokeRole(grantId: $g) }`, map[string]any{"g": fmt.Sprint(grantID)})
	revokedAt := time.Now()
	var honoured, unavailable int
	var lag time.Duration
	for time.Since(revokedAt) < 30*time.Second {
		r := gql(s.serve2.addr, revoked, check, map[string]any{"r": county})
		if r.Err == nil && r.Status == http.StatusOK && r.Code == "" {
			honoured++
		}
		if r.Code == "UNAVAILABLE" {
			unavailable++
		}
		if r.Code == "FORBIDDEN" || r.Code == "NOT_FOUND" {
			lag = time.Since(revokedAt)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if lag == 0 {
		t.Error("replica 2 never refused the revoked grant")
	}
	if honoured > 0 {
		t.Errorf("replica 2 honoured a revoked grant %d times after the revocation", honoured)
	}
	t.Logf("revocation on replica 1 %s after the outage ended: refused on replica 2 %s later (%d requests honoured, %d answered UNAVAILABLE while its listener reconnected)",
		revokedAt.Sub(up).Round(10*time.Millisecond), lag.Round(time.Millisecond), honoured, unavailable)
	backUp("the replicas after the outage")
	t.Logf("postgres outage of 20 s: both replicas answered again %s after it ended", time.Since(up).Round(100*time.Millisecond))
	close(stop)
	wg.Wait()
	signWG.Wait()
	if signErr != nil {
		t.Fatal(signErr)
	}
	h.waitUntil("the subscriber on replica 2 to see every signature", 30*time.Second, func() bool {
		return len(sub.missing(tickets, "SIGNED")) == 0
	})
	t.Logf("ticket subscriber on replica 2: all %d events of the signatures made as the outage ended received", len(tickets))

	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var summary []string
	for _, k := range keys {
		summary = append(summary, fmt.Sprintf("%s: %d", k, answers[k]))
	}
	t.Logf("answers under load during the restart and the outage: %s", strings.Join(summary, ", "))
	if answers["500 INTERNAL"] > 0 || answers["200 INTERNAL"] > 0 {
		t.Errorf("INTERNAL answers during the outage: %v", answers)
	}
	if noRetry > 0 {
		t.Errorf("%d 503 answers without Retry-After", noRetry)
	}
	if answers["503 UNAVAILABLE"] == 0 {
		t.Error("no UNAVAILABLE answer during a 20 s outage")
	}
}

// SIGTERM of a serve replica: /readyz turns 503 while requests are still
// served for the drain period, then it stops. SIGTERM of a worker while it
// sends SMS: it waits for the calls in flight, and nothing is sent twice.
func (s *scenarios) sigterm(t *testing.T) {
	h := s.h
	h.t = t
	var (
		readyDown, lastServed atomic.Int64
		start                 = time.Now()
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &http.Client{Timeout: time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if resp, err := c.Get("http://" + s.serve2.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && readyDown.Load() == 0 {
					readyDown.Store(int64(time.Since(start)))
				}
			}
			if r := gql(s.serve2.addr, s.admin, `{ me { __typename } }`, nil); r.Err == nil && r.Code == "" {
				lastServed.Store(int64(time.Since(start)))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	sent := time.Since(start)
	err, took := h.signal(s.serve2, syscall.SIGTERM, 30*time.Second)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Errorf("serve exited with %v after SIGTERM", err)
	}
	down, last := time.Duration(readyDown.Load()), time.Duration(lastServed.Load())
	if down == 0 || down < sent || last < down {
		t.Errorf("SIGTERM at %s: /readyz 503 at %s, last request served at %s: want readiness to fail first", sent, down, last)
	}
	t.Logf("SIGTERM of serve: /readyz 503 after %s, requests still served for %s after that, exited after %s",
		(down - sent).Round(time.Millisecond), (last - down).Round(time.Millisecond), took.Round(time.Millisecond))
	s.serve2 = h.start("serve2-2", "serve")

	m := h.smsMark()
	s.designate("6101", "HIGH")
	var sending []int64
	h.waitUntil("SMS being sent by worker 1", 2*time.Minute, func() bool {
		sending = s.leased(s.worker1, healthcode.TaskNotifySMS)
		return len(sending) > 0
	})
	err, took = h.signal(s.worker1, syscall.SIGTERM, 30*time.Second)
	if err != nil {
		t.Errorf("worker exited with %v after SIGTERM", err)
	}
	t.Logf("SIGTERM of worker with %d SMS in flight: exited after %s", len(sending), took.Round(time.Millisecond))
	s.worker1 = s.restart(s.worker1)
	h.settle(4 * time.Minute)
	h.checkCodes("sigterm")
	msgs, repeats := h.checkSMS("sigterm", m)
	if repeats > 0 {
		t.Errorf("SIGTERM: %d SMS requests repeated", repeats)
	}
	t.Logf("SIGTERM of worker: %d SMS delivered exactly once, %d repeated requests", msgs, repeats)
}

// SMS throughput of one worker (concurrency 10, a pool of 4 connections)
// against a gateway answering in 100 ms: the calls hold no connection, so
// the rate is bounded by the concurrency, not by the pool (4 ÷ 0.1 s =
// 40 SMS/s before).
func (s *scenarios) smsThroughput(t *testing.T) {
	h := s.h
	h.t = t
	for _, p := range []**proc{&s.worker1, &s.worker2} {
		h.signal(*p, syscall.SIGTERM, 30*time.Second)
	}
	latency := 100 * time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("FAULTS_GATEWAY_LATENCY")); err == nil {
		latency = v // to measure other latencies by hand
	}
	h.gw.Latency = latency
	defer func() { h.gw.Latency = 20 * time.Millisecond }()
	const n = 400
	m := h.smsMark()
	if err := h.db.InTx(h.ctx, func(tx *postgres.Tx) error {
		for i := range n {
			if err := tx.QueueSMS(h.ctx, fmt.Sprintf("1390000%04d", i), "【陕西健康码】吞吐测试", ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := h.start("worker-throughput", "worker", "WORKER_CONCURRENCY=10", "DATABASE_URL="+h.env.DatabaseURL+"&pool_max_conns=4")
	took := h.waitUntil("the messages sent", 3*time.Minute, func() bool {
		return h.count(`SELECT count(*) FROM task_deliveries WHERE outbox_id > $1`, m.outbox) == n
	})
	rate := float64(n) / took.Seconds()
	bound := 4 / latency.Seconds()
	t.Logf("SMS throughput with a %s gateway: %.0f SMS/s (one worker, concurrency 10, pool of 4; bound by the pool: %.0f SMS/s)", latency, rate, bound)
	if rate <= bound {
		t.Errorf("%.0f SMS/s: still bound by the pool", rate)
	}
	h.checkSMS("throughput", m)
	h.signal(p, syscall.SIGTERM, 30*time.Second)
}

// Friday's periodic slots (08:00 weekly drafts, 17:00 rankings after the
// 16:00 report deadline) pass while no worker runs; a worker started at
// 17:30 on the dev clock catches them up.
func (s *scenarios) periodicCatchUp(t *testing.T) {
	h := s.h
	h.t = t
	loc := workers.Shanghai()
	now := time.Now().In(loc)
	friday := time.Date(now.Year(), now.Month(), now.Day(), 17, 30, 0, 0, loc).AddDate(0, 0, 1)
	for friday.Weekday() != time.Friday {
		friday = friday.AddDate(0, 0, 1)
	}
	if _, err := h.db.Pool.Exec(h.ctx, `INSERT INTO dev_clock (offset_us, moved_at) VALUES ($1, now())
		ON CONFLICT (id) DO UPDATE SET offset_us = EXCLUDED.offset_us, moved_at = EXCLUDED.moved_at`,
		time.Until(friday).Microseconds()); err != nil {
		t.Fatal(err)
	}
	at := func(hour int) time.Time {
		return time.Date(friday.Year(), friday.Month(), friday.Day(), hour, 0, 0, 0, loc)
	}
	p := h.start("worker-friday", "worker", "HEALTHCODE_DEV=true")
	for _, slot := range []struct {
		task string
		at   time.Time
	}{{healthcode.TaskWeeklyDrafts, at(8)}, {healthcode.TaskRankingReports, at(17)}} {
		key := healthcode.PeriodicDedupKey(slot.task, slot.at)
		h.waitUntil(slot.task+" caught up", 2*time.Minute, func() bool {
			return h.count(`SELECT count(*) FROM outbox WHERE dedup_key = $1 AND done_at IS NOT NULL AND failed_at IS NULL`, key) == 1
		})
	}
	monday := friday.AddDate(0, 0, -4)
	drafts := h.count(`SELECT count(*) FROM weekly_reports WHERE week_start = $1`, monday.Format("2006-01-02"))
	ranked := h.count(`SELECT count(*) FROM ranking_reports WHERE week_start = $1`, workers.RankingWeekBefore(friday).Format("2006-01-02"))
	if drafts == 0 || ranked == 0 {
		t.Errorf("after the catch-up: %d weekly drafts for the week of %s, %d ranking reports of the week before", drafts, monday.Format("2006-01-02"), ranked)
	}
	t.Logf("worker started on %s at 17:30 after none ran: caught up the 08:00 drafts (%d) and the 17:00 rankings (%d reports)",
		friday.Format("Mon 2006-01-02"), drafts, ranked)
	h.signal(p, syscall.SIGTERM, 30*time.Second)
}
