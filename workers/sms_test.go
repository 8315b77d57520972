package workers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode/postgres"
	"healthcode/sms"
	"healthcode/sms/smstest"
	"healthcode/workers"
)

// runWorker runs workers.Run on db until the returned stop is called; stop
// waits for Run and returns its error and how long the stop took.
func runWorker(t *testing.T, b bundle, db *postgres.DB, cfg workers.Config) func() (time.Duration, error) {
	t.Helper()
	cfg.RedisURL, cfg.Outbox, cfg.Logger = b.redisURL, db, b.logger
	if cfg.Deps.SMS == nil {
		cfg.Deps.SMS = db
	}
	if cfg.Schedule == nil {
		cfg.Schedule = []workers.PeriodicTask{}
	}
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- workers.Run(ctx, cfg) }()
	return func() (time.Duration, error) {
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			return time.Since(start), err
		case <-time.After(60 * time.Second):
			t.Fatal("Run did not return")
		}
		return 0, nil
	}
}

// The gateway call happens outside any database transaction: with a pool of
// two connections, eight messages are at the gateway at once (before, each
// call held a connection of the pool, so at most two were).
func TestSMSGatewayCallsHoldNoConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.db.Pool.Config().Copy()
	cfg.MaxConns = 2
	small, err := pgxpool.NewWithConfig(b.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	db := &postgres.DB{Pool: small, PII: b.db.PII, Logger: b.logger}

	const n = 8
	all := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	waiting := 0
	gw := &smstest.Gateway{Hold: func(smstest.Request) {
		mu.Lock()
		waiting++
		if waiting == n {
			once.Do(func() { close(all) })
		}
		mu.Unlock()
		select { // every call waits until all n are in flight together
		case <-all:
		case <-time.After(15 * time.Second):
		}
	}}
	url, err := gw.Start(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sms.New(sms.Config{URL: url, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		b.queueSMS(t, testPhone, testText)
	}
	stop := runWorker(t, b, db, workers.Config{Concurrency: n, Deps: workers.Deps{Sender: sender}})
	waitFor(t, "every message delivered", func() bool {
		return b.count(t, `SELECT count(*) FROM task_deliveries`) == n
	})
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	if m := gw.MaxInFlight(); m != n {
		t.Fatalf("at most %d messages at the gateway at once, want %d (pool of 2)", m, n)
	}
	for key, c := range gw.Delivered() {
		if c != 1 {
			t.Fatalf("key %s sent %d times", key, c)
		}
	}
	if done := b.count(t, `SELECT count(*) FROM outbox WHERE done_at IS NOT NULL`); done != n {
		t.Fatalf("%d rows done, want %d", done, n)
	}
}

// A stopping worker waits for the gateway calls in flight (within its grace)
// and records them: the message is delivered once, and its task is not run
// again.
func TestWorkerShutdownWaitsForGatewayCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{}, 1)
	gw := &smstest.Gateway{Latency: 1500 * time.Millisecond}
	url, err := gw.Start(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sms.New(sms.Config{URL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	notify := senderFunc(func(ctx context.Context, msg healthcodeSMS) error {
		select {
		case started <- struct{}{}:
		default:
		}
		return sender.Send(ctx, msg)
	})
	row := b.queueSMS(t, testPhone, testText)
	stop := runWorker(t, b, b.db, workers.Config{Concurrency: 2, Deps: workers.Deps{Sender: notify}, ShutdownTimeout: 10 * time.Second})
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the message never reached the sender")
	}
	took, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if took < time.Second {
		t.Fatalf("Run returned after %s, before the gateway call in flight could finish", took)
	}
	if n := b.count(t, `SELECT count(*) FROM task_deliveries WHERE outbox_id = $1`, row.ID); n != 1 {
		t.Fatal("the delivery of the call in flight was not recorded")
	}
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE id = $1 AND done_at IS NOT NULL`, row.ID); n != 1 {
		t.Fatal("the row is not done")
	}
	if reqs := gw.Requests(); len(reqs) != 1 || reqs[0].Key != workers.OutboxTaskID(row.ID) {
		t.Fatalf("gateway requests %+v, want one with key %s", reqs, workers.OutboxTaskID(row.ID))
	}
	if st := b.taskState(t, workers.QueueCritical, workers.OutboxTaskID(row.ID)); st != asynq.TaskStateCompleted {
		t.Fatalf("task state %v, want completed", st)
	}
}
