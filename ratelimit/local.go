package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcode"
)

// Local is a limiter that decides on this replica, without a Redis round
// trip per event, and shares its counts with the other replicas through
// Redis in the background. Each key's GCRA state (its theoretical arrival
// time, the same value Redis keeps for Redis) is read from Redis the first
// time the replica meets the key; after that the replica counts the key's
// events locally and, every Sync, adds them to the shared state in one
// pipeline and adopts the shared state back (which holds the other replicas'
// events). A key idle for Idle is forgotten and read again when it returns.
//
// The bound: a replica's view of a key lags the others' events by at most
// one sync (plus a Redis round trip), so with R replicas serving one key at
// once they admit at most (R−1) × (burst + Sync ÷ the limit's interval)
// events more than the limit over any stretch of time, and the long-run rate
// is the limit's (the shared state runs ahead by the excess and each replica
// then waits it out). One replica alone is exact. A replica never refuses an
// event the shared state would allow, except within one sync of another
// replica's refusals catching up. Use it for limits that may fail open (the
// GraphQL layer uses it for the rules without FailClosed); the exact Redis
// limiter stays for the tight ones.
//
// Run must run (the platform runs it until it stops); without it the counts
// are not shared and the keys are never forgotten.
type Local struct {
	// Shared is the Redis limiter whose keys (prefix, client, clock) this
	// one shares: a replica using Local and one using Redis count alike.
	Shared *Redis
	// Sync is how often counts go to Redis (default 100 ms).
	Sync time.Duration
	// Idle is how long a key may go unused before it is forgotten (default
	// one minute).
	Idle time.Duration

	mu   sync.Mutex
	keys map[string]*localKey
	// syncErr is the last sync's error (nil after a sync that worked):
	// while Redis cannot be reached Allow answers it, as Redis would.
	syncErr error
}

var _ healthcode.RateLimiter = (*Local)(nil)

type localKey struct {
	ready    chan struct{} // closed once loaded (loadErr set on failure)
	loadErr  error
	tat      int64 // ms: the theoretical arrival time as this replica knows it
	interval int64 // ms per event
	pending  int64 // events allowed here and not yet added to Redis
	used     bool  // used since the last sync (its shared state is read back)
	lastUse  int64 // ms
}

// Allow implements healthcode.RateLimiter: any caller. A limit of no events
// or no period allows everything.
// Errors: Redis cannot be reached (the key's first read, or the last sync
// failed).
func (l *Local) Allow(ctx context.Context, key string, lim healthcode.Limit) (time.Duration, error) {
	if lim.Events <= 0 || lim.Per <= 0 {
		return 0, nil
	}
	interval := max(lim.Per.Milliseconds()/int64(lim.Events), 1)
	burst := int64(lim.Events)
	l.mu.Lock()
	var k *localKey
	for k == nil {
		if l.syncErr != nil {
			err := l.syncErr
			l.mu.Unlock()
			return 0, err
		}
		if l.keys == nil {
			l.keys = map[string]*localKey{}
		}
		var ok bool
		k, ok = l.keys[key]
		if !ok { // first met: read the shared state
			k = &localKey{ready: make(chan struct{}), interval: interval}
			l.keys[key] = k
			l.mu.Unlock()
			tat, err := l.read(ctx, key)
			l.mu.Lock()
			if err != nil {
				k.loadErr = err
				delete(l.keys, key)
			} else {
				k.tat = max(k.tat, tat)
			}
			close(k.ready)
			if err != nil {
				l.mu.Unlock()
				return 0, err
			}
			break
		}
		select {
		case <-k.ready:
		default: // another call is reading it
			l.mu.Unlock()
			select {
			case <-k.ready:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
			l.mu.Lock()
			if l.keys[key] != k { // failed or forgotten meanwhile: again
				k = nil
			}
		}
	}
	defer l.mu.Unlock()
	now := l.Shared.clock().Now().UnixMilli()
	k.used, k.lastUse, k.interval = true, now, interval
	tat := max(k.tat, now)
	next := tat + interval
	if allowAt := next - burst*interval; allowAt > now {
		return time.Duration(allowAt-now) * time.Millisecond, nil
	}
	k.tat = next
	k.pending++
	return 0, nil
}

// read returns the shared state of key (0 when Redis has none).
func (l *Local) read(ctx context.Context, key string) (int64, error) {
	v, err := l.Shared.Client.Get(ctx, l.Shared.prefix()+key).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	tat, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %q is not a time", key, v)
	}
	return int64(tat), nil
}

// add: KEYS[1] the key; ARGV now (ms), the time the events take (ms: their
// count times the interval). Adds them to the shared state and returns it.
var add = redis.NewScript(`
local now = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
tat = tat + tonumber(ARGV[2])
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], tat, 'PX', math.max(tat - now, 1))
end
return tat
`)

// Run syncs every Sync until ctx ends, then once more. Errors: none (a
// failed sync is kept for Allow and retried).
func (l *Local) Run(ctx context.Context) error {
	every := l.Sync
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = l.Flush(fctx)
			cancel()
			return nil
		case <-t.C:
			_ = l.Flush(ctx)
		}
	}
}

// Flush adds the events counted here since the last flush to Redis, reads
// back the shared state of every key used since, and forgets the keys idle
// for Idle. Run calls it every Sync; tests call it to sync at a known
// point. Errors: Redis cannot be reached (the events stay counted here and
// go with the next flush; Allow answers the error until one works).
func (l *Local) Flush(ctx context.Context) error {
	idle := l.Idle
	if idle <= 0 {
		idle = time.Minute
	}
	type job struct {
		key     string
		k       *localKey
		pending int64
		// interval is k's, read under the lock: Allow may change it.
		interval int64
		cmd      *redis.Cmd
	}
	l.mu.Lock()
	now := l.Shared.clock().Now().UnixMilli()
	var jobs []job
	for key, k := range l.keys {
		select {
		case <-k.ready:
		default:
			continue // being read
		}
		if !k.used && k.pending == 0 {
			if now-k.lastUse > idle.Milliseconds() {
				delete(l.keys, key)
			}
			continue
		}
		jobs = append(jobs, job{key: key, k: k, pending: k.pending, interval: k.interval})
		k.pending, k.used = 0, false
	}
	l.mu.Unlock()
	if len(jobs) == 0 {
		l.setSyncErr(l.Shared.Client.Ping(ctx).Err())
		return nil
	}
	pipe := l.Shared.Client.Pipeline()
	for i := range jobs {
		j := &jobs[i]
		j.cmd = add.Run(ctx, pipe, []string{l.Shared.prefix() + j.key}, now, j.pending*j.interval)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		// Scripts not loaded yet answer NOSCRIPT in a pipeline: load and retry once.
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			if lerr := add.Load(ctx, l.Shared.Client).Err(); lerr == nil {
				pipe = l.Shared.Client.Pipeline()
				for i := range jobs {
					j := &jobs[i]
					j.cmd = add.EvalSha(ctx, pipe, []string{l.Shared.prefix() + j.key}, now, j.pending*j.interval)
				}
				_, err = pipe.Exec(ctx)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		for _, j := range jobs {
			j.k.pending += j.pending
			j.k.used = true
		}
		l.syncErr = fmt.Errorf("rate limit: sync with Redis: %w", err)
		return l.syncErr
	}
	l.syncErr = nil
	for _, j := range jobs {
		if tat, err := j.cmd.Int64(); err == nil {
			j.k.tat = max(j.k.tat, tat)
		}
	}
	return nil
}

func (l *Local) setSyncErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.syncErr = fmt.Errorf("rate limit: sync with Redis: %w", err)
	} else {
		l.syncErr = nil
	}
}

func (r *Redis) clock() healthcode.Clock {
	if r.Clock == nil {
		return healthcode.SystemClock{}
	}
	return r.Clock
}

func (r *Redis) prefix() string {
	if r.Prefix == "" {
		return "hc:rl:"
	}
	return r.Prefix
}
