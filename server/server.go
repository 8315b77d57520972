// Package server is the platform's HTTP entry point: it authenticates bearer
// tokens, puts the actor and request info in the context, limits request
// bodies, logs and measures every request, and routes to the GraphQL handler
// (built by package graph), the ops endpoints (/healthz, /readyz, /metrics),
// extra mounted handlers and the embedded web front end.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"healthcode"
	"healthcode/web"
)

// Authenticator resolves a bearer token to an actor. healthcode.AuthService
// satisfies it.
type Authenticator interface {
	// Authenticate returns the actor of token. An error with code
	// UNAUTHENTICATED means the token is unknown, expired, revoked or
	// malformed; any other error is treated as an internal failure.
	Authenticate(ctx context.Context, token string) (*healthcode.Actor, error)
}

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// ShutdownTimeout bounds the graceful shutdown in Run and Serve.
const ShutdownTimeout = 10 * time.Second

// Config configures a Server. Only Auth is required.
type Config struct {
	// Addr is the listen address for Run (default ":8080").
	Addr string
	// Auth resolves "Authorization: Bearer <token>" headers. Required.
	Auth Authenticator
	// GraphQL serves /graphql (POST, and GET with a JSON response). When nil,
	// /graphql answers 404.
	GraphQL http.Handler
	// Playground serves GraphiQL on GET /graphql for requests that accept
	// text/html. Set it in dev mode only; nil disables it. No
	// Content-Security-Policy is sent with it, so its CDN scripts may load.
	Playground http.Handler
	// ReadyChecks are run by GET /readyz, keyed by a short name such as
	// "postgres" or "redis". Each gets a 2 s timeout.
	ReadyChecks map[string]func(ctx context.Context) error
	// Metrics records HTTP metrics, served as GET /metrics by MetricsHandler
	// on a listener of its own, never on the public one (which answers 404).
	// When nil, New creates one (see Server.Metrics).
	Metrics *Metrics
	// MetricsAddr is where Run serves /metrics (METRICS_ADDR; a loopback
	// address by default in the commands); empty: Run serves no metrics
	// and the caller may serve MetricsHandler itself (ServeMetrics).
	MetricsAddr string
	// Logger receives access logs, panics and server errors (default slog.Default()).
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// TrustForwardedFor takes the client address from the first
	// X-Forwarded-For entry. Set it only when every request passes a proxy
	// that overwrites the header; otherwise clients can forge their address.
	TrustForwardedFor bool
	// TrustedProxies, when non-empty, takes the client address from
	// X-Forwarded-For only for requests whose peer is in one of these
	// prefixes: the rightmost entry that is not itself a trusted proxy.
	// It is safe with proxies that append to the header.
	TrustedProxies []netip.Prefix
	// Mount adds handlers by http.ServeMux pattern, e.g.
	// "GET /.well-known/healthcode/keys.json". They run behind the same
	// middleware as every other route.
	Mount map[string]http.Handler
	// Static serves every path no other route claims (default web.Handler()).
	Static http.Handler
	// Drain is how long Serve keeps serving after its context ends, with
	// /readyz answering 503, so that a load balancer takes the replica out
	// of rotation before it stops accepting connections (SHUTDOWN_DRAIN;
	// 0: stop at once).
	Drain time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests once the drain
	// is over (default ShutdownTimeout).
	ShutdownTimeout time.Duration
	// Admission turns on admission control (admission.go): a bound on the
	// requests in flight, shared by the classes of work so that overload
	// refuses non-essential work first with OVERLOADED. Nil: none.
	Admission *AdmissionConfig
}

// Server is the HTTP server of the API and the web front end.
type Server struct {
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	handler  http.Handler
	draining atomic.Bool
	// admission is nil without Config.Admission.
	admission *admission
	// ready caches the outcome of the ready checks (ReadyCacheTTL).
	ready readyCache
}

// New builds a server from cfg, filling defaults. Entry points (the serve and
// dev commands, tests) call it once. It panics on programming errors: a nil
// cfg.Auth, or a Mount pattern that is invalid or conflicts with a built-in
// route (/graphql, /healthz, /readyz, /metrics).
func New(cfg Config) *Server {
	if cfg.Auth == nil {
		panic("server: Config.Auth is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Static == nil {
		cfg.Static = web.Handler()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics}
	if cfg.Admission != nil {
		s.admission = newAdmission(*cfg.Admission, cfg.Metrics)
	}
	s.handler = s.routes()
	return s
}

// Metrics returns the server's metrics, for the graph package and the
// registration of pool, queue and outbox collectors. Any caller may use it.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler returns the root handler with every middleware applied. Tests and
// entry points that run their own http.Server call it.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", http.HandlerFunc(s.serveGraphQL))
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	// Metrics are served on their own listener (MetricsHandler): the
	// public one answers 404 rather than the web front end's page.
	mux.Handle("/metrics", http.NotFoundHandler())
	for pattern, h := range s.cfg.Mount {
		mux.Handle(pattern, h)
	}
	mux.Handle("/", s.cfg.Static)

	// Outermost first; see DESIGN.md "Runtime" and the package doc.
	return chain(mux,
		s.recoverPanics,
		s.requestID,
		s.requestInfo,
		s.securityHeaders,
		s.accessLog,
		s.measure,
		s.limitBody,
		s.admit,
		s.authenticate,
	)
}

// chain applies middleware so that the first one listed runs first.
func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// serveGraphQL sends browsers to GraphiQL (when configured) and everything
// else to the GraphQL handler. A POST whose Content-Type is not
// application/json is answered 415 INVALID, another method than GET, POST or
// OPTIONS 405 INVALID, both with a coded error document.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.isPlayground(r):
		s.cfg.Playground.ServeHTTP(w, r)
	case s.cfg.GraphQL != nil:
		if r.Header.Get("Upgrade") != "" {
			s.cfg.GraphQL.ServeHTTP(w, r) // a websocket: no status to turn
			return
		}
		if r.Method == http.MethodPost {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, healthcode.EINVALID, msgGraphQLContentType)
				return
			}
		} else if r.Method != http.MethodGet && r.Method != http.MethodOptions {
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, healthcode.EINVALID, msgGraphQLMethod)
			return
		}
		ctx, unavailable := healthcode.WithUnavailableFlag(r.Context())
		s.cfg.GraphQL.ServeHTTP(&unavailableWriter{ResponseWriter: w, unavailable: unavailable}, r.WithContext(ctx))
	default:
		http.NotFound(w, r)
	}
}

// isPlayground reports whether r is a browser asking for GraphiQL.
func (s *Server) isPlayground(r *http.Request) bool {
	return s.cfg.Playground != nil && r.URL.Path == "/graphql" &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) && acceptsHTML(r)
}

// Run listens on cfg.Addr (and cfg.MetricsAddr, when set, for the metrics)
// and serves until ctx is done, then shuts down gracefully (see Serve). The
// serve command calls it. It returns listen errors, serve errors and
// shutdown errors, wrapped.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.MetricsAddr == "" {
		return s.Serve(ctx, ln)
	}
	mln, err := lc.Listen(ctx, "tcp", s.cfg.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s (METRICS_ADDR): %w", s.cfg.MetricsAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metricsDone := make(chan error, 1)
	go func() { metricsDone <- s.ServeMetrics(ctx, mln) }()
	err = s.Serve(ctx, ln)
	cancel()
	return errors.Join(err, <-metricsDone)
}

// MetricsHandler serves GET /metrics (Prometheus) and nothing else: the
// handler of the metrics listener, which has no authentication, so it
// belongs on a loopback or internal address. Any caller may use it.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	return mux
}

// ServeMetrics serves MetricsHandler on ln until ctx is done. Run calls it
// for cfg.MetricsAddr; the dev command calls it with a listener of its own.
// It returns nil after a clean shutdown and serve errors otherwise.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}

// Serve serves on ln until ctx is done. Then /readyz starts answering 503
// while every other request is still served for cfg.Drain (the load
// balancer's cue to stop sending traffic), then new connections are refused
// and in-flight requests get cfg.ShutdownTimeout to finish before their
// connections are closed. Tests with free ports call it directly. It returns
// nil after a clean shutdown, and serve or shutdown errors otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Request contexts keep ctx's values but are not cancelled with
		// it, so that in-flight requests can finish during shutdown.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("http server listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if s.cfg.Drain > 0 {
		s.log.Info("draining: /readyz answers 503, still serving", "for", s.cfg.Drain)
		select {
		case err := <-errc:
			return fmt.Errorf("serve http: %w", err)
		case <-time.After(s.cfg.Drain):
		}
	}
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = ShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("shut down http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	s.log.Info("http server stopped")
	return nil
}
