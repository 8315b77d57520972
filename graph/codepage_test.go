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

// The code page (myCode and myCredential in one operation) costs one SQL
// statement: the session lookup, which reads the person, code and effective
// rule-set version with it, shared by both fields.
func TestCodePageReadsOnce(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138200")
	s.declare(token, declaration("王小明", idNumber("61011319900307200"), "13800138200", s.community("610113"), nil))
	c := countStatements(t, s.Bundle)
	s.Do(t, token, codePageQuery, nil).MustData(t) // warm: the rule set is parsed once per process
	before := c.n.Load()
	data := s.Do(t, token, codePageQuery, nil).MustData(t)
	if n := c.n.Load() - before; n > 1 {
		t.Fatalf("the code page sent %d statements, want 1 (session with code)", n)
	}
	if data["myCode"].(map[string]any)["colour"] != "GREEN" || data["myCredential"].(map[string]any)["colour"] != "GREEN" {
		t.Fatalf("code page = %v", data)
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

	// A second replica: its own pool and services on the same database.
	cfg := s.Pool.Config()
	pool2, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	db2 := *s.DB
	db2.Pool = pool2
	codes2 := &postgres.CodeService{DB: &db2}
	creds2 := &postgres.CredentialService{DB: &db2, Codes: codes2, Ring: s.Credentials.Ring}
	var accountID int64
	if err := s.Pool.QueryRow(context.Background(), `SELECT resident_id FROM sessions WHERE token_hash = sha256($1::bytea)`,
		[]byte(token)).Scan(&accountID); err != nil {
		t.Fatal(err)
	}
	resident := healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorResident, ID: accountID})
	read2 := func(what string, want healthcode.Colour) {
		t.Helper()
		code, err := codes2.MyCode(resident, 0)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := creds2.ElectronicToken(resident, 0)
		if err != nil {
			t.Fatal(err)
		}
		v := s.verify(cred.Token).MustData(t)["verifyCode"].(map[string]any)
		if code.Colour != want || cred.Colour != want || v["colour"] != string(want) {
			t.Fatalf("%s: replica 2 reads %s, token %s (verified %v), want %s", what, code.Colour, cred.Colour, v["colour"], want)
		}
		page := s.Do(t, token, codePageQuery, nil).MustData(t)
		if page["myCode"].(map[string]any)["colour"] != string(want) || page["myCredential"].(map[string]any)["colour"] != string(want) {
			t.Fatalf("%s: replica 1 reads %v, want %s", what, page, want)
		}
	}
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
}
