package workers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/devenv/redistest"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/sms"
	"healthcode/workers"
)

const (
	testPhone = "13800138000"
	testText  = "【陕西健康码】您的验证码是 123456，5 分钟内有效。"
)

type bundle struct {
	ctx      context.Context
	db       *postgres.DB
	redisURL string
	client   *asynq.Client
	insp     *asynq.Inspector
	logger   *slog.Logger
}

func setup(t *testing.T) bundle {
	t.Helper()
	cipher, err := pii.NewCipher(bytes.Repeat([]byte{7}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	db := &postgres.DB{Pool: pgtest.New(t), PII: cipher, Logger: logger}
	redisURL := redistest.URL(t)
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	return bundle{ctx: t.Context(), db: db, redisURL: redisURL, client: client, insp: insp, logger: logger}
}

// queueSMS commits a notify:sms outbox row and returns it.
func (b bundle) queueSMS(t *testing.T, phone, text string) healthcode.OutboxRow {
	t.Helper()
	err := b.db.InTx(b.ctx, func(tx *postgres.Tx) error {
		return tx.QueueSMS(b.ctx, phone, text, "")
	})
	if err != nil {
		t.Fatal(err)
	}
	var row healthcode.OutboxRow
	err = b.db.Pool.QueryRow(b.ctx, `SELECT id, task_type, payload, created_at FROM outbox
		ORDER BY id DESC LIMIT 1`).Scan(&row.ID, &row.TaskType, &row.Payload, &row.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func (b bundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(b.ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (b bundle) relay() *workers.Relay {
	return &workers.Relay{Outbox: b.db, Queue: b.client, Logger: b.logger}
}

func (b bundle) taskState(t *testing.T, queue, id string) asynq.TaskState {
	t.Helper()
	info, err := b.insp.GetTaskInfo(queue, id)
	if err != nil {
		t.Fatalf("task %s: %v", id, err)
	}
	return info.State
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestOutboxToSenderExactlyOnce: a notify:sms row goes outbox → task →
// sender exactly once, although the relay runs twice, is replayed after a
// simulated crash between enqueue and marking, and the task is delivered a
// second time after it completed.
func TestOutboxToSenderExactlyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	taskID := "outbox:" + fmt.Sprint(row.ID)

	// Two relay runs: the first enqueues, the second finds nothing.
	if n, err := b.relay().Drain(b.ctx); err != nil || n != 1 {
		t.Fatalf("first relay: sent %d, %v", n, err)
	}
	if n, err := b.relay().Drain(b.ctx); err != nil || n != 0 {
		t.Fatalf("second relay: sent %d, %v", n, err)
	}
	// A relay that crashed after enqueue and before marking: the row is
	// pending again, the enqueue conflicts on the task id and counts as sent.
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE outbox SET sent_at = NULL WHERE id = $1`, row.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := b.relay().Drain(b.ctx); err != nil || n != 1 {
		t.Fatalf("replayed relay: sent %d, %v", n, err)
	}
	pending, err := b.insp.ListPendingTasks(workers.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != taskID || pending[0].Type != healthcode.TaskNotifySMS ||
		pending[0].MaxRetry < 5 || pending[0].MaxRetry > 10 || pending[0].Retention < time.Hour {
		t.Fatalf("pending tasks = %+v", pending)
	}

	// The worker delivers it.
	sender := &postgres.DevSMSSender{DB: b.db}
	ctx, stop := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() {
		done <- workers.Run(ctx, workers.Config{
			RedisURL: b.redisURL, Concurrency: 2, Logger: b.logger, Outbox: b.db, Deps: workers.Deps{SMS: b.db, Sender: sender},
			Schedule: []workers.PeriodicTask{},
		})
	}()
	waitFor(t, "the task to complete", func() bool {
		return b.taskState(t, workers.QueueCritical, taskID) == asynq.TaskStateCompleted
	})
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after ctx was done")
	}

	// Redelivery of the same task runs the handler again: nothing is sent.
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	mux := workers.NewMux(workers.Deps{SMS: b.db, Sender: sender, Logger: b.logger})
	if err := mux.ProcessTask(b.ctx, task); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	// The row is done once its task completed: never handed over again,
	// even long after the bound.
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE id = $1 AND done_at IS NOT NULL AND lease_owner IS NULL`, row.ID); n != 1 {
		t.Fatal("the completed task's row is not done")
	}
	if n, err := (&workers.Relay{Outbox: b.db, Queue: b.client, RedeliverAfter: time.Nanosecond}).Drain(b.ctx); err != nil || n != 0 {
		t.Fatalf("relay after completion: sent %d, %v", n, err)
	}
	if pending, _ := b.insp.ListPendingTasks(workers.QueueCritical); len(pending) != 0 {
		t.Fatalf("task enqueued again after completion: %+v", pending)
	}

	if n := b.count(t, `SELECT count(*) FROM dev_sms_messages`); n != 1 {
		t.Fatalf("dev_sms_messages = %d rows, want 1", n)
	}
	var body, key string
	var phoneHash []byte
	if err := b.db.Pool.QueryRow(b.ctx, `SELECT body, dedup_key, phone_hash FROM dev_sms_messages`).
		Scan(&body, &key, &phoneHash); err != nil {
		t.Fatal(err)
	}
	if body != testText || key != taskID || !bytes.Equal(phoneHash, b.db.PII.Hash("phone", testPhone)) {
		t.Fatalf("message: body %q, key %q", body, key)
	}
	if n := b.count(t, `SELECT count(*) FROM task_deliveries WHERE outbox_id = $1`, row.ID); n != 1 {
		t.Fatalf("task_deliveries = %d rows, want 1", n)
	}
	if n := b.count(t, `SELECT count(*) FROM task_deliveries`); n != 1 {
		t.Fatalf("task_deliveries total = %d rows, want 1", n)
	}
}

// countingQueue records every successful enqueue per task id.
type countingQueue struct {
	q    workers.Enqueuer
	mu   sync.Mutex
	seen map[string]int
}

func (c *countingQueue) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := c.q.EnqueueContext(ctx, task, opts...)
	if err == nil {
		c.mu.Lock()
		c.seen[info.ID]++
		c.mu.Unlock()
	}
	return info, err
}

// TestRelaysRunConcurrently: two relays woken by NOTIFY through their
// listeners (the fallback poll is an hour) share the rows written by concurrent transactions; each row is
// enqueued once and marked sent once.
func TestRelaysRunConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := &countingQueue{q: b.client, seen: map[string]int{}}
	ctx, stop := context.WithCancel(b.ctx)
	var wg sync.WaitGroup
	for range 2 {
		// Two processes: each with its listener.
		r := &workers.Relay{Outbox: b.db, Queue: q, Logger: b.logger, BatchSize: 7, Interval: time.Hour}
		l := postgres.NewListener(b.db)
		r.Listen(l)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
		<-l.Ready()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}

	const writers, perWriter = 4, 60
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := range perWriter {
				err := b.db.InTx(b.ctx, func(tx *postgres.Tx) error {
					_, err := tx.Outbox(b.ctx, "test:noop", fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i), "")
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wwg.Wait()
	waitFor(t, "the outbox to drain", func() bool {
		bl, err := b.db.Backlog(b.ctx)
		return err == nil && bl.Pending == 0
	})
	stop()
	wg.Wait()

	const total = writers * perWriter
	if len(q.seen) != total {
		t.Fatalf("%d distinct tasks enqueued, want %d", len(q.seen), total)
	}
	for id, n := range q.seen {
		if n != 1 {
			t.Fatalf("task %s enqueued %d times", id, n)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND attempts = 1`); n != total {
		t.Fatalf("%d rows sent on the first attempt, want %d", n, total)
	}
	qi, err := b.insp.GetQueueInfo(workers.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if qi.Pending != total {
		t.Fatalf("queue holds %d tasks, want %d", qi.Pending, total)
	}
}

type failingQueue struct{}

func (failingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("redis: connection refused")
}

func TestRelayRecordsEnqueueFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	r := &workers.Relay{Outbox: b.db, Queue: failingQueue{}, Logger: b.logger}
	if n, err := r.Drain(b.ctx); err != nil || n != 0 {
		t.Fatalf("drain: sent %d, %v", n, err)
	}
	var attempts int
	var lastError string
	var sent bool
	if err := b.db.Pool.QueryRow(b.ctx, `SELECT attempts, last_error, sent_at IS NOT NULL FROM outbox WHERE id = $1`,
		row.ID).Scan(&attempts, &lastError, &sent); err != nil {
		t.Fatal(err)
	}
	if sent || attempts != 1 || lastError == "" {
		t.Fatalf("attempts %d, last error %q, sent %v", attempts, lastError, sent)
	}
}

// flakySender fails its first call, then records like the dev sender.
type flakySender struct {
	dev   *postgres.DevSMSSender
	calls atomic.Int32
	err   error
}

func (s *flakySender) Send(ctx context.Context, msg healthcode.SMSMessage) error {
	if s.calls.Add(1) == 1 {
		return s.err
	}
	return s.dev.Send(ctx, msg)
}

func TestNotifySMSRetriesAfterFailedSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	sender := &flakySender{dev: &postgres.DevSMSSender{DB: b.db}, err: errors.New("gateway status 503")}
	h := &workers.NotifySMSHandler{DB: b.db, Sender: sender}

	err = h.ProcessTask(b.ctx, task)
	if err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("failed send: err = %v, want a retryable error", err)
	}
	if n := b.count(t, `SELECT count(*) FROM task_deliveries`); n != 0 {
		t.Fatalf("a failed send left %d delivery records", n)
	}
	for range 2 {
		if err := h.ProcessTask(b.ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if c := sender.calls.Load(); c != 2 {
		t.Fatalf("sender called %d times, want 2 (one failure, one success)", c)
	}
	if n := b.count(t, `SELECT count(*) FROM dev_sms_messages`); n != 1 {
		t.Fatalf("dev_sms_messages = %d", n)
	}
}

func TestNotifySMSRejectedIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	sender := &flakySender{dev: &postgres.DevSMSSender{DB: b.db}, err: fmt.Errorf("status 400: %w", sms.ErrRejected)}
	h := &workers.NotifySMSHandler{DB: b.db, Sender: sender}
	if err := h.ProcessTask(b.ctx, task); !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, sms.ErrRejected) {
		t.Fatalf("err = %v, want SkipRetry wrapping sms.ErrRejected", err)
	}
}

func TestNotifySMSHonoursContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	h := &workers.NotifySMSHandler{DB: b.db, Sender: &postgres.DevSMSSender{DB: b.db}}
	if err := h.ProcessTask(ctx, task); !errors.Is(err, context.Canceled) || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := b.count(t, `SELECT count(*) FROM dev_sms_messages`); n != 0 {
		t.Fatalf("sent under a cancelled context")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	db := &postgres.DB{}
	sender := &postgres.DevSMSSender{DB: db}
	for _, cfg := range []workers.Config{
		{RedisURL: "redis://127.0.0.1:1/0", Deps: workers.Deps{Sender: sender}},
		{RedisURL: "redis://127.0.0.1:1/0", Outbox: db},
		{RedisURL: "mysql://x", Outbox: db, Deps: workers.Deps{Sender: sender}},
		{RedisURL: "redis://127.0.0.1:1/0", Outbox: db, Deps: workers.Deps{Sender: sender}}, // nothing listens on port 1
	} {
		if err := workers.Run(t.Context(), cfg); err == nil {
			t.Errorf("Run(%+v) = nil", cfg.RedisURL)
		}
	}
}

// TestRelayHandsOverAgainWhenRedisLosesItsContent: tasks handed over to a
// Redis that then restarts empty are handed over again on the relay's next
// pass, without waiting for the redelivery bound, and tasks that a worker
// runs (a live lease) are left to it. The restart is a FLUSHDB of the
// test's own database: FLUSHALL emptied the queues of the tests running
// beside it and redistest's leases, so that two tests shared a database.
func TestRelayHandsOverAgainWhenRedisLosesItsContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	opt, err := asynq.ParseRedisURI(b.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rc := opt.MakeRedisClient().(redis.UniversalClient)
	defer rc.Close()
	relay := &workers.Relay{Outbox: b.db, Queue: b.client, Logger: b.logger, Epoch: &workers.QueueEpoch{Client: rc}}
	rows := []healthcode.OutboxRow{b.queueSMS(t, testPhone, testText), b.queueSMS(t, testPhone, testText)}
	if n, err := relay.Drain(b.ctx); err != nil || n != 2 {
		t.Fatalf("first hand-over: %d, %v", n, err)
	}
	if n, err := relay.Drain(b.ctx); err != nil || n != 0 {
		t.Fatalf("handed over again while Redis holds them: %d, %v", n, err)
	}
	// A worker runs the second.
	if ok, err := b.db.ClaimOutboxTask(b.ctx, rows[1].ID, "w1", time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := rc.FlushDB(b.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.Drain(b.ctx); err != nil || n != 1 {
		t.Fatalf("after Redis lost its content: handed over %d, %v; want the unstarted one", n, err)
	}
	// (The client remembers the queue names it published, so asynq's
	// inspector does not list the queue after a flush: read the task.)
	for i, want := range []int64{1, 0} {
		key := "asynq:{" + workers.QueueCritical + "}:t:" + workers.OutboxTaskID(rows[i].ID)
		if n, err := rc.Exists(b.ctx, key).Result(); err != nil || n != want {
			t.Fatalf("task %d in the queue after the loss: %d, %v; want %d", rows[i].ID, n, err, want)
		}
	}
}
