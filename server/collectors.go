package server

import (
	"context"
	"time"

	"github.com/IBM/pgxpoolprometheus"
	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// OutboxBacklog is the outbox's unfinished work as storage reports it
// (postgres.DB.Backlog has the same fields).
type OutboxBacklog struct {
	Pending          int64 // rows never handed over to the queue
	Unfinished       int64 // rows handed over whose task has not finished
	Running          int64 // rows among Unfinished whose task a worker runs now
	OldestUnfinished time.Duration
	Failed           int64 // rows archived after their retries, last 24 hours
}

// CollectTimeout bounds the queries the queue and outbox collectors make on
// each scrape.
const CollectTimeout = 2 * time.Second

// RegisterDBPool exports the statistics of pool with the maintained pgxpool
// collector (pgxpool_acquired_conns, pgxpool_idle_conns, pgxpool_max_conns,
// pgxpool_acquire_count, pgxpool_empty_acquire_wait_time_ns, …). Entry
// points call it once per pool after NewMetrics. It returns an error when a
// pool is already registered.
func (m *Metrics) RegisterDBPool(pool *pgxpool.Pool) error {
	return m.register("db pool", pgxpoolprometheus.NewCollector(pool, nil))
}

// RegisterQueue exports the asynq queues with asynq's own exporter
// (asynq_tasks_enqueued_total{queue,state}, asynq_queue_size,
// asynq_queue_latency_seconds, asynq_tasks_processed_total, …), queried from
// Redis on each scrape. What it lacks is added here: the scrape gives up
// after CollectTimeout, and asynq_up is 0 when the query failed or timed out.
// Entry points call it once. It returns an error when a queue collector is
// already registered.
func (m *Metrics) RegisterQueue(inspector *asynq.Inspector) error {
	return m.register("queue", newGuardedCollector(asynqmetrics.NewQueueMetricsCollector(inspector),
		prometheus.NewDesc("asynq_up", "Whether the last scrape of the asynq queues succeeded.", nil, nil),
		func() error { _, err := inspector.Queues(); return err }))
}

// RegisterOutbox exports the outbox's unfinished work, read by backlog on
// each scrape with a CollectTimeout: outbox_pending (never handed over to the
// queue), outbox_unfinished (handed over, task not finished: what an empty
// Redis would otherwise lose silently), outbox_running (held by a worker's
// live lease), outbox_oldest_unfinished_seconds and outbox_failed (archived
// after their retries, last 24 hours); outbox_up is 0 when the read failed.
// Entry points call it once. It returns an error when an outbox collector is
// already registered.
func (m *Metrics) RegisterOutbox(backlog func(ctx context.Context) (OutboxBacklog, error)) error {
	return m.register("outbox", newOutboxCollector(backlog))
}

// CodeCacheStats are the resident code cache's counters
// (postgres.ResidentCacheStats).
type CodeCacheStats struct {
	Hits, Misses, Invalidations, Flushes, Discarded, Evictions int64
	Entries                                                    int
}

// RegisterCodeCache exports the resident code cache of the replica, read
// by stats on each scrape: code_cache_hits_total, code_cache_misses_total
// (session lookups that read the database), code_cache_invalidations_total
// (notifications applied), code_cache_flushes_total (of which emptied the
// cache), code_cache_discarded_total (reads not kept because a change
// overlapped them), code_cache_evictions_total and code_cache_entries.
// Entry points call it once. It returns an error when already registered.
func (m *Metrics) RegisterCodeCache(stats func() CodeCacheStats) error {
	return m.register("code cache", &codeCacheCollector{stats: stats})
}

var codeCacheDescs = struct{ hits, misses, invalidations, flushes, discarded, evictions, entries *prometheus.Desc }{
	prometheus.NewDesc("code_cache_hits_total", "Resident session lookups answered by the code cache.", nil, nil),
	prometheus.NewDesc("code_cache_misses_total", "Resident session lookups that read the database.", nil, nil),
	prometheus.NewDesc("code_cache_invalidations_total", "Code cache notifications applied.", nil, nil),
	prometheus.NewDesc("code_cache_flushes_total", "Times the code cache was emptied.", nil, nil),
	prometheus.NewDesc("code_cache_discarded_total", "Reads not kept because a change overlapped them.", nil, nil),
	prometheus.NewDesc("code_cache_evictions_total", "Entries dropped for room.", nil, nil),
	prometheus.NewDesc("code_cache_entries", "Resident sessions kept in the code cache.", nil, nil),
}

type codeCacheCollector struct{ stats func() CodeCacheStats }

func (c *codeCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	d := codeCacheDescs
	for _, x := range []*prometheus.Desc{d.hits, d.misses, d.invalidations, d.flushes, d.discarded, d.evictions, d.entries} {
		ch <- x
	}
}

func (c *codeCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s, d := c.stats(), codeCacheDescs
	for desc, v := range map[*prometheus.Desc]int64{d.hits: s.Hits, d.misses: s.Misses, d.invalidations: s.Invalidations,
		d.flushes: s.Flushes, d.discarded: s.Discarded, d.evictions: s.Evictions} {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	ch <- prometheus.MustNewConstMetric(d.entries, prometheus.GaugeValue, float64(s.Entries))
}

// guardedCollector runs an inner collector that cannot be given a deadline
// (asynq's exporter asks Redis without a context) in a goroutine, gives up
// after the timeout, and reports up: 1 when check succeeded and the inner
// collector finished in time. At most one inner collection runs at a time.
type guardedCollector struct {
	inner   prometheus.Collector
	check   func() error
	up      *prometheus.Desc
	timeout time.Duration
	busy    chan struct{}
}

func newGuardedCollector(inner prometheus.Collector, up *prometheus.Desc, check func() error) *guardedCollector {
	return &guardedCollector{inner: inner, check: check, up: up, timeout: CollectTimeout, busy: make(chan struct{}, 1)}
}

// Describe implements prometheus.Collector: unchecked (the inner collector
// describes by collecting, which would query Redis at registration).
func (c *guardedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.up }

// Collect implements prometheus.Collector.
func (c *guardedCollector) Collect(ch chan<- prometheus.Metric) {
	down := func() { ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0) }
	select {
	case c.busy <- struct{}{}:
	default:
		down() // the previous scrape's query is still running
		return
	}
	type result struct {
		metrics []prometheus.Metric
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-c.busy }()
		var r result
		if r.err = c.check(); r.err == nil {
			buf := make(chan prometheus.Metric, 256)
			go func() { c.inner.Collect(buf); close(buf) }()
			for m := range buf {
				r.metrics = append(r.metrics, m)
			}
		}
		done <- r
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			down()
			return
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
		for _, m := range r.metrics {
			ch <- m
		}
	case <-timer.C:
		down()
	}
}

// outboxCollector reads the outbox backlog on scrape.
type outboxCollector struct {
	backlog func(ctx context.Context) (OutboxBacklog, error)
	timeout time.Duration

	up, pending, unfinished, running, oldest, failed *prometheus.Desc
}

func newOutboxCollector(backlog func(ctx context.Context) (OutboxBacklog, error)) *outboxCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &outboxCollector{
		backlog:    backlog,
		timeout:    CollectTimeout,
		up:         d("outbox_up", "Whether the last read of the outbox backlog succeeded."),
		pending:    d("outbox_pending", "Outbox rows not yet handed over to the job queue."),
		unfinished: d("outbox_unfinished", "Outbox rows handed over to the job queue whose task has not finished."),
		running:    d("outbox_running", "Outbox rows whose task a worker runs now (a live lease)."),
		oldest:     d("outbox_oldest_unfinished_seconds", "Age of the oldest handed-over, unfinished outbox row."),
		failed:     d("outbox_failed", "Outbox rows archived after their retries in the last 24 hours."),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.pending, c.unfinished, c.running, c.oldest, c.failed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	b, err := c.backlog(ctx)
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	if err != nil {
		g(c.up, 0)
		return
	}
	g(c.up, 1)
	g(c.pending, float64(b.Pending))
	g(c.unfinished, float64(b.Unfinished))
	g(c.running, float64(b.Running))
	g(c.oldest, b.OldestUnfinished.Seconds())
	g(c.failed, float64(b.Failed))
}
