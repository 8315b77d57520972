package healthcode

import (
	"context"
	"sync/atomic"
	"time"
)

// RetryAfter is what the platform tells a client to wait before it retries
// a request answered UNAVAILABLE (the HTTP Retry-After header): about as
// long as its processes take to reconnect to a dependency that is back.
const RetryAfter = 2 * time.Second

type unavailableKey struct{}

// WithUnavailableFlag returns a context carrying a per-request flag that
// MarkUnavailable sets, and a function that reports whether it was set. The
// HTTP server puts it in every request, so that a GraphQL response with an
// UNAVAILABLE error is answered 503 with Retry-After.
func WithUnavailableFlag(ctx context.Context) (context.Context, func() bool) {
	var flag atomic.Bool
	return context.WithValue(ctx, unavailableKey{}, &flag), flag.Load
}

// MarkUnavailable sets the request's flag (WithUnavailableFlag), if any. The
// GraphQL error presenter calls it for every UNAVAILABLE error.
func MarkUnavailable(ctx context.Context) {
	if f, ok := ctx.Value(unavailableKey{}).(*atomic.Bool); ok {
		f.Store(true)
	}
}
