package healthcode

import (
	"context"
	"time"
)

// Limit is a rate: Events per Per, with a burst of Events (a caller that
// was idle may spend them at once, then one every Per/Events).
type Limit struct {
	Events int
	Per    time.Duration
}

// RateLimiter counts events under keys, shared by every replica (package
// ratelimit keeps them in Redis). The GraphQL layer calls it before each
// limited operation.
type RateLimiter interface {
	// Allow counts one event under key against limit. It returns 0 when the
	// event is allowed, or how long until one would be (the event is then
	// not counted). Errors: the store cannot be reached (the caller decides
	// to fail open or closed).
	Allow(ctx context.Context, key string, limit Limit) (retryAfter time.Duration, err error)
}
