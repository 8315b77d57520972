package healthcode

import (
	"context"
	"sync"
)

// requestMemoKey is the context key of an operation's memo.
type requestMemoKey struct{}

// requestMemo holds the values computed once per operation.
type requestMemo struct {
	mu      sync.Mutex
	entries map[any]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
	err  error
}

// WithRequestMemo returns a context whose Memoize calls share their results:
// the transport gives each GraphQL operation one, so that the fields of one
// code page (myCode, myCredential) read the resident's person and code once.
// Only transports call it, for read operations; any caller may.
func WithRequestMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestMemoKey{}, &requestMemo{entries: map[any]*memoEntry{}})
}

// Memoize returns the result of f for key, computed once per operation
// memo (WithRequestMemo) however many fields ask, concurrently or not;
// without a memo in ctx it calls f. Errors: those of f. Only services call
// it, with keys of their own unexported types.
func Memoize[T any](ctx context.Context, key any, f func() (T, error)) (T, error) {
	m, _ := ctx.Value(requestMemoKey{}).(*requestMemo)
	if m == nil {
		return f()
	}
	m.mu.Lock()
	e := m.entries[key]
	if e == nil {
		e = &memoEntry{}
		m.entries[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	v, _ := e.v.(T)
	return v, e.err
}

// HasRequestMemo reports whether ctx carries an operation's memo
// (WithRequestMemo), that is, whether the caller serves a read operation
// whose fields may share what was read for it. Any caller may call it.
func HasRequestMemo(ctx context.Context) bool {
	_, ok := ctx.Value(requestMemoKey{}).(*requestMemo)
	return ok
}
