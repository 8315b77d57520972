package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/graph"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/ranking"
	"healthcode/server"
)

// Config is the platform's configuration, read from the environment. Every
// variable and its default is listed in docs/operations.md.
type Config struct {
	DatabaseURL string // DATABASE_URL
	// ReadDatabaseURL is a streaming replica for the reads that tolerate
	// its lag (READ_DATABASE_URL; empty: DATABASE_URL serves them).
	ReadDatabaseURL string
	// ListenDatabaseURL is where the LISTEN connection goes
	// (LISTEN_DATABASE_URL; empty: DATABASE_URL), for a DATABASE_URL that
	// goes through PgBouncer in transaction mode.
	ListenDatabaseURL string
	RedisURL          string // REDIS_URL
	HTTPAddr          string // HTTP_ADDR
	// MetricsAddr is the listener of /metrics (METRICS_ADDR, default
	// 127.0.0.1:9090; "off" serves none): never the public one.
	MetricsAddr string
	KeyDir      string // HEALTHCODE_KEY_DIR: data.key (personal data) and, later, signing keys
	LogLevel    slog.Level
	LogFormat   string // LOG_FORMAT: text or json
	Dev         bool   // HEALTHCODE_DEV
	// Introspection enables GraphQL introspection outside dev mode.
	Introspection     bool          // GRAPHQL_INTROSPECTION
	TrustForwardedFor bool          // TRUST_FORWARDED_FOR
	WorkerConcurrency int           // WORKER_CONCURRENCY
	SMSGatewayURL     string        // SMS_GATEWAY_URL
	SMSGatewayToken   string        // SMS_GATEWAY_TOKEN
	StaffSessionTTL   time.Duration // STAFF_SESSION_TTL
	ResidentTTL       time.Duration // RESIDENT_SESSION_TTL
	CodeTokenTTL      time.Duration // CODE_TOKEN_TTL: lifetime of an electronic code's token
	// CodeCache bounds the resident sessions (with their own code) a
	// replica keeps in memory (CODE_CACHE: a number of entries, or off;
	// default postgres.DefaultResidentCacheEntries); 0 is off.
	CodeCache int
	// CodeCacheTTL bounds how long a kept session is used after it was
	// read (CODE_CACHE_TTL, default 1m).
	CodeCacheTTL time.Duration
	// HotlinePolicy is a JSON file of ticket deadlines per kind, urgency and
	// step (workcal.ParsePolicy); empty: the defaults of SPEC §5.
	HotlinePolicy string // HOTLINE_POLICY
	// NationalPushURL is the national platform's receiving endpoint; empty
	// disables the daily push (NATIONAL_PUSH_URL).
	NationalPushURL string
	// JointMeetingDue is the deadline of joint meeting lists (JOINT_MEETING_DUE,
	// RFC 3339); zero: the notice's 2020-04-02.
	JointMeetingDue time.Time
	// ShutdownDrain is how long serve keeps serving after SIGTERM with
	// /readyz answering 503 (SHUTDOWN_DRAIN; default 5 s, 0 in dev mode).
	ShutdownDrain time.Duration
	// WorkerGrace is how long a stopping worker waits for running tasks and
	// SMS gateway calls in flight (WORKER_SHUTDOWN_GRACE, default 30 s); it
	// must exceed SMSGatewayTimeout.
	WorkerGrace time.Duration
	// SMSGatewayTimeout bounds one gateway call (SMS_GATEWAY_TIMEOUT,
	// default 10 s).
	SMSGatewayTimeout time.Duration
	// OutboxLease is the lease of a running outbox task (OUTBOX_LEASE,
	// default 10 s): a killed worker's tasks move on this long after its
	// last heartbeat.
	OutboxLease time.Duration
	// OutboxRedeliverAfter is how long a handed-over task may sit in the
	// queue unstarted before the relay hands it over again
	// (OUTBOX_REDELIVER_AFTER, default 10 min; an emptied Redis is noticed
	// at once anyway).
	OutboxRedeliverAfter time.Duration
	// RankingPolicy scores the rankings (RANKING_POLICY: a JSON file, or the
	// JSON itself when it starts with "{"; ranking.ParsePolicy); unset: the
	// defaults of ranking.DefaultPolicy.
	RankingPolicy healthcode.RankingPolicy
	// AdmissionLimit bounds the requests a replica works on at once
	// (ADMISSION_LIMIT; default 8 per CPU, 0 turns admission control off);
	// AdmissionLoginLimit the logins among them (ADMISSION_LOGIN_LIMIT;
	// default one per CPU); AdmissionMaxWait how long an essential request
	// may wait for a slot (ADMISSION_MAX_WAIT; default 500 ms). See
	// server.AdmissionConfig.
	AdmissionLimit      int
	AdmissionLoginLimit int
	AdmissionMaxWait    time.Duration
	// Retention is how long personal data is kept (RETENTION:
	// healthcode.ParseRetention, e.g. "declarations=42d,tickets=365d";
	// unset: healthcode.DefaultRetention).
	Retention healthcode.Retention
	// AlertLimits are the abuse alerts' thresholds (ALERT_LIMITS:
	// healthcode.ParseAlertLimits, e.g. "MASS_PERSON_READ=300/1h").
	AlertLimits map[healthcode.AlertKind]healthcode.AlertLimit
	// RateLimits are the GraphQL root fields' rate limits (RATE_LIMITS:
	// graph.ParseRateLimits over graph.DefaultRateLimits, e.g.
	// "login:address=300/10m").
	RateLimits map[string]graph.RateRule
	// Guardianship says for whom a resident may declare as a guardian
	// without the community (GUARDIAN_AGES: "<child under>,<elder from>",
	// default "14,65").
	Guardianship healthcode.GuardianshipPolicy
}

// defaultMetricsAddr is the metrics listener of serve: loopback only.
const defaultMetricsAddr = "127.0.0.1:9090"

func loadConfig() (Config, error) {
	c := Config{
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/healthcode?sslmode=disable"),
		ReadDatabaseURL:   os.Getenv("READ_DATABASE_URL"),
		ListenDatabaseURL: os.Getenv("LISTEN_DATABASE_URL"),
		RedisURL:          env("REDIS_URL", "redis://127.0.0.1:6379/0"),
		HTTPAddr:          env("HTTP_ADDR", ":8080"),
		MetricsAddr:       env("METRICS_ADDR", defaultMetricsAddr),
		KeyDir:            env("HEALTHCODE_KEY_DIR", "keys"),
		LogFormat:         env("LOG_FORMAT", "text"),
		SMSGatewayURL:     os.Getenv("SMS_GATEWAY_URL"),
		SMSGatewayToken:   os.Getenv("SMS_GATEWAY_TOKEN"),
		HotlinePolicy:     os.Getenv("HOTLINE_POLICY"),
		NationalPushURL:   os.Getenv("NATIONAL_PUSH_URL"),
		WorkerConcurrency: 10,
		StaffSessionTTL:   12 * time.Hour,
		ResidentTTL:       30 * 24 * time.Hour,
		CodeTokenTTL:      5 * time.Minute,
		ShutdownDrain:     5 * time.Second,
		WorkerGrace:       30 * time.Second,
		SMSGatewayTimeout: 10 * time.Second,
		OutboxLease:       10 * time.Second,

		OutboxRedeliverAfter: 10 * time.Minute,
	}
	var errs []error
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	for name, p := range map[string]*bool{"HEALTHCODE_DEV": &c.Dev, "GRAPHQL_INTROSPECTION": &c.Introspection, "TRUST_FORWARDED_FOR": &c.TrustForwardedFor} {
		if v := os.Getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*p = b
		}
	}
	if v := os.Getenv("WORKER_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("WORKER_CONCURRENCY: want a positive integer, got %q", v))
		}
		c.WorkerConcurrency = n
	}
	c.CodeCache = postgres.DefaultResidentCacheEntries
	if v := strings.TrimSpace(os.Getenv("CODE_CACHE")); v != "" {
		if n, err := strconv.Atoi(v); v == "off" {
			c.CodeCache = 0
		} else if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("CODE_CACHE: want off or a number of entries such as 100000, got %q", v))
		} else {
			c.CodeCache = n
		}
	}
	if c.ListenDatabaseURL != "" {
		if _, err := pgx.ParseConfig(c.ListenDatabaseURL); err != nil {
			errs = append(errs, fmt.Errorf("LISTEN_DATABASE_URL: %w", err))
		}
	}
	c.AdmissionLimit = server.DefaultAdmissionLimit()
	for name, p := range map[string]*int{"ADMISSION_LIMIT": &c.AdmissionLimit, "ADMISSION_LOGIN_LIMIT": &c.AdmissionLoginLimit} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s: want a non-negative integer, got %q", name, v))
			}
			*p = n
		}
	}
	if c.Dev {
		c.ShutdownDrain = 0 // one process on a laptop: nothing balances it
	}
	for name, p := range map[string]*time.Duration{"STAFF_SESSION_TTL": &c.StaffSessionTTL, "RESIDENT_SESSION_TTL": &c.ResidentTTL,
		"CODE_TOKEN_TTL": &c.CodeTokenTTL, "WORKER_SHUTDOWN_GRACE": &c.WorkerGrace, "SMS_GATEWAY_TIMEOUT": &c.SMSGatewayTimeout,
		"OUTBOX_LEASE": &c.OutboxLease, "CODE_CACHE_TTL": &c.CodeCacheTTL, "OUTBOX_REDELIVER_AFTER": &c.OutboxRedeliverAfter, "ADMISSION_MAX_WAIT": &c.AdmissionMaxWait} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s: want a positive duration such as 12h, got %q", name, v))
			}
			*p = d
		}
	}
	if v := os.Getenv("JOINT_MEETING_DUE"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("JOINT_MEETING_DUE: want an RFC 3339 time such as 2026-12-31T17:00:00+08:00, got %q", v))
		}
		c.JointMeetingDue = t
	}
	if v := strings.TrimSpace(os.Getenv("RANKING_POLICY")); v != "" {
		p, err := loadRankingPolicy(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("RANKING_POLICY: %w", err))
		}
		c.RankingPolicy = p
	} else {
		c.RankingPolicy = ranking.DefaultPolicy()
	}
	var err error
	if c.Retention, err = healthcode.ParseRetention(os.Getenv("RETENTION")); err != nil {
		errs = append(errs, fmt.Errorf("RETENTION: %w", err))
	}
	if c.AlertLimits, err = healthcode.ParseAlertLimits(os.Getenv("ALERT_LIMITS")); err != nil {
		errs = append(errs, fmt.Errorf("ALERT_LIMITS: %w", err))
	}
	if c.RateLimits, err = graph.ParseRateLimits(os.Getenv("RATE_LIMITS")); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMITS: %w", err))
	}
	c.Guardianship = healthcode.DefaultGuardianship
	if v := strings.TrimSpace(os.Getenv("GUARDIAN_AGES")); v != "" {
		child, elder, ok := strings.Cut(v, ",")
		c.Guardianship.ChildUnder, err = strconv.Atoi(strings.TrimSpace(child))
		if ok && err == nil {
			c.Guardianship.ElderFrom, err = strconv.Atoi(strings.TrimSpace(elder))
		}
		if !ok || err != nil || c.Guardianship.ChildUnder < 0 || c.Guardianship.ElderFrom < c.Guardianship.ChildUnder {
			errs = append(errs, fmt.Errorf("GUARDIAN_AGES: want \"<child under>,<elder from>\" such as 14,65, got %q", v))
		}
	}
	if v := os.Getenv("SHUTDOWN_DRAIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("SHUTDOWN_DRAIN: want a duration such as 5s (0 to stop at once), got %q", v))
		}
		c.ShutdownDrain = d
	}
	if c.WorkerGrace <= c.SMSGatewayTimeout {
		errs = append(errs, fmt.Errorf("WORKER_SHUTDOWN_GRACE (%s) must exceed SMS_GATEWAY_TIMEOUT (%s): a stopping worker waits for the gateway calls in flight",
			c.WorkerGrace, c.SMSGatewayTimeout))
	}
	if c.CodeTokenTTL > 10*time.Minute {
		errs = append(errs, fmt.Errorf("CODE_TOKEN_TTL: at most 10m (an electronic code must not outlive a screenshot), got %s", c.CodeTokenTTL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: want text or json, got %q", c.LogFormat))
	}
	return c, errors.Join(errs...)
}

// loadRankingPolicy reads RANKING_POLICY: inline JSON when v starts with
// "{", otherwise the path of a JSON file.
func loadRankingPolicy(v string) (healthcode.RankingPolicy, error) {
	b := []byte(v)
	if !strings.HasPrefix(v, "{") {
		var err error
		if b, err = os.ReadFile(v); err != nil {
			return healthcode.RankingPolicy{}, err
		}
	}
	return ranking.ParsePolicy(b)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (c Config) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// loadCipher reads the personal-data key ring of the key directory
// (pii.LoadKeyDir: data.key, data.<N>.key, data.current, lookup.key). In dev
// mode a missing data.key is generated; elsewhere it is an error, because a
// new key would make every stored ID number and phone unreadable.
func (c Config) loadCipher() (*pii.Cipher, error) {
	cipher, err := pii.LoadKeyDir(c.KeyDir)
	if errors.Is(err, os.ErrNotExist) && c.Dev {
		key := make([]byte, pii.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(c.KeyDir, 0o700); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
		path := filepath.Join(c.KeyDir, pii.LegacyKeyFile)
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		return pii.LoadKeyDir(c.KeyDir)
	}
	if errors.Is(err, os.ErrNotExist) {
		path := filepath.Join(c.KeyDir, pii.LegacyKeyFile)
		return nil, fmt.Errorf("read personal-data key: %w (create it with: head -c 32 /dev/urandom | base64 > %s)", err, path)
	}
	if err != nil {
		return nil, fmt.Errorf("personal-data keys: %w", err)
	}
	return cipher, nil
}

// nationalKeyFile holds the Ed25519 seed (base64) that signs the batches of
// the national push; national.pub beside it is the public key the receiver
// verifies with.
const nationalKeyFile = "national.key"

// loadNationalKey reads the push signing key, creating it (and national.pub)
// when missing: it signs only our own batches, so a new one just needs the
// receiver to learn national.pub.
func (c Config) loadNationalKey() (ed25519.PrivateKey, error) {
	path := filepath.Join(c.KeyDir, nationalKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(c.KeyDir, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, err
		}
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if err := os.WriteFile(filepath.Join(c.KeyDir, "national.pub"), []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644); err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: want a base64 Ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
