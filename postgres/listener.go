package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
)

// Reconnect backoff of the Listener: 100 ms doubling per failed attempt, at
// most ListenerMaxBackoff; reset once the listener is connected again.
const (
	listenerBackoffBase = 100 * time.Millisecond
	// ListenerMaxBackoff bounds the wait between reconnection attempts, so
	// a listener is back within about a second of the database.
	ListenerMaxBackoff = time.Second
	// listenerPing is how long the listener waits for a notification before
	// it checks its connection with a round trip, so that a connection that
	// died silently is noticed within a few seconds.
	listenerPing = 5 * time.Second
)

// listenerName is the application_name of the listener connection, so that
// operators (and tests) can find it in pg_stat_activity.
const listenerName = "healthcode-listener"

// Listener is a process's one LISTEN connection: it listens on every channel
// a Handle registered, calls the channel's notify function for each
// notification, and after every (re)connection calls the resync functions
// before it reports itself connected, so that what happened while it was
// disconnected is caught up (grants reloaded, ticket changes replayed, the
// outbox drained). It reconnects within about a second (ListenerMaxBackoff)
// until Run's context ends. Build it with NewListener, register with Handle
// and OnState before Run, and wait for Ready.
type Listener struct {
	cfg    *pgx.ConnConfig
	logger *slog.Logger

	mu     sync.Mutex
	notify map[string][]func(payload string)
	resync []func(ctx context.Context) error
	state  []func(connected bool)

	ready     chan struct{}
	readyOnce sync.Once
	connected atomic.Bool
	// reconnects counts successful connections after the first.
	reconnects atomic.Int64
	// tickets fans ticket changes out to queue subscribers.
	tickets *ticketHub
	// pool sends Sync's notifications; syncs are the Sync calls waiting
	// for theirs, by nonce (under mu).
	pool  *pgxpool.Pool
	syncs map[string]chan struct{}
}

// NewListener returns the listener of db's process and sets db.Listener to
// it: it connects with the pool's connection settings, or db.ListenURL's
// when set (outside the pool, so closing the pool never waits for it) and already carries the ticket
// changes of the queue subscriptions (TicketService.SubscribeQueue). Entry
// points (and tests of live updates) call it once per DB, then Run it. It
// panics on a db.ListenURL that does not parse (entry points check it).
func NewListener(db *DB) *Listener {
	var cfg *pgx.ConnConfig
	if db.ListenURL != "" {
		var err error
		if cfg, err = pgx.ParseConfig(db.ListenURL); err != nil {
			panic("postgres: NewListener: parse ListenURL: " + err.Error())
		}
	} else {
		cfg = db.Pool.Config().ConnConfig.Copy()
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenerName
	l := &Listener{cfg: cfg, logger: db.Logger, notify: map[string][]func(string){}, ready: make(chan struct{}),
		pool: db.Pool, syncs: map[string]chan struct{}{}}
	l.tickets = newTicketHub(db, l)
	db.Listener = l
	return l
}

// OutboxChannel is the notification channel on which a transaction that
// wrote to the outbox wakes the relays.
const OutboxChannel = "outbox"

// listenerChannels are the channels every Listener listens on.
var listenerChannels = []string{GrantsChannel, TicketsChannel, OutboxChannel, CodeCacheChannel}

// Handle registers notify for channel (one of GrantsChannel, TicketsChannel,
// OutboxChannel, CodeCacheChannel) and, when resync is not nil, a function run after every
// (re)connection before the listener reports itself connected. notify must
// not block; resync gets the listener's context, and its error drops the
// connection and tries again. It may be called at any time; a resync
// registered while connected runs from the next reconnection on. It panics
// on an unknown channel.
func (l *Listener) Handle(channel string, notify func(payload string), resync func(ctx context.Context) error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(listenerChannels, channel) {
		panic("postgres: Listener.Handle of unknown channel " + channel)
	}
	if notify != nil {
		l.notify[channel] = append(l.notify[channel], notify)
	}
	if resync != nil {
		l.resync = append(l.resync, resync)
	}
}

// OnState registers f, called with false as soon as the connection is lost
// and with true once it is back and every resync function has succeeded. It
// must not block. It may be called at any time.
func (l *Listener) OnState(f func(connected bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state = append(l.state, f)
}

// Ready is closed once the listener has connected (and resynced) for the
// first time. Entry points wait for it before they serve.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Connected reports whether the listener is connected now.
func (l *Listener) Connected() bool { return l.connected.Load() }

// Reconnects returns how many times the listener has connected again after
// losing its connection.
func (l *Listener) Reconnects() int64 { return l.reconnects.Load() }

// Run listens until ctx is done and then returns nil. Connection errors are
// logged and retried, never returned.
func (l *Listener) Run(ctx context.Context) error {
	backoff := listenerBackoffBase
	first := true
	for ctx.Err() == nil {
		err := l.once(ctx, func() {
			backoff = listenerBackoffBase
			if !first {
				l.reconnects.Add(1)
			}
			first = false
		})
		if l.connected.Swap(false) {
			l.setState(false)
		}
		if ctx.Err() != nil {
			return nil
		}
		if l.logger != nil {
			l.logger.Warn("database listener disconnected; reconnecting", "err", err, "retry_in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, ListenerMaxBackoff)
	}
	return nil
}

func (l *Listener) setState(connected bool) {
	l.mu.Lock()
	state := slices.Clone(l.state)
	l.mu.Unlock()
	for _, f := range state {
		f(connected)
	}
}

// once connects, listens, resyncs and dispatches until an error or ctx ends.
func (l *Listener) once(ctx context.Context, connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(cctx, l.cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	for _, ch := range listenerChannels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	// Listening from here on: whatever changed before is read back now.
	l.mu.Lock()
	resync := slices.Clone(l.resync)
	l.mu.Unlock()
	for _, f := range resync {
		if err := f(ctx); err != nil {
			return fmt.Errorf("resync: %w", err)
		}
	}
	connected()
	l.connected.Store(true)
	l.setState(true)
	l.readyOnce.Do(func() { close(l.ready) })
	// A Sync whose notification may have been sent while disconnected is
	// answered: the resync has caught up with everything committed before.
	l.releaseSyncs("")
	for {
		wctx, cancel := context.WithTimeout(ctx, listenerPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err = conn.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
		l.mu.Lock()
		notify := l.notify[n.Channel]
		l.mu.Unlock()
		for _, f := range notify {
			f(n.Payload)
		}
		if nonce, ok := strings.CutPrefix(n.Payload, "sync:"); ok && n.Channel == CodeCacheChannel {
			l.releaseSyncs(nonce)
		}
	}
}

// Sync returns once this process's listener has received (and handled) a
// notification sent after Sync was called: notifications are delivered in
// commit order, so every change committed before the call has then been
// applied to this process's caches (the resident code cache,
// WatchResidentCache). A reconnection meanwhile counts as received (its
// resync caught up). Errors: UNAVAILABLE while the listener is not
// connected; ctx's error; the notification's.
func (l *Listener) Sync(ctx context.Context) error {
	if !l.Connected() {
		return healthcode.Errorf(healthcode.EUNAVAILABLE, "数据库通知连接已断开")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	nonce := hex.EncodeToString(b[:])
	done := make(chan struct{})
	l.mu.Lock()
	l.syncs[nonce] = done
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.syncs, nonce)
		l.mu.Unlock()
	}()
	if _, err := l.pool.Exec(ctx, "SELECT pg_notify($1, $2)", CodeCacheChannel, "sync:"+nonce); err != nil {
		return fmt.Errorf("notify sync: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releaseSyncs answers the Sync waiting for nonce, or every one when nonce
// is empty.
func (l *Listener) releaseSyncs(nonce string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n, done := range l.syncs {
		if nonce == "" || n == nonce {
			close(done)
			delete(l.syncs, n)
		}
	}
}

// GrantCache is what the grants channel keeps current: the rbac enforcer.
type GrantCache interface {
	// Invalidate marks the grants stale (reloaded before the next question).
	Invalidate()
	// Reload reads the grants now.
	Reload(ctx context.Context) error
	// Suspend refuses staff questions until Resume, since grants may have
	// changed unseen; Resume answers them again.
	Suspend()
	Resume()
}

// WatchGrants keeps c current through l: every grants_changed notification
// invalidates it; while l is disconnected c is suspended (staff requests are
// refused with UNAVAILABLE instead of being answered on grants that may have
// been revoked meanwhile), and after a reconnection c is reloaded before it
// answers again. The serve and worker commands call it before l.Run.
func WatchGrants(l *Listener, c GrantCache) {
	l.Handle(GrantsChannel, func(string) { c.Invalidate() }, func(ctx context.Context) error {
		if err := c.Reload(ctx); err != nil {
			return err
		}
		c.Resume()
		return nil
	})
	l.OnState(func(connected bool) {
		if !connected {
			c.Suspend()
		}
	})
}
