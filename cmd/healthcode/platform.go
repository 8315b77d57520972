package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/credential"
	"healthcode/graph"
	"healthcode/postgres"
	"healthcode/ratelimit"
	"healthcode/rbac"
	"healthcode/server"
	"healthcode/web"
	"healthcode/workcal"
)

// platform is the wired set of services that serve, worker and dev share.
type platform struct {
	cfg  Config
	log  *slog.Logger
	pool *pgxpool.Pool
	// readPool is READ_DATABASE_URL's pool (nil without it).
	readPool *pgxpool.Pool
	redis    *redis.Client
	db       *postgres.DB
	enforcer *rbac.Enforcer
	clock    healthcode.Clock
	// devClock moves clock in dev mode (kept in the database); nil
	// outside it.
	devClock *postgres.DevClock
	ring     *credential.KeyRing
	// anchors signs the audit chain's head into the key directory.
	anchors *postgres.AuditAnchors
	// listener is the process's one LISTEN connection: grants, ticket
	// changes, the outbox.
	listener *postgres.Listener
	// national is the dev-mode test issuer standing in for the national
	// platform (互信互认); nil outside dev mode.
	national *credential.KeyRing
	// svc are the services, wired once: the API, the HTTP endpoints and
	// the task handlers share them.
	svc services
}

// services are the implementations of the root package's service
// interfaces. Only this package wires them; graph, server and workers see
// them through the interfaces.
type services struct {
	auth        *postgres.AuthService
	regions     *postgres.RegionService
	staff       *postgres.StaffService
	codes       *postgres.CodeService
	credentials *postgres.CredentialService
	scans       *postgres.ScanService
	checkpoints *postgres.CheckpointService
	supervision *postgres.SupervisionService
	subsystems  *postgres.SubsystemService
	rankings    *postgres.RankingService
	indicators  *postgres.IndicatorService
	facts       *postgres.FactService
	rulesets    *postgres.RuleSetService
	tickets     *postgres.TicketService
	audit       *postgres.AuditService
	privacy     *postgres.PrivacyService
}

func openPlatform(ctx context.Context, cfg Config, log *slog.Logger) (*platform, error) {
	cipher, err := cfg.loadCipher()
	if err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	p := &platform{cfg: cfg, log: log, pool: pool, redis: redis.NewClient(ropt)}
	if cfg.ReadDatabaseURL != "" {
		if p.readPool, err = postgres.Open(ctx, cfg.ReadDatabaseURL); err != nil {
			p.close()
			return nil, fmt.Errorf("READ_DATABASE_URL: %w", err)
		}
	}
	if cfg.Dev {
		p.clock = &healthcode.OffsetClock{}
	} else {
		p.clock = healthcode.SystemClock{}
	}
	p.db = &postgres.DB{
		Pool: pool, ReadPool: p.readPool, ListenURL: cfg.ListenDatabaseURL, Clock: p.clock, PII: cipher, Logger: log, Dev: cfg.Dev,
		StaffSessionTTL: cfg.StaffSessionTTL, ResidentSessionTTL: cfg.ResidentTTL,
		Guardianship: &cfg.Guardianship, AlertLimits: cfg.AlertLimits,
	}
	if cfg.Dev {
		// The dev clock of an earlier run, before anything reads the time.
		p.devClock = &postgres.DevClock{DB: p.db, Clock: p.clock.(*healthcode.OffsetClock)}
		if err := p.devClock.Load(ctx); err != nil {
			p.close()
			return nil, err
		}
	}
	p.enforcer, err = rbac.New(p.db.LoadGrants)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("load access control: %w", err)
	}
	p.db.Authz = p.enforcer
	p.db.GrantsChanged = p.enforcer.Invalidate
	p.listener = postgres.NewListener(p.db)
	postgres.WatchGrants(p.listener, p.enforcer)
	if cfg.CodeCache > 0 {
		// The code page without a statement while nothing changed
		// (docs/performance.md, "The resident code cache").
		p.db.ResidentCache = postgres.NewResidentCache(cfg.CodeCache, cfg.CodeCacheTTL)
		postgres.WatchResidentCache(p.listener, p.db.ResidentCache)
	}
	if err := p.db.EnsureRuleSet(ctx); err != nil {
		p.close()
		return nil, err
	}
	// Employers stored in clear before migration 000029 (a no-op once done).
	if n, err := p.db.EncryptEmployers(ctx); err != nil {
		p.close()
		return nil, err
	} else if n > 0 {
		log.Info("encrypted the employers stored in clear", "persons", n)
	}
	tickets := postgres.NewTicketService(p.db)
	if cfg.HotlinePolicy != "" {
		b, err := os.ReadFile(cfg.HotlinePolicy)
		if err == nil {
			tickets.Policy, err = workcal.ParsePolicy(b)
		}
		if err != nil {
			p.close()
			return nil, fmt.Errorf("HOTLINE_POLICY %s: %w", cfg.HotlinePolicy, err)
		}
	}
	p.ring, err = credential.LoadKeyRing(cfg.KeyDir, credential.IssuerProvince, cfg.Dev)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("load signing keys: %w (create them with: healthcode keys rotate)", err)
	}
	if cfg.Dev {
		if p.national, err = credential.NewMemoryKeyRing(credential.IssuerNational); err != nil {
			p.close()
			return nil, err
		}
	}
	p.anchors = &postgres.AuditAnchors{DB: p.db, Ring: p.ring, Path: filepath.Join(cfg.KeyDir, postgres.AuditAnchorFile)}
	warnMissingHolidays(log, tickets.Calendar, p.clock.Now())
	p.wire(tickets)
	return p, nil
}

// warnMissingHolidays warns, at start-up, of each year without holiday data
// that the hotline's deadlines set now may reach: there they count Monday
// to Friday only, wrong around the holidays, until the State Council's
// notice is added as workcal/data/<year>.json (see the workcal package doc).
func warnMissingHolidays(log *slog.Logger, cal *workcal.Calendar, now time.Time) {
	for _, y := range cal.MissingYears(now) {
		log.Warn("the working-time calendar has no holidays for this year: hotline deadlines count Monday to Friday only; "+
			"add workcal/data/<year>.json from the State Council's holiday notice (docs/operations.md, \"Holiday data for the hotline's deadlines\")", "year", y)
	}
}

// wire builds the services once.
func (p *platform) wire(tickets *postgres.TicketService) {
	db, cfg := p.db, p.cfg
	checkpoints := &postgres.CheckpointService{DB: db}
	codes := &postgres.CodeService{DB: db}
	creds := &postgres.CredentialService{DB: db, Codes: codes, Ring: p.ring, ElectronicTTL: cfg.CodeTokenTTL,
		TrustList: checkpoints.TrustedIssuers}
	if p.national != nil {
		// The trusted issuers: the dev-mode national test issuer.
		creds.Trusted = append(creds.Trusted, p.national.Trusted("国家政务服务平台（开发测试）", p.clock.Now()))
	}
	p.svc = services{
		auth:        &postgres.AuthService{DB: db},
		regions:     &postgres.RegionService{DB: db},
		staff:       &postgres.StaffService{DB: db},
		codes:       codes,
		credentials: creds,
		scans:       &postgres.ScanService{DB: db, Credentials: creds},
		checkpoints: checkpoints,
		supervision: &postgres.SupervisionService{DB: db, JointMeetingDue: cfg.JointMeetingDue},
		subsystems:  &postgres.SubsystemService{DB: db},
		rankings:    &postgres.RankingService{DB: db, Policy: cfg.RankingPolicy},
		indicators:  &postgres.IndicatorService{DB: db, JointMeetingDue: cfg.JointMeetingDue},
		facts:       &postgres.FactService{DB: db},
		rulesets:    &postgres.RuleSetService{DB: db},
		tickets:     tickets,
		audit:       &postgres.AuditService{DB: db},
		privacy:     &postgres.PrivacyService{DB: db},
	}
}

func (p *platform) close() {
	p.redis.Close()
	p.pool.Close()
	if p.readPool != nil {
		p.readPool.Close()
	}
}

// listen runs the process's listener until ctx ends and waits until it is
// connected (grants, ticket changes and the outbox are then followed), or
// ctx ends. Errors: ctx's error.
func (p *platform) listen(ctx context.Context) error {
	go func() {
		if err := p.listener.Run(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("database listener stopped", "err", err)
		}
	}()
	select {
	case <-p.listener.Ready():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *platform) resolver() *graph.Resolver {
	r := &graph.Resolver{
		AuthService:    p.svc.auth,
		RegionService:  p.svc.regions,
		StaffService:   p.svc.staff,
		CodeService:    p.svc.codes,
		Credentials:    p.svc.credentials,
		ScanService:    p.svc.scans,
		Checkpoints:    p.svc.checkpoints,
		Supervision:    p.svc.supervision,
		Subsystems:     p.svc.subsystems,
		MachineClients: &postgres.MachineClientService{DB: p.db},
		RankingService: p.svc.rankings,
		Indicators:     p.svc.indicators,
		FactService:    p.svc.facts,
		Colours:        &postgres.ColourRequestService{DB: p.db},
		RuleSetService: p.svc.rulesets,
		TicketService:  p.svc.tickets,
		Calendar:       postgres.MustCalendar(),
		AuditService:   p.svc.audit,
		AlertService:   &postgres.AlertService{DB: p.db},
		Privacy:        p.svc.privacy,
	}
	if p.cfg.Dev {
		r.DevSMS = p.db.DevMessages
		r.DevClock = p.devClock
	}
	return r
}

// httpServer builds the API server; the replica's rate limiter shares its
// counts through Redis until ctx ends.
func (p *platform) httpServer(ctx context.Context) *server.Server {
	metrics := server.NewMetrics()
	p.db.AlertRaised = metrics.ObserveAlert
	for _, err := range []error{
		metrics.RegisterDBPool(p.pool),
		metrics.RegisterQueue(asynq.NewInspectorFromRedisClient(p.redis)),
		metrics.RegisterOutbox(func(ctx context.Context) (server.OutboxBacklog, error) {
			b, err := p.db.Backlog(ctx)
			return server.OutboxBacklog(b), err
		}),
		p.registerCodeCache(metrics),
	} {
		if err != nil {
			p.log.Warn("metrics collector not registered", "err", err)
		}
	}
	res := p.resolver()
	// The rules that fail closed count in Redis, exact; the others (the
	// code page among them) on the replica, shared every 100 ms.
	limiter := &ratelimit.Redis{Client: p.redis, Clock: p.clock}
	approx := &ratelimit.Local{Shared: limiter}
	go func() { _ = approx.Run(ctx) }()
	gql := graph.NewHandler(res, graph.Options{
		Dev: p.cfg.Dev, Introspection: p.cfg.Introspection, Logger: p.log, Observer: metrics,
		Authenticate:      res.AuthService.Authenticate,
		RateLimiter:       limiter,
		ApproxRateLimiter: approx,
		RateLimits:        p.cfg.RateLimits,
	})
	var playground http.Handler
	if p.cfg.Dev {
		playground = graph.LocalPlayground("陕西健康码 GraphQL", "/graphql", web.FS())
	}
	creds := p.svc.credentials
	var admission *server.AdmissionConfig
	if p.cfg.AdmissionLimit > 0 {
		admission = &server.AdmissionConfig{Limit: p.cfg.AdmissionLimit, LoginLimit: p.cfg.AdmissionLoginLimit,
			MaxWait: p.cfg.AdmissionMaxWait, Classify: requestClass}
	}
	ready := map[string]func(context.Context) error{
		"postgres": func(ctx context.Context) error { return p.pool.Ping(ctx) },
		"redis":    func(ctx context.Context) error { return p.redis.Ping(ctx).Err() },
	}
	if p.readPool != nil {
		ready["postgres-read"] = func(ctx context.Context) error { return p.readPool.Ping(ctx) }
	}
	return server.New(server.Config{
		Admission: admission,
		Mount: map[string]http.Handler{
			"GET /.well-known/healthcode/keys.json":        server.KeySetHandler(creds),
			"GET /.well-known/healthcode/revocations.json": server.RevocationsHandler(creds),
			"GET /.well-known/healthcode/audit-checkpoints.json": server.AuditAnchorsHandler(func(ctx context.Context) (any, error) {
				return p.anchors.Published(ctx)
			}),
			"POST /api/scans":                  server.ScanUploadHandler(res.ScanService),
			"POST /exchange/v1/records":        server.SubsystemPushHandler(res.Subsystems),
			"POST /exchange/v1/medical-events": server.MedicalEventsHandler(res.MachineClients),
			server.RankingReportPattern:        server.RankingReportHandler(res.RankingService),
		},
		Addr: p.cfg.HTTPAddr, MetricsAddr: metricsAddr(p.cfg.MetricsAddr), Auth: res.AuthService, GraphQL: gql, Playground: playground,
		Metrics: metrics, Logger: p.log, TrustForwardedFor: p.cfg.TrustForwardedFor, Drain: p.cfg.ShutdownDrain,
		ReadyChecks: ready,
	})
}

// requestClass is the admission class of a request to the API server:
// GraphQL by its operation (graph.OperationClasses), the scan upload
// essential, ranking report downloads non-essential, the sub-system push
// normal; static files and key sets bypass admission control (cheap, and
// the scanner needs the keys).
func requestClass(r *http.Request) healthcode.WorkClass {
	switch path := r.URL.Path; {
	case path == "/graphql":
		return graph.RequestClass(r)
	case path == "/api/scans":
		return healthcode.ClassEssential
	case strings.HasPrefix(path, "/reports/"):
		return healthcode.ClassNonEssential
	case strings.HasPrefix(path, "/exchange/"):
		return healthcode.ClassNormal
	}
	return ""
}

// metricsAddr is the server's MetricsAddr for METRICS_ADDR: "off" serves no
// metrics.
func metricsAddr(v string) string {
	if v == "off" {
		return ""
	}
	return v
}

// registerCodeCache exports the resident code cache's counters (none when
// it is off).
func (p *platform) registerCodeCache(m *server.Metrics) error {
	c := p.db.ResidentCache
	if c == nil {
		return nil
	}
	return m.RegisterCodeCache(func() server.CodeCacheStats {
		s := c.Stats()
		return server.CodeCacheStats{Hits: s.Hits, Misses: s.Misses, Invalidations: s.Invalidations, Flushes: s.Flushes,
			Discarded: s.Discarded, Evictions: s.Evictions, Entries: s.Entries}
	})
}
