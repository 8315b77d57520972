package server

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// CollectTimeout bounds the queries the queue and outbox collectors make on
// each scrape.
const CollectTimeout = 2 * time.Second

// RegisterDBPool exports the statistics of pool: connections acquired, idle,
// total and maximum, and the acquire count and wait time. Entry points call
// it once per pool after NewMetrics. It returns an error when a pool is
// already registered.
func (m *Metrics) RegisterDBPool(pool *pgxpool.Pool) error {
	return m.register("db pool", newPoolCollector(pool))
}

// RegisterQueue exports the asynq queue sizes (pending, active, scheduled,
// retry and archived tasks per queue) and queue latency, queried from Redis on
// each scrape with a CollectTimeout. asynq_up is 0 when the query failed or
// timed out. Entry points call it once. It returns an error when a queue
// collector is already registered.
func (m *Metrics) RegisterQueue(inspector *asynq.Inspector) error {
	return m.register("queue", newQueueCollector(inspector))
}

// RegisterOutbox exports outbox_pending, the number of outbox rows not yet
// relayed, read by pending on each scrape with a CollectTimeout; outbox_up is
// 0 when it failed. Entry points call it once. It returns an error when an
// outbox collector is already registered.
func (m *Metrics) RegisterOutbox(pending func(ctx context.Context) (int64, error)) error {
	return m.register("outbox", newOutboxCollector(pending))
}

// poolCollector reads pgxpool statistics on scrape.
type poolCollector struct {
	pool *pgxpool.Pool

	acquired, idle, total, max, constructing  *prometheus.Desc
	acquires, emptyAcquires, canceledAcquires *prometheus.Desc
	acquireSeconds, emptyWaitSeconds          *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		pool:             pool,
		acquired:         d("acquired_connections", "Connections currently acquired from the pool."),
		idle:             d("idle_connections", "Idle connections in the pool."),
		total:            d("total_connections", "All connections in the pool (acquired, idle and being constructed)."),
		max:              d("max_connections", "Maximum size of the pool."),
		constructing:     d("constructing_connections", "Connections being established."),
		acquires:         d("acquires_total", "Successful acquires from the pool."),
		emptyAcquires:    d("empty_acquires_total", "Acquires that had to wait for a connection."),
		canceledAcquires: d("canceled_acquires_total", "Acquires cancelled by their context."),
		acquireSeconds:   d("acquire_duration_seconds_total", "Total time spent in successful acquires."),
		emptyWaitSeconds: d("acquire_wait_seconds_total", "Total time acquires waited for a connection."),
	}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.constructing,
		c.acquires, c.emptyAcquires, c.canceledAcquires, c.acquireSeconds, c.emptyWaitSeconds} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.acquired, float64(s.AcquiredConns()))
	g(c.idle, float64(s.IdleConns()))
	g(c.total, float64(s.TotalConns()))
	g(c.max, float64(s.MaxConns()))
	g(c.constructing, float64(s.ConstructingConns()))
	n(c.acquires, float64(s.AcquireCount()))
	n(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	n(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	n(c.acquireSeconds, s.AcquireDuration().Seconds())
	n(c.emptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
}

// queueInspector is the part of *asynq.Inspector the collector uses.
type queueInspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// queueCollector queries asynq on scrape. The inspector takes no context, so
// the query runs in a goroutine that the scrape stops waiting for after the
// timeout; at most one such query is in flight at a time.
type queueCollector struct {
	insp    queueInspector
	timeout time.Duration
	busy    chan struct{} // a token is held while a query runs

	up, tasks, latency *prometheus.Desc
}

func newQueueCollector(insp queueInspector) *queueCollector {
	return &queueCollector{
		insp:    insp,
		timeout: CollectTimeout,
		busy:    make(chan struct{}, 1),
		up:      prometheus.NewDesc("asynq_up", "Whether the last scrape of the asynq queues succeeded.", nil, nil),
		tasks: prometheus.NewDesc("asynq_queue_tasks", "Tasks in an asynq queue by state.",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("asynq_queue_latency_seconds", "Age of the oldest pending task in an asynq queue.",
			[]string{"queue"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.tasks
	ch <- c.latency
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	infos, err := c.query()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, qi := range infos {
		for _, st := range []struct {
			state string
			n     int
		}{
			{"pending", qi.Pending}, {"active", qi.Active}, {"scheduled", qi.Scheduled},
			{"retry", qi.Retry}, {"archived", qi.Archived},
		} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(st.n), qi.Queue, st.state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, qi.Latency.Seconds(), qi.Queue)
	}
}

var errQueryBusy = errors.New("previous queue query still running")

func (c *queueCollector) query() ([]*asynq.QueueInfo, error) {
	select {
	case c.busy <- struct{}{}:
	default:
		return nil, errQueryBusy
	}
	type result struct {
		infos []*asynq.QueueInfo
		err   error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-c.busy }()
		var r result
		queues, err := c.insp.Queues()
		if err != nil {
			r.err = err
		}
		for _, q := range queues {
			qi, err := c.insp.GetQueueInfo(q)
			if err != nil {
				r.err = err
				break
			}
			r.infos = append(r.infos, qi)
		}
		done <- r
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.infos, r.err
	case <-timer.C:
		return nil, context.DeadlineExceeded
	}
}

// outboxCollector reads the outbox backlog on scrape.
type outboxCollector struct {
	pending func(ctx context.Context) (int64, error)
	timeout time.Duration

	up, count *prometheus.Desc
}

func newOutboxCollector(pending func(ctx context.Context) (int64, error)) *outboxCollector {
	return &outboxCollector{
		pending: pending,
		timeout: CollectTimeout,
		up:      prometheus.NewDesc("outbox_up", "Whether the last read of the outbox backlog succeeded.", nil, nil),
		count:   prometheus.NewDesc("outbox_pending", "Outbox rows not yet relayed to the job queue.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.count
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	n, err := c.pending(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
}
