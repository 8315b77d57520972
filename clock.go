package healthcode

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time. Services take it from their configuration so tests
// and the dev-mode clock controls can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// OffsetClock is the wall clock shifted by an adjustable offset. Dev mode
// and tests use it to replay scenarios that span weeks. Safe for concurrent use.
type OffsetClock struct {
	mu     sync.RWMutex
	offset time.Duration
}

// Now returns the wall clock plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return time.Now().Add(c.offset)
}

// Set moves the clock so that Now returns t (and then advances in real time).
func (c *OffsetClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}

// Advance moves the clock forward by d.
func (c *OffsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Offset returns how far the clock runs ahead of the wall clock (negative:
// behind).
func (c *OffsetClock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// SetOffset makes the clock run d ahead of the wall clock.
func (c *OffsetClock) SetOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// DevClockService moves the clock of dev mode (devSetClock,
// devAdvanceClock), for every part of the platform at once, and keeps it
// across restarts. Dev mode only; anyone may call it there.
type DevClockService interface {
	// Set moves the clock so that it reads at now. Errors: INVALID when at
	// lies before data already recorded (the newest audit record).
	Set(ctx context.Context, at time.Time) (time.Time, error)
	// Advance moves the clock forward by d (d >= 0). Errors: INVALID for a
	// negative d.
	Advance(ctx context.Context, d time.Duration) (time.Time, error)
}

// CST is China Standard Time (UTC+8; China has no daylight saving time): the
// zone of every calendar day, deadline and report of the platform. A fixed
// zone, so no tzdata is needed. Any package may use it.
var CST = time.FixedZone("CST", 8*3600)
