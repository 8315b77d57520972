package workers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"healthcode"
)

// Config configures Run.
type Config struct {
	// RedisURL locates the queue, e.g. redis://localhost:6379/0 (required).
	RedisURL string
	// Concurrency is the number of tasks processed at once (default 10).
	Concurrency int
	Logger      *slog.Logger
	// Outbox is the outbox the Relay drains and the scheduler writes its
	// slots to (required).
	Outbox healthcode.Outbox
	// Clock is the platform's clock, which the scheduler reads its slots on
	// (default: the wall clock).
	Clock healthcode.Clock
	// Deps are the handlers' services (Deps.Sender is required; Deps.Logger
	// defaults to Logger).
	Deps Deps
	// Location is the time zone of the schedule (default Asia/Shanghai).
	Location *time.Location
	// ShutdownTimeout bounds how long running tasks (and SMS gateway calls
	// in flight) may finish after ctx is done (WORKER_SHUTDOWN_GRACE,
	// default 30 s; keep it longer than the gateway's timeout); tasks still
	// running then are retried later.
	ShutdownTimeout time.Duration
	// Lease is the lease of a running outbox task (OUTBOX_LEASE, default
	// DefaultLease): a killed worker's tasks are taken over this long after
	// its last heartbeat.
	Lease time.Duration
	// RedeliverAfter is how long a handed-over task may sit in the queue
	// unstarted before the relay hands it over again
	// (OUTBOX_REDELIVER_AFTER, default healthcode.DefaultRedeliverAfter).
	RedeliverAfter time.Duration
	// Listener is the process's database listener; when set, the relay
	// wakes on NOTIFY outbox (register before the listener runs).
	Listener healthcode.OutboxWaker
	// Schedule replaces DefaultSchedule when not nil (tests).
	Schedule []PeriodicTask
	// RelayInterval is the relay's fallback poll interval (default 2 s).
	RelayInterval time.Duration
}

// Run runs the worker side of the platform until ctx is done: the asynq
// server with NewMux on queues critical, default and low (weights 6:3:1), the
// Scheduler of periodic tasks and the outbox Relay. When ctx is done it stops
// taking tasks, waits up to ShutdownTimeout for running ones, stops the
// scheduler and the relay, and returns nil. The `healthcode worker` and
// `healthcode dev` commands call it.
// Errors: a missing Outbox or Deps.Sender, a bad RedisURL or an unreachable Redis at
// start (wrapped); an invalid schedule.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Outbox == nil || cfg.Deps.Sender == nil {
		return fmt.Errorf("workers: Outbox and Sender are required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	redisOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("parse redis url: %w", err)
	}
	concurrency := cfg.Concurrency
	if concurrency <= 0 {
		concurrency = 10
	}
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout <= 0 {
		shutdownTimeout = 30 * time.Second
	}
	schedule := cfg.Schedule
	if schedule == nil {
		schedule = DefaultSchedule()
		if cfg.Deps.National != nil {
			schedule = append(schedule, NationalSchedule()...)
		}
	}

	client := asynq.NewClient(redisOpt)
	defer client.Close()
	if err := client.Ping(); err != nil {
		return fmt.Errorf("connect to redis: %w", err)
	}

	alog := logger.With("component", "asynq")
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1},
		// An outage does not use up a task's retries, and its tasks are
		// retried within seconds of it ending.
		IsFailure:                isFailure,
		RetryDelayFunc:           retryDelay,
		DelayedTaskCheckInterval: time.Second,
		Logger:                   asynqLogger{alog},
		LogLevel:                 asynq.WarnLevel,
		ShutdownTimeout:          shutdownTimeout,
		// Handlers keep their context during the graceful shutdown; asynq
		// cancels it when ShutdownTimeout passes.
		BaseContext: func() context.Context { return context.WithoutCancel(ctx) },
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			retry, _ := asynq.GetRetryCount(ctx)
			max, _ := asynq.GetMaxRetry(ctx)
			logger.Warn("task failed", "type", t.Type(), "id", id, "retry", retry, "max_retry", max, "err", err)
		}),
	})
	deps := cfg.Deps
	if deps.Logger == nil {
		deps.Logger = logger
	}
	mux := NewMux(deps)
	own := &Ownership{Outbox: cfg.Outbox, Logger: logger, Lease: cfg.Lease}
	mux.Use(own.Middleware)
	sched := &Scheduler{Slots: cfg.Outbox, Location: cfg.Location, Tasks: schedule, Logger: logger, Clock: cfg.Clock}
	relay := &Relay{Outbox: cfg.Outbox, Queue: client, Logger: logger, Interval: cfg.RelayInterval,
		RedeliverAfter: cfg.RedeliverAfter, Periodic: allPeriodic(schedule)}
	if cfg.Listener != nil {
		relay.Listen(cfg.Listener)
	}
	if rc, ok := redisOpt.MakeRedisClient().(redis.UniversalClient); ok {
		defer rc.Close()
		relay.Epoch = &QueueEpoch{Client: rc}
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}

	bg, stop := context.WithCancel(ctx)
	defer stop()
	// The heartbeat outlives bg: running tasks keep their leases through
	// the graceful shutdown.
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHeartbeat()
	go own.Heartbeat(hbCtx)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for _, run := range []func(context.Context) error{sched.Run, relay.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(bg); err != nil {
				errc <- err
				stop()
			}
		}()
	}
	logger.Info("worker started", "concurrency", concurrency)
	<-bg.Done()
	srv.Shutdown()
	wg.Wait()
	logger.Info("worker stopped")
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// asynqLogger adapts slog to asynq's logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}
