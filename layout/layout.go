// Package layout holds the module's package layout: every package with its
// layer and what it holds, the rule of which layer may import which, and the
// generated parts of docs/architecture.md (the package table with each
// package's actual dependencies, and the task lists). Its test fails when a
// package imports against the rule, when a package is missing from the
// table, or when the document is not current; `go generate ./layout` (run by
// `make generate` and checked by `make lint`) rewrites the document.
package layout

//go:generate go run ./gen

// Layer is a set of packages with the same allowed dependencies.
type Layer string

// The layers, from the bottom up.
const (
	// Domain is the root package: domain types, service interfaces, error
	// codes, context helpers. Standard library only.
	Domain Layer = "domain"
	// Foundation packages hold formats and resources without platform logic.
	Foundation Layer = "foundation"
	// Logic packages hold pure domain logic and adapters to outside systems.
	Logic Layer = "logic"
	// Storage implements the services on PostgreSQL.
	Storage Layer = "storage"
	// Transport packages (GraphQL, HTTP, the task handlers) call the
	// services through the root package's interfaces only.
	Transport Layer = "transport"
	// Client packages drive the services from above storage as a client
	// would (the demo province).
	Client Layer = "client"
	// Testing packages are test helpers; only tests import them.
	Testing Layer = "testing"
	// Binary is the command that wires implementations, and this package's
	// tooling.
	Binary Layer = "binary"
)

// Layers lists the layers bottom up.
var Layers = []Layer{Domain, Foundation, Logic, Storage, Transport, Client, Testing, Binary}

// MayImport lists, for each layer, the layers its packages may import
// (besides the standard library, third-party modules and the packages of
// their own directory tree).
var MayImport = map[Layer][]Layer{
	Domain:     {},
	Foundation: {Domain},
	Logic:      {Domain, Foundation},
	Storage:    {Domain, Foundation, Logic},
	Transport:  {Domain, Foundation, Logic},
	Client:     {Domain, Foundation, Logic, Storage},
	Testing:    {Domain, Foundation, Logic, Storage, Transport, Client, Testing},
	Binary:     {Domain, Foundation, Logic, Storage, Transport, Client},
}

// Package is one package of the module.
type Package struct {
	Path  string // the import path below the module ("" for the root)
	Layer Layer
	Holds string // what it holds, for the table
}

// Packages lists every package of the module, in the order of the table.
var Packages = []Package{
	{"", Domain, "domain types (`Region`, `Staff`, `Grant`, `Actor`, `Person`, `Code`, `Ticket`, …), service interfaces, " +
		"error codes, context helpers, clocks, keyset cursors, the task types and payloads (`tasks.go`), the outbox as the workers use it (`outbox.go`)"},
	{"pii", Foundation, "AES-GCM encryption of personal data, keyed (HMAC) lookup hashes, display masks"},
	{"ndjson", Foundation, "the NDJSON reader of uploads (line and record limits, strict decoding), shared by the scan upload and the sub-system push"},
	{"migrations", Foundation, "numbered embedded SQL migrations (golang-migrate), the region tree of Shaanxi and census populations"},
	{"divisions", Foundation, "the names of the country's administrative divisions down to the county (GB/T 2260: 34 province-level, 333 prefecture-level, the counties) and of Shaanxi's down to the communities (the region tree's source, from which migration 000002 is generated), embedded CSVs: names only, no jurisdiction"},
	{"web", Foundation, "the Vue front end (resident pages, scanner and console entries; docs/web.md) and the Go package that embeds its build and serves it with history fallback"},
	{"devenv", Foundation, "starts project-local PostgreSQL and Redis from the system's binaries (dev mode and tests)"},
	{"rules", Logic, "rule sets as data (the declarative form of Annex 1), the pure evaluator, golden vectors (docs/rules.md)"},
	{"hotline", Logic, "the ticket lifecycle as a pure state machine (a rule table), docs/hotline.md"},
	{"workcal", Logic, "the working-time calendar (holidays and 调休 per year as data) and deadline arithmetic"},
	{"ranking", Logic, "the weighted score of the rankings (policy, normalisation, ranks, interviews) as a pure function, and the report renderings (XLSX, printable HTML), docs/supervision.md"},
	{"credential", Logic, "signed QR tokens (JWS, Ed25519), key rings with rotation, key sets and trusted issuers, revocation lists, offline verification (batch verification for uploads), QR images (docs/scanning.md)"},
	{"exchange", Logic, "the daily national push (batches, signatures, the stub receiver) and the unified format of city sub-system pushes, docs/exchange.md"},
	{"rbac", Logic, "the casbin model and role → permission policy (`policy.csv`, rendered as the table of docs/roles.md), the enforcer with region-subtree checks, grant reloads"},
	{"ratelimit", Logic, "the rate limiters shared by the replicas (GCRA in Redis; `Local`: counted on the replica, synchronised with Redis every 100 ms), behind `healthcode.RateLimiter`"},
	{"sms", Logic, "the SMS gateway adapter (HTTP, with an idempotency key)"},
	{"postgres", Storage, "pgx storage implementing the services, with the authorization of every call; the transaction helper `InTx`; the hash-chained audit log; the outbox; deliver-once for tasks with effects; the dev SMS sender; the bulk import of persons"},
	{"graph", Transport, "the GraphQL schema (`schema/*.graphqls`), thin resolvers, dataloaders, limits and complexity, error presenter"},
	{"graph/generated", Transport, "the gqlgen executor (generated)"},
	{"graph/model", Transport, "GraphQL-only types (generated and hand-written)"},
	{"graph/scalar", Transport, "the custom scalars"},
	{"server", Transport, "HTTP: middleware (recover, request id, client address, access log, metrics, body limit, admission control by class of work, authentication), one error writer, `/healthz`, `/readyz` and the drain on shutdown, `/metrics` (the pgxpool collector, asynq's exporter, the outbox backlog), the scan upload and sub-system push endpoints, key sets, report downloads, static web"},
	{"workers", Transport, "the asynq handlers of the task types, the shared mux, the scheduler, the outbox relay and the outbox's ownership of running tasks (leases, heartbeats), over the root's `Outbox`"},
	{"demo", Client, "the demo accounts, the synthetic population and the demo province's two weeks of activity, driven through the services (dev mode and tests)"},
	{"postgres/pgtest", Testing, "a fresh migrated database per test, cloned from a template"},
	{"devenv/redistest", Testing, "a Redis database per test"},
	{"sms/smstest", Testing, "a stand-in for the SMS gateway (a real HTTP server speaking package sms's protocol that logs every request and delivers each idempotency key once), for tests and the fault tests"},
	{"faults", Testing, "the fault tests (`make test-faults`, build tag `faults`): real serve and worker processes killed and stopped, Redis emptied, PostgreSQL restarted and stopped (docs/operations.md)"},
	{"graph/apitest", Testing, "the GraphQL test bundle: a real database, the wired services and the HTTP handler"},
	{"bench", Testing, "what `make bench` needs besides the packages' benchmarks: the bounded loopback load driver, the code page's ceiling (a bare net/http handler), PostGraphile 4 as the peer, the code page benchmark (docs/performance.md)"},
	{"bench/benchtable", Testing, "prints the one table of `make bench` from the benchmarks' output"},
	{"cmd/healthcode", Binary, "configuration, wiring of the implementations, and the commands"},
	{"layout", Binary, "this table, the dependency rule and its test, the generated parts of docs/architecture.md"},
	{"layout/gen", Binary, "the generator of docs/architecture.md (`go generate ./layout`)"},
}

// Exceptions are imports against the rule that are known and explained; an
// exception that no longer occurs fails the test, so the list stays true.
var Exceptions = map[[2]string]string{}
