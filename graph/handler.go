package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcode"
	"healthcode/graph/generated"
)

// Observer receives operation metrics; server.Metrics implements it.
type Observer interface {
	ObserveOperation(name, typ string, d time.Duration)
	ObserveError(code string)
}

// Options configures the GraphQL handler.
type Options struct {
	// Dev enables introspection, field suggestions, GraphiQL and the @dev
	// fields (devMessages, the clock controls).
	Dev bool
	// Introspection may be enabled outside dev mode (off by default).
	Introspection bool
	// ComplexityLimit bounds the cost of one operation (default 5000). A
	// paginated list field costs its page size times the cost of its
	// selection (withListCosts).
	ComplexityLimit int
	// DepthLimit bounds the nesting of selections (default 10; introspection
	// fields are not counted).
	DepthLimit int
	Logger     *slog.Logger
	Observer   Observer
	// SessionRecheck is how often a websocket's session is checked again
	// (default 5 s): its subscriptions end within this of a logout or of
	// the session's expiry.
	SessionRecheck time.Duration
	// LoaderWait is how long a request's dataloaders gather keys before they
	// read a batch (default DefaultLoaderWait). Tests that count statements
	// raise it, so that a slow machine does not split a page into batches.
	LoaderWait time.Duration
	// RateLimiter, when set, limits the root fields by RateLimits
	// (DefaultRateLimits when nil; DefaultRateRule for fields not in it).
	RateLimiter healthcode.RateLimiter
	RateLimits  map[string]RateRule
	// ApproxRateLimiter, when set, counts the rules that fail open
	// (FailClosed false: the code page, logins, most fields) instead of
	// RateLimiter: ratelimit.Local, which decides on the replica and shares
	// its counts in the background (docs/security.md has the bound). The
	// rules that fail closed stay exact.
	ApproxRateLimiter healthcode.RateLimiter
	// Authenticate resolves the token of a websocket's connection_init
	// payload; nil disables subscriptions.
	Authenticate func(ctx context.Context, token string) (*healthcode.Actor, error)
}

// NewHandler builds the GraphQL HTTP handler with handler.New: POST and GET
// transports (GET runs queries only), a parsed-query cache, complexity and
// depth limits, the error presenter and the per-request dataloaders.
func NewHandler(r *Resolver, opts Options) http.Handler {
	if opts.ComplexityLimit == 0 {
		opts.ComplexityLimit = 5000
	}
	if opts.DepthLimit == 0 {
		opts.DepthLimit = 10
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := generated.Config{Resolvers: r, Directives: generated.DirectiveRoot{
		Dev: func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			if !opts.Dev {
				return nil, healthcode.Errorf(healthcode.ENOTFOUND, "仅开发模式可用")
			}
			return next(ctx)
		},
	}}
	es := generated.NewExecutableSchema(cfg)
	schema := withListCosts(es)
	if !opts.Dev {
		schema = withListCosts(withoutDevFields(es))
	}
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	if opts.Authenticate != nil {
		// Subscriptions only (graphql-transport-ws); the token comes in the
		// connection_init payload, since browsers cannot set headers on a
		// websocket. Cross-origin upgrades are refused by the default
		// implementation.
		srv.AddTransport(&transport.Websocket{
			KeepAlivePingInterval: 15 * time.Second,
			InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				token := strings.TrimPrefix(p.Authorization(), "Bearer ")
				if token == "" {
					return ctx, nil, healthcode.ErrUnauthenticated
				}
				a, err := opts.Authenticate(ctx, token)
				if err != nil {
					return ctx, nil, err
				}
				// The connection (and every subscription on it) ends when
				// the session does: at logout, at expiry, when the account
				// is disabled. The token is checked again every
				// SessionRecheck.
				ctx, cancel := context.WithCancel(transport.AppendCloseReason(ctx, "登录已失效，请重新登录"))
				go watchSession(ctx, cancel, opts.SessionRecheck, func(ctx context.Context) error {
					_, err := opts.Authenticate(ctx, token)
					return err
				})
				return healthcode.NewContextWithActor(ctx, a), nil, nil
			},
		})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetDisableSuggestion(!opts.Dev)
	if opts.Dev || opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	if opts.RateLimiter != nil {
		table := opts.RateLimits
		if table == nil {
			table = DefaultRateLimits
		}
		srv.AroundFields(rateLimitFields(opts.RateLimiter, opts.ApproxRateLimiter, table, log))
	}
	srv.AroundFields(sessionFields)
	// A query's fields share the reads of one operation (healthcode.Memoize:
	// the code page's myCode and myCredential read the person and code once);
	// mutations read afresh.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Query {
			ctx = healthcode.WithRequestMemo(ctx)
		}
		return next(ctx)
	})
	// Automatic persisted queries: a client may send a query's hash alone
	// once the server has seen it (the parsed, validated document is cached
	// by the query cache either way).
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(checkedOnce{checks: []graphql.OperationContextMutator{
		aliasCap{caps: AliasCaps}, // before the cost: the more telling refusal
		extension.FixedComplexityLimit(opts.ComplexityLimit), depthLimit{max: opts.DepthLimit}},
		passed: lru.New[bool](1000)})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		return presentError(ctx, err, log, opts.Observer)
	})
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("internal panic")
	})
	if opts.Observer != nil {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			oc := graphql.GetOperationContext(ctx)
			start := time.Now()
			name, typ := oc.OperationName, "unknown"
			if oc.Operation != nil {
				typ = string(oc.Operation.Operation)
				if name == "" {
					name = oc.Operation.Name
				}
			}
			if name == "" {
				name = "anonymous"
			}
			defer func() { opts.Observer.ObserveOperation(name, typ, time.Since(start)) }()
			return next(ctx)
		})
	}
	return LoaderMiddleware(r, opts.LoaderWait, srv)
}

// watchSession calls check every interval (5 s when 0) until ctx ends, and
// cancels ctx when check answers UNAUTHENTICATED (the session was revoked
// or expired). Other errors (the database is down) keep the connection.
func watchSession(ctx context.Context, cancel context.CancelFunc, interval time.Duration, check func(context.Context) error) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if healthcode.ErrorCode(check(ctx)) == healthcode.EUNAUTHENTICATED {
				cancel()
				return
			}
		}
	}
}

// sessionPayload is a mutation payload that opens a session (login,
// loginResident): its fields resolve as the new session's actor.
type sessionPayload interface {
	SessionActor() *healthcode.Actor
}

// sessionFields is the field middleware that lets the fields under a
// session payload see the new session: `login { me { grants { region } } }`
// reads the region as the account that just logged in, not as the anonymous
// caller of login. The context of a field is inherited by the fields below
// it, so the direct children of the payload are enough. They look up
// without the request's loaders (a handful of lookups), so no batched lookup
// mixes two callers.
func sessionFields(ctx context.Context, next graphql.Resolver) (any, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Parent != nil {
		if p, ok := fc.Parent.Result.(sessionPayload); ok && p.SessionActor() != nil {
			ctx = context.WithValue(healthcode.NewContextWithActor(ctx, p.SessionActor()), loadersKey{}, (*Loaders)(nil))
		}
	}
	return next(ctx)
}

// queryErrorCodes are the codes of errors in the query itself, from
// gqlparser and gqlgen (errcode), whose messages are English.
var queryErrorCodes = map[string]bool{errcode.ParseFailed: true, errcode.ValidationFailed: true, "COMPLEXITY_LIMIT_EXCEEDED": true}

// presentError maps domain errors to extensions.code with their user-facing
// message, gives the errors of the query itself (parse, validation,
// variables, complexity) in Chinese with their code and rule
// (validation_zh.go), and replaces every other error with a generic
// INTERNAL one (logged with its real text).
func presentError(ctx context.Context, err error, log *slog.Logger, obs Observer) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var derr *healthcode.Error
	var inner *gqlerror.Error
	switch {
	case errors.As(err, &derr):
		gerr.Message = derr.Message
		gerr.Extensions = map[string]any{"code": derr.Code}
		if derr.RetryAfter > 0 {
			gerr.Extensions["retryAfter"] = int64((derr.RetryAfter + time.Second - 1) / time.Second)
		}
	case gerr.Extensions != nil && queryErrorCodes[fmt.Sprint(gerr.Extensions["code"])]:
		// A parse, validation or limit error: its message describes the
		// query, not the server. It is given in Chinese (validation_zh.go)
		// with its code and, for a validation rule, the rule's name.
		c := *gerr
		c.Extensions = maps.Clone(gerr.Extensions)
		gerr = &c
		zhQueryError(gerr, gerr.Extensions["code"] == errcode.ParseFailed)
		if gerr.Rule != "" {
			gerr.Extensions["rule"] = gerr.Rule
		}
	case gerr.Extensions != nil && gerr.Extensions["code"] != nil:
		// Our own query limits (depth): already coded and in Chinese.
	case introspectionRefused(err):
		// gqlgen's own refusal (a plain error, wrapped with the field's
		// path) when introspection is off.
		gerr.Message = "未开放内省查询"
		gerr.Extensions = map[string]any{"code": healthcode.EFORBIDDEN}
	case errors.As(err, &inner) && inner.Err == nil:
		// A message-only error from the executor (input coercion, non-null
		// violations): safe to show.
		gerr.Extensions = map[string]any{"code": healthcode.EINVALID}
	case dataException(err):
		// The database refused a value (class 22: out of range, not in the
		// encoding, malformed): bad input that slipped past validation,
		// answered INVALID; logged, since validation should have caught it.
		log.WarnContext(ctx, "data exception", "err", err.Error(), "path", gerr.Path.String(),
			"request_id", healthcode.RequestInfoFromContext(ctx).RequestID)
		gerr.Message = "输入不符合要求"
		gerr.Extensions = map[string]any{"code": healthcode.EINVALID}
	case healthcode.Unavailable(err):
		// A dependency is down (a database outage): retryable, answered
		// 503 with Retry-After by the server (MarkUnavailable).
		log.WarnContext(ctx, "dependency unavailable", "err", err.Error(), "path", gerr.Path.String(),
			"request_id", healthcode.RequestInfoFromContext(ctx).RequestID)
		gerr.Message = healthcode.ErrorMessage(err)
		gerr.Extensions = map[string]any{"code": healthcode.EUNAVAILABLE}
	default:
		log.ErrorContext(ctx, "internal error", "err", err.Error(), "path", gerr.Path.String(),
			"request_id", healthcode.RequestInfoFromContext(ctx).RequestID)
		gerr.Message = healthcode.ErrorMessage(err)
		gerr.Extensions = map[string]any{"code": healthcode.EINTERNAL}
	}
	if gerr.Extensions["code"] == healthcode.EUNAVAILABLE {
		healthcode.MarkUnavailable(ctx)
	}
	if obs != nil {
		obs.ObserveError(fmt.Sprint(gerr.Extensions["code"]))
	}
	return gerr
}

// introspectionRefused reports whether err is gqlgen's refusal of an
// introspection field (__schema, __type) with introspection off.
func introspectionRefused(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "introspection disabled" {
			if _, ok := e.(*gqlerror.Error); !ok {
				return true
			}
		}
	}
	return false
}

// dataException reports whether err carries a PostgreSQL error of SQLSTATE
// class 22 (data exception), read through the SQLState method of the
// driver's error so that this package does not import it.
func dataException(err error) bool {
	var s interface{ SQLState() string }
	return errors.As(err, &s) && strings.HasPrefix(s.SQLState(), "22")
}
