// Package ratelimit implements healthcode.RateLimiter on Redis with the
// generic cell rate algorithm (GCRA): one key per limited subject holds its
// theoretical arrival time, updated atomically by a Lua script, so every
// replica shares the same counts and a key costs one small string that
// expires when its subject has been idle for a period.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcode"
)

// Redis is the limiter. Now comes from Clock (tests move it); the script
// takes it as an argument rather than reading Redis's clock.
type Redis struct {
	Client redis.UniversalClient
	Clock  healthcode.Clock
	// Prefix is put before every key (default "hc:rl:").
	Prefix string
}

var _ healthcode.RateLimiter = (*Redis)(nil)

// gcra: KEYS[1] the key; ARGV now (ms), interval between events (ms),
// burst. Returns 0 (allowed, counted) or the wait in ms.
var gcra = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local newtat = tat + interval
local allowAt = newtat - burst * interval
if allowAt > now then return allowAt - now end
redis.call('SET', KEYS[1], newtat, 'PX', math.max(newtat - now, 1))
return 0
`)

// Allow implements healthcode.RateLimiter: any caller. A limit of no events
// or no period allows everything.
// Errors: Redis errors (unreachable, script failed).
func (r *Redis) Allow(ctx context.Context, key string, l healthcode.Limit) (time.Duration, error) {
	if l.Events <= 0 || l.Per <= 0 {
		return 0, nil
	}
	clock := r.Clock
	if clock == nil {
		clock = healthcode.SystemClock{}
	}
	prefix := r.Prefix
	if prefix == "" {
		prefix = "hc:rl:"
	}
	interval := max(l.Per.Milliseconds()/int64(l.Events), 1)
	wait, err := gcra.Run(ctx, r.Client, []string{prefix + key}, clock.Now().UnixMilli(), interval, l.Events).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}
