package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/credential"
	"healthcode/graph"
	"healthcode/postgres"
	"healthcode/rbac"
	"healthcode/server"
	"healthcode/web"
	"healthcode/workcal"
)

// platform is the wired set of services that serve, worker and dev share.
type platform struct {
	cfg      Config
	log      *slog.Logger
	pool     *pgxpool.Pool
	redis    *redis.Client
	db       *postgres.DB
	enforcer *rbac.Enforcer
	clock    healthcode.Clock
	// devClock moves clock in dev mode (kept in the database); nil
	// outside it.
	devClock *postgres.DevClock
	ring     *credential.KeyRing
	tickets  *postgres.TicketService
	// listener is the process's one LISTEN connection: grants, ticket
	// changes, the outbox.
	listener *postgres.Listener
	// national is the dev-mode test issuer standing in for the national
	// platform (互信互认); nil outside dev mode.
	national *credential.KeyRing
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
	if cfg.Dev {
		p.clock = &healthcode.OffsetClock{}
	} else {
		p.clock = healthcode.SystemClock{}
	}
	p.db = &postgres.DB{
		Pool: pool, Clock: p.clock, PII: cipher, Logger: log, Dev: cfg.Dev,
		StaffSessionTTL: cfg.StaffSessionTTL, ResidentSessionTTL: cfg.ResidentTTL,
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
	if err := p.db.EnsureRuleSet(ctx); err != nil {
		p.close()
		return nil, err
	}
	p.tickets = postgres.NewTicketService(p.db)
	if cfg.HotlinePolicy != "" {
		b, err := os.ReadFile(cfg.HotlinePolicy)
		if err == nil {
			p.tickets.Policy, err = workcal.ParsePolicy(b)
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
	return p, nil
}

func (p *platform) close() {
	p.redis.Close()
	p.pool.Close()
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

// credentials builds the credential service: our key ring plus the trusted
// issuers (the dev-mode national test issuer).
func (p *platform) credentials(codes *postgres.CodeService) *postgres.CredentialService {
	cs := &postgres.CredentialService{DB: p.db, Codes: codes, Ring: p.ring, ElectronicTTL: p.cfg.CodeTokenTTL,
		TrustList: (&postgres.CheckpointService{DB: p.db}).TrustedIssuers}
	if p.national != nil {
		cs.Trusted = append(cs.Trusted, p.national.Trusted("国家政务服务平台（开发测试）", p.clock.Now()))
	}
	return cs
}

func (p *platform) resolver() *graph.Resolver {
	codes := &postgres.CodeService{DB: p.db}
	creds := p.credentials(codes)
	r := &graph.Resolver{
		AuthService:    &postgres.AuthService{DB: p.db},
		RegionService:  &postgres.RegionService{DB: p.db},
		StaffService:   &postgres.StaffService{DB: p.db},
		CodeService:    codes,
		Credentials:    creds,
		ScanService:    &postgres.ScanService{DB: p.db, Credentials: creds},
		Checkpoints:    &postgres.CheckpointService{DB: p.db},
		Supervision:    &postgres.SupervisionService{DB: p.db, JointMeetingDue: p.cfg.JointMeetingDue},
		Subsystems:     &postgres.SubsystemService{DB: p.db},
		RankingService: &postgres.RankingService{DB: p.db, Policy: p.cfg.RankingPolicy},
		Indicators:     &postgres.IndicatorService{DB: p.db, JointMeetingDue: p.cfg.JointMeetingDue},
		FactService:    &postgres.FactService{DB: p.db},
		RuleSetService: &postgres.RuleSetService{DB: p.db},
		TicketService:  p.tickets,
		Calendar:       postgres.MustCalendar(),
		AuditService:   &postgres.AuditService{DB: p.db},
	}
	if p.cfg.Dev {
		r.DevSMS = p.db.DevMessages
		r.DevClock = p.devClock
	}
	return r
}

func (p *platform) httpServer() *server.Server {
	metrics := server.NewMetrics()
	for _, err := range []error{
		metrics.RegisterDBPool(p.pool),
		metrics.RegisterQueue(asynq.NewInspectorFromRedisClient(p.redis)),
		metrics.RegisterOutbox(func(ctx context.Context) (server.OutboxBacklog, error) {
			b, err := p.db.Backlog(ctx)
			return server.OutboxBacklog(b), err
		}),
	} {
		if err != nil {
			p.log.Warn("metrics collector not registered", "err", err)
		}
	}
	res := p.resolver()
	gql := graph.NewHandler(res, graph.Options{
		Dev: p.cfg.Dev, Introspection: p.cfg.Introspection, Logger: p.log, Observer: metrics,
		Authenticate: res.AuthService.Authenticate,
	})
	var playground http.Handler
	if p.cfg.Dev {
		playground = graph.LocalPlayground("陕西健康码 GraphQL", "/graphql", web.FS())
	}
	creds := res.Credentials.(*postgres.CredentialService)
	return server.New(server.Config{
		Mount: map[string]http.Handler{
			"GET /.well-known/healthcode/keys.json":        server.KeySetHandler(creds),
			"GET /.well-known/healthcode/revocations.json": server.RevocationsHandler(creds),
			"POST /api/scans":                              server.ScanUploadHandler(res.ScanService),
			"POST /exchange/v1/records":                    server.SubsystemPushHandler(res.Subsystems),
			server.RankingReportPattern:                    server.RankingReportHandler(res.RankingService),
		},
		Addr: p.cfg.HTTPAddr, Auth: res.AuthService, GraphQL: gql, Playground: playground,
		Metrics: metrics, Logger: p.log, TrustForwardedFor: p.cfg.TrustForwardedFor, Drain: p.cfg.ShutdownDrain,
		ReadyChecks: map[string]func(context.Context) error{
			"postgres": func(ctx context.Context) error { return p.pool.Ping(ctx) },
			"redis":    func(ctx context.Context) error { return p.redis.Ping(ctx).Err() },
		},
	})
}
