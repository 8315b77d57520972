package workers_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"healthcode"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/sms"
	"healthcode/workers"
)

func TestParseOutboxPayloadBadPayloadSkipsRetry(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{``, `not json`, `[]`, `{}`, `{"outboxId":0,"payload":{}}`,
		`{"outboxId":-1,"payload":{}}`, `{"outboxId":3}`, `{"outboxId":"3","payload":{}}`} {
		_, err := workers.ParseOutboxPayload(asynq.NewTask(healthcode.TaskNotifySMS, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %q: err = %v, want SkipRetry", payload, err)
		}
	}
	p, err := workers.ParseOutboxPayload(asynq.NewTask(healthcode.TaskNotifySMS, []byte(`{"outboxId":12,"payload":{"a":1}}`)))
	if err != nil || p.OutboxID != 12 || string(p.Payload) != `{"a":1}` {
		t.Fatalf("good payload: %+v, %v", p, err)
	}
}

func TestNewOutboxTaskRoundTrip(t *testing.T) {
	t.Parallel()
	row := healthcode.OutboxRow{ID: 42, TaskType: healthcode.TaskNotifySMS, Payload: []byte(`{"sealed":"AAAA"}`)}
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != healthcode.TaskNotifySMS {
		t.Fatalf("type %q", task.Type())
	}
	p, err := workers.ParseOutboxPayload(task)
	if err != nil || p.OutboxID != 42 || string(p.Payload) != `{"sealed":"AAAA"}` {
		t.Fatalf("round trip: %+v, %v", p, err)
	}
	if workers.OutboxTaskID(42) != "outbox:42" {
		t.Fatal(workers.OutboxTaskID(42))
	}
	if _, err := workers.NewOutboxTask(healthcode.OutboxRow{ID: 1, TaskType: "x:y", Payload: []byte("{")}); err == nil {
		t.Fatal("invalid json accepted")
	}
}

func TestNotifySMSBadPayloadSkipsRetry(t *testing.T) {
	t.Parallel()
	cipher, err := pii.NewCipher(bytes.Repeat([]byte{1}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := pii.NewCipher(bytes.Repeat([]byte{2}, pii.KeySize))
	h := &workers.NotifySMSHandler{DB: &postgres.DB{PII: cipher}}
	sealedByOther := `{"outboxId":5,"payload":{"sealed":"` + b64(other.Encrypt(`{"Phone":"1","Text":"x"}`)) + `"}}`
	for _, payload := range []string{`garbage`, `{"outboxId":5,"payload":{"sealed":"AAAA"}}`,
		`{"outboxId":5,"payload":"text"}`, sealedByOther} {
		err := h.ProcessTask(t.Context(), asynq.NewTask(healthcode.TaskNotifySMS, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %q: err = %v, want SkipRetry", payload, err)
		}
	}
}

type fakePurger struct {
	calls int
	err   error
}

func (f *fakePurger) PurgeExpiredAuth(context.Context) (int64, error) {
	f.calls++
	return 3, f.err
}

func TestPurgeAuthHandler(t *testing.T) {
	t.Parallel()
	slot := time.Date(2026, 11, 27, 18, 0, 0, 0, workers.Shanghai())
	task := workers.NewPurgeAuthTask(slot)
	if task.Type() != healthcode.TaskPurgeAuth || string(task.Payload()) != `{"slot":"2026-11-27T18"}` {
		t.Fatalf("task %s %s", task.Type(), task.Payload())
	}
	if id := workers.PeriodicTaskID(healthcode.TaskPurgeAuth, "2026-11-27T18"); id != "maintenance:purge_auth:2026-11-27T18" {
		t.Fatal(id)
	}

	p := &fakePurger{}
	mux := workers.NewMux(workers.Deps{Purger: p})
	if err := mux.ProcessTask(t.Context(), task); err != nil || p.calls != 1 {
		t.Fatalf("purge: %v, calls %d", err, p.calls)
	}
	p.err = errors.New("db down")
	if err := mux.ProcessTask(t.Context(), task); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("failing purge: %v, want a retryable error", err)
	}
	if err := mux.ProcessTask(t.Context(), asynq.NewTask(healthcode.TaskPurgeAuth, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("bad payload: %v", err)
	}
	h := &workers.PurgeAuthHandler{}
	if err := h.ProcessTask(t.Context(), task); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("no purger: %v", err)
	}
}

func TestPurgeAuthOnDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mux := workers.NewMux(workers.Deps{SMS: b.db, Sender: &postgres.DevSMSSender{DB: b.db}, Purger: b.db, Logger: b.logger})
	if err := mux.ProcessTask(b.ctx, workers.NewPurgeAuthTask(time.Now().In(workers.Shanghai()))); err != nil {
		t.Fatal(err)
	}
}

// Every task type of healthcode.Tasks has its handler in the mux, and the
// schedule enqueues exactly the periodic ones.
func TestMuxHandlesEveryTask(t *testing.T) {
	t.Parallel()
	mux := workers.NewMux(workers.Deps{
		Supervision: struct{ healthcode.SupervisionService }{}, Rankings: struct{ healthcode.RankingGenerator }{},
		Tickets: struct{ healthcode.DeadlineProcessor }{}, Indicators: struct{ healthcode.IndicatorRecomputer }{},
		National: struct{ healthcode.NationalPusher }{}, Anchors: struct{ healthcode.AuditAnchorer }{},
	})
	periodic := map[string]bool{}
	for _, tt := range healthcode.Tasks {
		if _, pattern := mux.Handler(asynq.NewTask(tt.Type, nil)); pattern != tt.Type {
			t.Errorf("%s: handled by %q", tt.Type, pattern)
		}
		periodic[tt.Type] = tt.Periodic
	}
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, workers.Shanghai())
	scheduled := map[string]bool{}
	for _, pt := range append(workers.DefaultSchedule(), workers.NationalSchedule()...) {
		typ := pt.Task(at).Type()
		if !periodic[typ] {
			t.Errorf("scheduled task %s is not a periodic task of healthcode.Tasks", typ)
		}
		scheduled[typ] = true
	}
	for typ, p := range periodic {
		if p && !scheduled[typ] {
			t.Errorf("periodic task %s is not scheduled", typ)
		}
	}
}

// A gateway that cannot be reached is retried with the task's backoff and
// uses up its retries (healthcode.Unavailable is false), unlike the
// database.
func TestNotifySMSGatewayDownIsAFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row := b.queueSMS(t, testPhone, testText)
	task, err := workers.NewOutboxTask(row)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sms.New(sms.Config{URL: "http://127.0.0.1:1/send", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = (&workers.NotifySMSHandler{DB: b.db, Sender: sender}).ProcessTask(b.ctx, task)
	if err == nil || errors.Is(err, asynq.SkipRetry) || healthcode.Unavailable(err) {
		t.Fatalf("gateway down: %v (unavailable %v), want a failure to retry with backoff", err, healthcode.Unavailable(err))
	}
}
