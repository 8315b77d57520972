package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcode"
	"healthcode/bench"
	"healthcode/credential"
	"healthcode/devenv/redistest"
	"healthcode/graph"
	"healthcode/graph/apitest"
	"healthcode/postgres/pgtest"
	"healthcode/ratelimit"
	"healthcode/server"
)

// The operations of the code page as the resident's phone sends them
// (web/src/api/operations/resident.graphql, printed by urql, which adds
// __typename to every selection; the page sends no personId for the
// resident's own code, so the variables are empty): CodePage when the page
// opens, MyCode, the page's poll every 10 s, and MyCredential, fetched when
// the colour changes or the token nears its expiry (and, until the page
// opened with CodePage, after MyCode when it opened).
const (
	codeFieldsFragment = `fragment CodeFields on HealthCode {
  personId
  colour
  colourLabel
  clauses {
    id
    colour
    citation
    reason
    factIds
    __typename
  }
  ruleSetVersion
  updatedAt
  reevaluateAt
  __typename
}`
	myCodeField = `  myCode(personId: $personId) {
    ...CodeFields
    __typename
  }
`
	credentialFieldsFragment = `fragment CredentialFields on Credential {
  token
  colour
  colourLabel
  maskedName
  issuedAt
  expiresAt
  __typename
}`
	myCredentialField = `  myCredential(personId: $personId) {
    ...CredentialFields
    __typename
  }
`
	phoneMyCode       = "query MyCode($personId: ID) {\n" + myCodeField + "}\n\n" + codeFieldsFragment
	phoneMyCredential = "query MyCredential($personId: ID) {\n" + myCredentialField + "}\n\n" + credentialFieldsFragment
	codePageQuery     = "query CodePage($personId: ID) {\n" + myCodeField + myCredentialField + "}\n\n" + codeFieldsFragment +
		"\n\n" + credentialFieldsFragment
	qrQuery      = `query CodePageQR { myCode { colour colourLabel } myCredential { token colour maskedName expiresAt qrSvg } }`
	floorQuery   = `{ __typename }`
	declareQuery = `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { person { id } code { colour } } }`
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func body(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// phoneBody is a request body as urql sends it: the operation's name, the
// query and the variables.
func phoneBody(name, query string) []byte {
	b, _ := json.Marshal(map[string]any{"operationName": name, "query": query, "variables": map[string]any{}})
	return b
}

// productionOptions wires the stack as the platform serves it (cmd/healthcode
// httpServer): the access log formatted as JSON (discarded), the metrics and
// the GraphQL operations' observer, admission control with its defaults
// (but a queue as long as the bench's connections and a wait of up to 10 s,
// so that its closed loop is never refused on a busy machine: a request
// costs the same), and
// the rate limits of graph.DefaultRateLimits — by HC_BENCH_RATELIMIT: "local"
// (default, as the platform: the rules that fail open on the replica,
// ratelimit.Local, the others in Redis), "redis" (every rule in Redis, the
// platform before ratelimit.Local) or "off". The code page's limits are
// raised so that the bench's sessions, all from one loopback address, never
// reach them: the keys and their counting cost the same.
func productionOptions(ctx context.Context, b *testing.B, conns int) apitest.Options {
	limits := maps.Clone(graph.DefaultRateLimits)
	unbound := healthcode.Limit{Events: 1 << 30, Per: time.Minute}
	for _, f := range []string{"myCode", "myCredential"} {
		r := limits[f]
		r.PerAccount, r.PerAddress = unbound, unbound
		limits[f] = r
	}
	opts := apitest.Options{
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics:   server.NewMetrics(),
		Admission: &server.AdmissionConfig{Limit: server.DefaultAdmissionLimit(), QueueLimit: conns, MaxWait: 10 * time.Second},
	}
	mode := os.Getenv("HC_BENCH_RATELIMIT")
	if mode == "off" {
		return opts
	}
	ropt, err := redis.ParseURL(redistest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	rc := redis.NewClient(ropt)
	b.Cleanup(func() { rc.Close() })
	exact := &ratelimit.Redis{Client: rc}
	opts.RateLimiter, opts.RateLimits = exact, limits
	if mode != "redis" {
		approx := &ratelimit.Local{Shared: exact}
		go func() { _ = approx.Run(ctx) }()
		opts.ApproxRateLimiter = approx
	}
	b.Logf("rate limits: %s", map[bool]string{true: "local (ratelimit.Local) for the rules that fail open", false: mode}[mode == "" || mode == "local"])
	return opts
}

func idNumber(first17 string) string {
	c, _ := healthcode.IDCheckChar(first17)
	return first17 + string(c)
}

// TestLoadGenerator is the load generator process of BenchmarkCodePage
// (bench.DriveProcess); without bench.LoadSpecEnv it has nothing to do.
func TestLoadGenerator(t *testing.T) {
	if os.Getenv(bench.LoadSpecEnv) == "" {
		t.Skip("the load generator of BenchmarkCodePage")
	}
	if err := bench.RunLoadSpec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCodePage measures the path that failed in Xi'an, a resident
// opening their code, over loopback HTTP through the whole stack wired as the
// platform serves it (productionOptions: middleware, access log, metrics,
// admission control, rate limits, GraphQL, services, PostgreSQL),
// HC_BENCH_CONNS connections (32), HC_BENCH_ROUNDS interleaved rounds (3) of
// HC_BENCH_DURATION (5s) per scenario, HC_BENCH_SESSIONS real resident
// sessions (200), with the documents the resident's phone sends: myCode alone
// (the page's poll), the code page in one request (myCode + myCredential),
// the page opening as the phone opens it today (MyCode, then MyCredential:
// two requests, counted as one), the code page with qrSvg, the gqlgen floor
// `{ __typename }`, the ceiling (bench.Ceiling: the same session lookup, code
// read and signing in a bare net/http handler) and the peer (PostGraphile 4,
// a primary-key lookup of the same codes table). Each row's rate is the
// median of its rounds; the ratios compare rates of the same run. It also
// measures submitDeclaration end to end (the sessions' declarations) against
// a one-row committed INSERT per request.
func BenchmarkCodePage(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration measures for HC_BENCH_DURATION; run with -benchtime 1x")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sessions := envInt("HC_BENCH_SESSIONS", 200)
	conns := envInt("HC_BENCH_CONNS", 32)
	rounds := envInt("HC_BENCH_ROUNDS", 3)
	dur := envDuration("HC_BENCH_DURATION", 5*time.Second)

	stack := apitest.Setup(b, productionOptions(ctx, b, conns))
	<-stack.Listener.Ready() // the resident code cache serves once the listener is connected, as in serve
	url, err := bench.Serve(ctx, stack.Handler)
	if err != nil {
		b.Fatal(err)
	}
	var community string
	if err := stack.Pool.QueryRow(ctx, `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610113%'`).Scan(&community); err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, sessions)
	declare := make([]bench.Request, sessions)
	for i := range sessions {
		phone := fmt.Sprintf("139%08d", i)
		_, tokens[i] = stack.CreateResident(b, phone)
		declare[i] = bench.Request{Token: tokens[i], Body: body(declareQuery, map[string]any{"in": map[string]any{
			"form": "RESIDENT", "name": "居民" + strconv.Itoa(i), "docType": "ID_CARD", "docNumber": idNumber(fmt.Sprintf("61011319900101%03d", i%1000)),
			"phone": phone, "residence": community, "address": "1号楼1单元101", "temperature": 36.5}})}
	}
	// submitDeclaration end to end: every session declares once (the load
	// stops after the last one), 8 connections.
	decl := bench.DriveAll(ctx, 8, sessions, func(ctx context.Context, i int) error {
		return bench.Post(ctx, http.DefaultClient, url+"/graphql", declare[i])
	})
	if decl.Errors > 0 {
		b.Fatalf("submitDeclaration: %d errors, first: %s", decl.Errors, decl.FirstError)
	}
	// The platform's pool is the least-privileged application role (no DDL):
	// the benchmark's own tables, VACUUM and the peer use the owner's.
	owner := pgtest.Owner(b, stack.Pool)
	if _, err := owner.Exec(ctx, `CREATE TABLE bench_writes (id bigserial PRIMARY KEY, person_id bigint, form text, at timestamptz)`); err != nil {
		b.Fatal(err)
	}
	writes := bench.DriveFunc(ctx, 8, 3*time.Second, func(ctx context.Context, i int) error {
		_, err := owner.Exec(ctx, `INSERT INTO bench_writes (person_id, form, at) VALUES ($1, 'RESIDENT', now())`, i)
		return err
	})
	if _, err := owner.Exec(ctx, `DROP TABLE bench_writes`); err != nil {
		b.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}

	signer, err := credential.NewSigner(stack.Credentials.Ring)
	if err != nil {
		b.Fatal(err)
	}
	ceilingURL, err := bench.Serve(ctx, bench.Ceiling(stack.Pool, signer, stack.Credentials.Ring.Issuer(), stack.Clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	reqs := func(query string) []bench.Request {
		out := make([]bench.Request, sessions)
		for i, t := range tokens {
			out[i] = bench.Request{Token: t, Body: body(query, nil)}
		}
		return out
	}
	phone := func(name, query string) []bench.Request {
		out := make([]bench.Request, sessions)
		for i, t := range tokens {
			out[i] = bench.Request{Token: t, Body: phoneBody(name, query)}
		}
		return out
	}
	type scenario struct {
		name string
		url  string
		reqs []bench.Request
		// then, when set, is posted after reqs[i] in the same call: a page
		// opening with two requests.
		then []bench.Request
	}
	scenarios := []scenario{
		{"myCode", url + "/graphql", phone("MyCode", phoneMyCode), nil},
		{"code_page", url + "/graphql", phone("CodePage", codePageQuery), nil},
		{"phone_open", url + "/graphql", phone("MyCode", phoneMyCode), phone("MyCredential", phoneMyCredential)},
		{"code_page_qrSvg", url + "/graphql", reqs(qrQuery), nil},
		{"typename_floor", url + "/graphql", reqs(floorQuery), nil},
		{"ceiling", ceilingURL, reqs(""), nil},
	}
	if only := os.Getenv("HC_BENCH_ONLY"); only != "" { // profiling: some scenarios only
		var kept []scenario
		for _, s := range scenarios {
			if slices.Contains(strings.Split(only, ","), s.name) {
				kept = append(kept, s)
			}
		}
		scenarios = kept
	}
	pgURL, stopPG, pgErr := "", func() {}, errors.New("not selected (HC_BENCH_ONLY)")
	if only := os.Getenv("HC_BENCH_ONLY"); only == "" || slices.Contains(strings.Split(only, ","), "postgraphile") {
		// The peer's schema: a view of codes with its primary key (a
		// simple view reads as the table does).
		if _, err := owner.Exec(ctx, `CREATE SCHEMA bench_peer;
			CREATE VIEW bench_peer.codes AS SELECT person_id, colour, clauses, rule_set_version, updated_at, reevaluate_at FROM codes;
			COMMENT ON VIEW bench_peer.codes IS E'@primaryKey person_id'`); err != nil {
			b.Fatal(err)
		}
		pgURL, stopPG, pgErr = bench.PostGraphile(ctx, owner.Config().ConnString(), "bench_peer", b.Logf)
	}
	if pgErr == nil {
		defer stopPG()
		rows, err := stack.Pool.Query(ctx, `SELECT person_id FROM codes ORDER BY person_id`)
		if err != nil {
			b.Fatal(err)
		}
		var pids []int64
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			pids = append(pids, id)
		}
		rows.Close()
		var pg []bench.Request
		for _, id := range pids {
			pg = append(pg, bench.Request{Body: body(`query($id: BigInt!) { codeByPersonId(personId: $id) { personId colour clauses ruleSetVersion updatedAt reevaluateAt } }`,
				map[string]any{"id": strconv.FormatInt(id, 10)})})
		}
		scenarios = append(scenarios, scenario{"postgraphile", pgURL, pg, nil})
	} else {
		b.Logf("PostGraphile unavailable: %v", pgErr)
	}
	// The load comes from a process of its own (HC_BENCH_GENERATOR=inline:
	// from this one), so that the platform's server and the ceiling share
	// their process with no client, as PostGraphile does.
	inline := os.Getenv("HC_BENCH_GENERATOR") == "inline"
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	generator := []string{self, "-test.run=^TestLoadGenerator$", "-test.count=1"}
	drive := func(s scenario, d time.Duration) bench.Result {
		seqs := make([][]bench.Request, len(s.reqs))
		for i, r := range s.reqs {
			seqs[i] = []bench.Request{r}
			if s.then != nil {
				seqs[i] = append(seqs[i], s.then[i])
			}
		}
		if inline {
			return bench.DriveSeq(ctx, s.url, seqs, conns, d)
		}
		r, err := bench.DriveProcess(ctx, generator, s.url, seqs, conns, d)
		if err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		return r
	}
	// Warm up every scenario (connections, caches, plans), then interleave.
	for i := 0; i < len(scenarios); i++ {
		s := scenarios[i]
		if r := drive(s, time.Second); r.Errors > 0 {
			if s.name == "postgraphile" {
				pgErr = fmt.Errorf("PostGraphile answers with errors: %s", r.FirstError)
				b.Logf("PostGraphile unavailable: %v", pgErr)
				scenarios = scenarios[:i]
				break
			}
			b.Fatalf("%s: %d errors, first: %s", s.name, r.Errors, r.FirstError)
		}
	}
	results := map[string][]bench.Result{}
	for range rounds {
		for _, s := range scenarios {
			r := drive(s, dur)
			if r.Errors > 0 {
				b.Fatalf("%s: %d errors, first: %s", s.name, r.Errors, r.FirstError)
			}
			results[s.name] = append(results[s.name], r)
		}
	}
	med := map[string]bench.Result{}
	for name, rs := range results {
		med[name] = bench.Median(rs)
	}
	ceiling := med["ceiling"].Rate()
	report := func(name string, r bench.Result, baseline float64) {
		if r.Elapsed == 0 {
			return // not selected (HC_BENCH_ONLY)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportMetric(r.Rate(), "req/s")
			b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99_ms")
			if baseline > 0 {
				b.ReportMetric(baseline, "baseline_req/s")
				b.ReportMetric(r.Rate()/baseline, "x_baseline")
			}
		})
	}
	report("submitDeclaration_vs_one_insert", decl, writes.Rate())
	report("myCode_vs_ceiling", med["myCode"], ceiling)
	report("code_page_vs_ceiling", med["code_page"], ceiling)
	report("phone_open_vs_ceiling", med["phone_open"], ceiling)
	report("code_page_qrSvg_vs_ceiling", med["code_page_qrSvg"], ceiling)
	report("typename_floor_vs_ceiling", med["typename_floor"], ceiling)
	report("ceiling", med["ceiling"], 0)
	if pgErr == nil {
		report("postgraphile", med["postgraphile"], 0)
		report("code_page_vs_postgraphile", med["code_page"], med["postgraphile"].Rate())
	} else {
		b.Run("code_page_vs_postgraphile", func(b *testing.B) { b.ReportMetric(1, "unavailable") })
	}
	// How the resident code cache did over the whole run (the declarations
	// and the code page's scenarios): x_hits is hits / session lookups.
	st := stack.DB.ResidentCache.Stats()
	b.Run("code_cache", func(b *testing.B) {
		b.ReportMetric(float64(st.Hits), "hits")
		b.ReportMetric(float64(st.Misses), "misses")
		b.ReportMetric(float64(st.Invalidations), "invalidations")
		b.ReportMetric(float64(st.Hits)/float64(max(1, st.Hits+st.Misses)), "x_hits")
	})
}
