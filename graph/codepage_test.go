package graph_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

const codePageQuery = `query { myCode { colour clauses { id } ruleSetVersion } myCredential { token colour maskedName issuedAt expiresAt } }`

// The code page (myCode and myCredential in one operation) costs no SQL
// statement on a warm resident code cache, and one on a miss: the session
// lookup, which reads the person, code and effective rule-set version with
// it, shared by both fields.
func TestCodePageReadsOnce(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	<-s.Listener.Ready() // the cache serves while the listener is connected
	_, token := s.CreateResident(t, "13800138200")
	s.declare(token, declaration("王小明", idNumber("61011319900307200"), "13800138200", s.community("610113"), nil))
	c := countStatements(t, s.Bundle)
	s.Do(t, token, codePageQuery, nil).MustData(t) // warm: the rule set is parsed once per process, the session kept
	for _, miss := range []bool{false, true} {
		if miss {
			s.DB.ResidentCache.Flush()
		}
		s.SyncCache()
		before, hits := c.n.Load(), s.DB.ResidentCache.Stats().Hits
		data := s.Do(t, token, codePageQuery, nil).MustData(t)
		n, hit := c.n.Load()-before, s.DB.ResidentCache.Stats().Hits > hits
		if want := map[bool]int64{false: 0, true: 1}[miss]; n != want || hit == miss {
			t.Fatalf("the code page (miss %v) sent %d statements (cache hit %v), want %d", miss, n, hit, want)
		}
		if data["myCode"].(map[string]any)["colour"] != "GREEN" || data["myCredential"].(map[string]any)["colour"] != "GREEN" {
			t.Fatalf("code page = %v", data)
		}
	}
}

// A token is reused while more than half of its lifetime is left, and
// signed again after; another replica never serves a token or a colour that
// a fact change or an area designation made stale.
func TestCodePageTokenReuseNeverStale(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138201")
	s.declare(token, declaration("李小红", idNumber("61011319900307201"), "13800138201", s.community("610113"), nil))
	first := s.Do(t, token, codePageQuery, nil).MustData(t)["myCredential"].(map[string]any)
	s.Clock.Advance(2 * time.Minute)
	again := s.Do(t, token, codePageQuery, nil).MustData(t)["myCredential"].(map[string]any)
	if again["token"] != first["token"] {
		t.Fatalf("a token with 3 of 5 minutes left was signed again: %v then %v", first, again)
	}
	s.Clock.Advance(time.Minute)
	later := s.Do(t, token, codePageQuery, nil).MustData(t)["myCredential"].(map[string]any)
	if later["token"] == first["token"] {
		t.Fatalf("a token with 2 of 5 minutes left was reused")
	}
	if exp, _ := time.Parse(time.RFC3339, later["expiresAt"].(string)); exp.Sub(s.Clock.Now()) < 4*time.Minute {
		t.Fatalf("re-signed token expires at %v, now %v", exp, s.Clock.Now())
	}

	// A second replica: its own pool, listener, resident code cache and
	// services on the same database. Both replicas' caches are warm before
	// each change (read twice: the second read is a hit); after it, both
	// listeners are synced (every change committed before is applied), and
	// neither may then serve a stale colour, token or session.
	s.NoAutoSync = true
	cfg := s.Pool.Config()
	pool2, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	db2 := *s.DB
	db2.Pool = pool2
	db2.ResidentCache = postgres.NewResidentCache(100, 0)
	l2 := postgres.NewListener(&db2)
	postgres.WatchResidentCache(l2, db2.ResidentCache)
	lctx, stop := context.WithCancel(context.Background())
	listening := make(chan struct{})
	go func() { defer close(listening); _ = l2.Run(lctx) }()
	t.Cleanup(func() { stop(); <-listening })
	<-l2.Ready()
	<-s.Listener.Ready()
	codes2 := &postgres.CodeService{DB: &db2}
	creds2 := &postgres.CredentialService{DB: &db2, Codes: codes2, Ring: s.Credentials.Ring}
	sync := func() {
		t.Helper()
		for _, l := range []*postgres.Listener{s.Listener, l2} {
			if err := l.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// page2 is the code page on replica 2, as its transport runs it: the
	// session lookup (from its cache when kept) and both fields.
	page2 := func(token string) (*healthcode.Code, *healthcode.Credential, error) {
		a, err := db2.Authenticate(context.Background(), token)
		if err != nil {
			return nil, nil, err
		}
		ctx := healthcode.NewContextWithActor(healthcode.WithRequestMemo(context.Background()), a)
		code, err := codes2.MyCode(ctx, 0)
		if err != nil {
			return nil, nil, err
		}
		cred, err := creds2.ElectronicToken(ctx, 0)
		return code, cred, err
	}
	read := func(what, token string, want healthcode.Colour) {
		t.Helper()
		// The first read after a change, then (a read may re-evaluate a
		// due or retired code, and drop its own entry) warm ones.
		for i := range 3 {
			if i > 0 {
				sync()
			}
			hits := db2.ResidentCache.Stats().Hits
			code, cred, err := page2(token)
			if err != nil {
				t.Fatalf("%s: replica 2: %v", what, err)
			}
			v := s.verify(cred.Token).MustData(t)["verifyCode"].(map[string]any)
			if code.Colour != want || cred.Colour != want || v["colour"] != string(want) {
				t.Fatalf("%s: replica 2 reads %s, token %s (verified %v), want %s", what, code.Colour, cred.Colour, v["colour"], want)
			}
			if i == 2 && db2.ResidentCache.Stats().Hits == hits {
				t.Fatalf("%s: replica 2's second read missed its cache", what)
			}
			page := s.Do(t, token, codePageQuery, nil).MustData(t)
			if page["myCode"].(map[string]any)["colour"] != string(want) || page["myCredential"].(map[string]any)["colour"] != string(want) {
				t.Fatalf("%s: replica 1 reads %v, want %s", what, page, want)
			}
		}
	}
	read2 := func(what string, want healthcode.Colour) { t.Helper(); sync(); read(what, token, want) }
	read2("before", healthcode.Green)
	// An area designation of the residence (replica 1, workers drained).
	_, officer := s.CreateStaff(t, "prov_health_cp", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH, reason: "疫情变化") { id } }`, nil).MustData(t)
	s.approvePending(t, "61") // a second officer (docs/security-colour.md)
	drainOutbox(t, s)
	read2("after a HIGH designation", healthcode.Red)
	s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: LOW, reason: "疫情变化") { id } }`, nil).MustData(t)
	s.approvePending(t, "61")
	drainOutbox(t, s)
	read2("after the designation is lifted", healthcode.Green)
	// A fact change: a fever at the daily check-in (replica 1).
	s.Do(t, token, `mutation { checkIn(temperature: 38.2) { colour } }`, nil).MustData(t)
	read2("after a fever", healthcode.Yellow)
	// A rule publish: a fever counts from 38.5 °C (approved on replica 1);
	// the code reads GREEN at once, before any worker re-evaluated it, and
	// after.
	_, rulesA := s.CreateStaff(t, "rules_cp_a", "61", apitest.G("RULE_ADMIN@61"))
	_, rulesB := s.CreateStaff(t, "rules_cp_b", "61", apitest.G("RULE_ADMIN@61"))
	sets := s.Do(t, rulesA, `query { ruleSets { version status body } }`, nil).MustData(t)["ruleSets"].([]any)
	var rs map[string]any
	if err := json.Unmarshal([]byte(sets[0].(map[string]any)["body"].(string)), &rs); err != nil {
		t.Fatal(err)
	}
	rs["version"] = "2026-fever-38.5"
	for _, c := range rs["clauses"].([]any) {
		if c := c.(map[string]any); c["id"] == "Y2" {
			c["params"].(map[string]any)["threshold"] = 38.5
		}
	}
	body, _ := json.Marshal(rs)
	s.Do(t, rulesA, `mutation($b: String!) { publishRuleSet(body: $b) { version } }`, map[string]any{"b": string(body)}).MustData(t)
	s.Do(t, rulesB, `mutation { approveRuleSet(version: "2026-fever-38.5") { status } }`, nil).MustData(t)
	read2("after a rule publish, before re-evaluation", healthcode.Green)
	drainOutbox(t, s)
	read2("after a rule publish", healthcode.Green)

	// A person re-bound: an elder declared by a guardian claims the code
	// with their own phone; their account's cached session (no own person
	// yet) then shows the code on both replicas.
	home := s.community("610113")
	_, guardian := s.CreateResident(t, "13800138202")
	s.declare(guardian, declaration("王子", idNumber("61011319800101202"), "13800138202", home, nil))
	elderDoc := idNumber("61011319500101202")
	abroad := map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-3)}}}
	s.declare(guardian, declaration("王老", elderDoc, "13800138202", home, abroad))
	_, elder := s.CreateResident(t, "13800138203")
	sync()
	for range 2 { // warm: no code yet
		if _, _, err := page2(elder); healthcode.ErrorCode(err) != healthcode.ENOTFOUND {
			t.Fatalf("the elder's code page before the claim: %v", err)
		}
		if r := s.Do(t, elder, codePageQuery, nil); r.Code() != "NOT_FOUND" {
			t.Fatalf("the elder's code page before the claim on replica 1: %q", r.Code())
		}
	}
	s.Do(t, elder, `mutation($d: String!) { claimOwnCode(docType: ID_CARD, docNumber: $d, name: "王老") { id } }`,
		map[string]any{"d": elderDoc}).MustData(t)
	sync()
	read("after the elder claimed their code", elder, healthcode.Red)

	// A session revoked (logout on replica 1): the session kept by both
	// caches no longer authenticates.
	s.Do(t, token, `mutation { logout }`, nil).MustData(t)
	sync()
	if _, err := db2.Authenticate(context.Background(), token); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED {
		t.Fatalf("replica 2 after logout: %v", err)
	}
	if r := s.Do(t, token, codePageQuery, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("replica 1 after logout: %q", r.Code())
	}
}
