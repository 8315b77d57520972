// Package apitest runs the whole API stack for tests: a fresh database, the
// services, the enforcer, the GraphQL handler behind the HTTP server's
// middleware, and a small client that posts queries with a bearer token.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/credential"
	"healthcode/graph"
	"healthcode/pii"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
	"healthcode/server"
)

// quiet discards the stack's logs; failures are reported by the tests.
var quiet = slog.New(slog.DiscardHandler)

// Bundle is the stack of one test.
type Bundle struct {
	Pool     *pgxpool.Pool
	DB       *postgres.DB
	Enforcer *rbac.Enforcer
	Clock    *healthcode.OffsetClock
	Handler  http.Handler
	Dev      bool
	// Credentials signs with an in-memory key ring; National is a test
	// issuer standing in for the national platform, trusted by it.
	Credentials *postgres.CredentialService
	National    *credential.KeyRing
	// Listener is the stack's database listener (ticket queue
	// subscriptions), running until the test ends; wait for its Ready
	// before relying on live updates.
	Listener *postgres.Listener
	// NoAutoSync stops Raw from waiting, before each request, until the
	// listener has applied every change committed before it to the
	// resident code cache (Listener.Sync). With it, requests see the
	// cache as a replica does: at most one notification behind.
	NoAutoSync bool
}

// Options tune Setup.
type Options struct {
	Dev bool // dev mode: @dev fields, demo seeding
	// DepthLimit overrides the GraphQL depth limit.
	DepthLimit int
	// Admission turns on the server's admission control; a nil Classify
	// classifies /graphql by graph.RequestClass and nothing else.
	Admission *server.AdmissionConfig
	// WrapGraphQL, when set, wraps the GraphQL handler behind the
	// middleware (tests hold requests in it to fill admission slots).
	WrapGraphQL func(http.Handler) http.Handler
	// ReadyChecks are the server's /readyz checks (none by default).
	ReadyChecks map[string]func(context.Context) error
	// RateLimiter, when set, applies graph.DefaultRateLimits (or
	// RateLimits) to the root fields.
	RateLimiter healthcode.RateLimiter
	RateLimits  map[string]graph.RateRule
	// ApproxRateLimiter counts the rules that fail open (graph.Options).
	ApproxRateLimiter healthcode.RateLimiter
	// Logger is the server's and GraphQL's logger (default: discards
	// without formatting).
	Logger *slog.Logger
	// Metrics, when set, is the server's metrics and the GraphQL operations'
	// observer, as in the platform (by default the server has metrics of its
	// own and GraphQL none).
	Metrics *server.Metrics
	// NoCodeCache turns the resident code cache off (on by default, as
	// healthcode serve has it).
	NoCodeCache bool
	// LoaderWait is graph.Options.LoaderWait (tests that count statements
	// raise it).
	LoaderWait time.Duration
}

// TestKey is the personal-data key of tests.
var TestKey = bytes.Repeat([]byte{7}, pii.KeySize)

// Setup builds the stack on a fresh database.
func Setup(t testing.TB, opts Options) *Bundle {
	t.Helper()
	pool := pgtest.New(t)
	cipher, err := pii.NewCipher(TestKey)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{Pool: pool, Clock: &healthcode.OffsetClock{}, Dev: opts.Dev}
	b.DB = &postgres.DB{Pool: pool, Clock: b.Clock, PII: cipher, Dev: opts.Dev}
	b.Enforcer, err = rbac.New(b.DB.LoadGrants)
	if err != nil {
		t.Fatal(err)
	}
	b.DB.Authz = b.Enforcer
	b.DB.GrantsChanged = b.Enforcer.Invalidate
	b.Listener = postgres.NewListener(b.DB)
	if !opts.NoCodeCache {
		b.DB.ResidentCache = postgres.NewResidentCache(postgres.DefaultResidentCacheEntries, 0)
		postgres.WatchResidentCache(b.Listener, b.DB.ResidentCache)
	}
	lctx, stopListener := context.WithCancel(context.Background())
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		_ = b.Listener.Run(lctx)
	}()
	t.Cleanup(func() { // before the database is dropped
		stopListener()
		<-listening
	})
	ring, err := credential.NewMemoryKeyRing(credential.IssuerProvince)
	if err != nil {
		t.Fatal(err)
	}
	b.National, err = credential.NewMemoryKeyRing(credential.IssuerNational)
	if err != nil {
		t.Fatal(err)
	}
	codes := &postgres.CodeService{DB: b.DB}
	b.Credentials = &postgres.CredentialService{DB: b.DB, Codes: codes, Ring: ring,
		Trusted:   []credential.TrustedIssuerKeys{b.National.Trusted("国家政务服务平台（测试）", time.Now())},
		TrustList: (&postgres.CheckpointService{DB: b.DB}).TrustedIssuers}
	res := &graph.Resolver{
		Credentials:    b.Credentials,
		ScanService:    &postgres.ScanService{DB: b.DB, Credentials: b.Credentials},
		Checkpoints:    &postgres.CheckpointService{DB: b.DB},
		Supervision:    &postgres.SupervisionService{DB: b.DB},
		Subsystems:     &postgres.SubsystemService{DB: b.DB},
		MachineClients: &postgres.MachineClientService{DB: b.DB},
		RankingService: &postgres.RankingService{DB: b.DB},
		Indicators:     &postgres.IndicatorService{DB: b.DB},
		AuthService:    &postgres.AuthService{DB: b.DB},
		RegionService:  &postgres.RegionService{DB: b.DB},
		StaffService:   &postgres.StaffService{DB: b.DB},
		CodeService:    codes,
		FactService:    &postgres.FactService{DB: b.DB},
		Colours:        &postgres.ColourRequestService{DB: b.DB},
		RuleSetService: &postgres.RuleSetService{DB: b.DB},
		TicketService:  postgres.NewTicketService(b.DB),
		Calendar:       postgres.MustCalendar(),
		AuditService:   &postgres.AuditService{DB: b.DB},
		AlertService:   &postgres.AlertService{DB: b.DB},
		Privacy:        &postgres.PrivacyService{DB: b.DB},
	}
	if opts.Dev {
		res.DevSMS = b.DB.DevMessages
		res.DevClock = &postgres.DevClock{DB: b.DB, Clock: b.Clock}
	}
	if err := b.DB.EnsureRuleSet(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := opts.Logger
	if log == nil {
		log = quiet
	}
	var observer graph.Observer
	if opts.Metrics != nil {
		observer = opts.Metrics
	}
	gql := graph.NewHandler(res, graph.Options{Dev: opts.Dev, DepthLimit: opts.DepthLimit, Logger: log, Observer: observer,
		Authenticate: res.AuthService.Authenticate, RateLimiter: opts.RateLimiter, RateLimits: opts.RateLimits,
		ApproxRateLimiter: opts.ApproxRateLimiter, SessionRecheck: 100 * time.Millisecond, LoaderWait: opts.LoaderWait})
	var gqlHandler http.Handler = gql
	if opts.WrapGraphQL != nil {
		gqlHandler = opts.WrapGraphQL(gql)
	}
	if opts.Admission != nil && opts.Admission.Classify == nil {
		a := *opts.Admission
		a.Classify = func(r *http.Request) healthcode.WorkClass {
			if r.URL.Path == "/graphql" {
				return graph.RequestClass(r)
			}
			return ""
		}
		opts.Admission = &a
	}
	b.Handler = server.New(server.Config{Auth: res.AuthService, GraphQL: gqlHandler, Logger: log, Metrics: opts.Metrics,
		Admission: opts.Admission, ReadyChecks: opts.ReadyChecks,
		Mount: map[string]http.Handler{
			"GET /.well-known/healthcode/keys.json":        server.KeySetHandler(b.Credentials),
			"GET /.well-known/healthcode/revocations.json": server.RevocationsHandler(b.Credentials),
			"POST /api/scans":                              server.ScanUploadHandler(res.ScanService),
			"POST /exchange/v1/records":                    server.SubsystemPushHandler(res.Subsystems),
			"POST /exchange/v1/medical-events":             server.MedicalEventsHandler(res.MachineClients),
			server.RankingReportPattern:                    server.RankingReportHandler(res.RankingService),
		}}).Handler()
	return b
}

// DeliverSMS sends the text messages waiting in the outbox to the dev SMS
// sender, once each, as the notify:sms worker does: devMessages then shows
// them.
func (b *Bundle) DeliverSMS(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	rows, err := b.Pool.Query(ctx, `SELECT o.id, o.payload FROM outbox o WHERE o.task_type = $1
		AND NOT EXISTS (SELECT 1 FROM task_deliveries d WHERE d.outbox_id = o.id) ORDER BY o.id`, healthcode.TaskNotifySMS)
	if err != nil {
		t.Fatal(err)
	}
	type pending struct {
		ID      int64
		Payload []byte
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pending])
	if err != nil {
		t.Fatal(err)
	}
	sender := &postgres.DevSMSSender{DB: b.DB}
	for _, p := range list {
		msg, err := b.DB.OpenSMS(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		msg.Key = "outbox:" + strconv.FormatInt(p.ID, 10)
		if err := b.DB.DeliverOnce(ctx, p.ID, func(ctx context.Context) error { return sender.Send(ctx, msg) }); err != nil {
			t.Fatal(err)
		}
	}
}

// Tickets returns the ticket service of the stack (for deadline passes).
func (b *Bundle) Tickets() *postgres.TicketService { return postgres.NewTicketService(b.DB) }

// Response is a decoded GraphQL response.
type Response struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

// Code returns the extensions.code of the first error, or "".
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Do posts a query with variables and an optional bearer token.
func (b *Bundle) Do(t testing.TB, token, query string, vars map[string]any) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b.Raw(t, token, "application/json", body)
}

// Raw posts a raw body.
func (b *Bundle) Raw(t testing.TB, token, contentType string, body []byte) *Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	b.SyncCache()
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	out := &Response{Status: rec.Code}
	raw, _ := io.ReadAll(rec.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode response (status %d): %v: %s", rec.Code, err, raw)
	}
	return out
}

// SyncCache waits, unless NoAutoSync, until every change committed so far
// has been applied to the resident code cache (postgres.Listener.Sync), so
// that a test's request sees its previous requests' changes as every
// replica does one notification later. Without a cache or while the
// listener is not connected (the cache then serves nothing) it returns at
// once.
func (b *Bundle) SyncCache() {
	if b.NoAutoSync || b.DB.ResidentCache == nil || b.Listener == nil || !b.Listener.Connected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.Listener.Sync(ctx) // fails only when the listener dropped: the cache is then off
}

// MustData fails the test when the response has errors.
func (r *Response) MustData(t testing.TB) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	return r.Data
}

// passwordHash is computed once for all tests: argon2 is deliberately slow.
var passwordHash = sync.OnceValues(func() (string, error) { return postgres.HashPassword(StaffPassword) })

// StaffPassword is the password of accounts made by CreateStaff.
const StaffPassword = "test-password-123"

// CreateStaff inserts an account homed at region with the given grants
// (role@region pairs) straight into the database, bound to a natural person
// of its own (a verified phone, StaffPhone), reloads the enforcer and
// returns the account id and a session token for it.
func (b *Bundle) CreateStaff(t testing.TB, username, region string, grants ...Grant) (int64, string) {
	t.Helper()
	id, token := b.CreateUnverifiedStaff(t, username, region, grants...)
	phone := StaffPhone(id)
	if _, err := b.Pool.Exec(context.Background(), `UPDATE staff SET person_hash = $2, person_verified_at = now() WHERE id = $1`,
		id, b.DB.PII.Hash("phone", phone)); err != nil {
		t.Fatalf("verify staff %s: %v", username, err)
	}
	return id, token
}

// StaffPhone is the verified phone CreateStaff gives account id.
func StaffPhone(id int64) string { return fmt.Sprintf("199%08d", id) }

// CreateUnverifiedStaff is CreateStaff without the verified phone: an
// account that has not yet proved its phone by SMS code.
func (b *Bundle) CreateUnverifiedStaff(t testing.TB, username, region string, grants ...Grant) (int64, string) {
	t.Helper()
	ctx := context.Background()
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = b.Pool.QueryRow(ctx, `INSERT INTO staff (username, display_name, password_hash, region_code, region_path)
		SELECT $1, $1, $2, code, path FROM regions WHERE code = $3 RETURNING id`, username, hash, region).Scan(&id)
	if err != nil {
		t.Fatalf("create staff %s: %v", username, err)
	}
	for _, g := range grants {
		if _, err := b.Pool.Exec(ctx, `INSERT INTO grants (staff_id, role, region_code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, string(g.Role), g.Region); err != nil {
			t.Fatalf("grant %v: %v", g, err)
		}
	}
	if err := b.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return id, b.session(t, "STAFF", id)
}

// CreateResident creates a resident account for phone and returns its id and
// a session token, as a login by SMS code would.
func (b *Bundle) CreateResident(t testing.TB, phone string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := b.Pool.QueryRow(ctx, `INSERT INTO resident_accounts (phone_hash, phone_enc) VALUES ($1, $2) RETURNING id`,
		b.DB.PII.Hash("phone", phone), b.DB.PII.Encrypt(phone)).Scan(&id); err != nil {
		t.Fatalf("create resident: %v", err)
	}
	return id, b.session(t, "RESIDENT", id)
}

func (b *Bundle) session(t testing.TB, kind string, id int64) string {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	prefix := map[string]string{"STAFF": "hcs_", "RESIDENT": "hcr_"}[kind]
	token := prefix + base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(token))
	col := map[string]string{"STAFF": "staff_id", "RESIDENT": "resident_id"}[kind]
	if _, err := b.Pool.Exec(context.Background(), `INSERT INTO sessions (token_hash, kind, `+col+`, expires_at)
		VALUES ($1, $2, $3, now() + interval '1000 days')`, hash[:], kind, id); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return token
}

// Grant is a role at a region, for CreateStaff.
type Grant struct {
	Role   healthcode.Role
	Region string
}

// G parses "ROLE@region".
func G(s string) Grant {
	role, region, _ := strings.Cut(s, "@")
	return Grant{Role: healthcode.Role(role), Region: region}
}
