package graph_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"healthcode/graph/apitest"
)

// The console's approvals inbox (docs/web.md, 审批) shows both people of each
// two-person step and what a colour change request would do.

// A pending medical event or retraction says whose code it is (masked), the
// person's colour now and the colour approving it would give, evaluated with
// the rule set in force.
func TestInboxColourRequestDescribesPersonAndResult(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138751")
	pid, _ := s.declare(resident, declaration("钱红梅", idNumber("61011319800101751"), "13800138751", s.community("610113"), nil))
	officerID, officer := s.CreateStaff(t, "inbox_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	_, second := s.CreateStaff(t, "inbox_second", "610113", apitest.G("HEALTH_OFFICER@610113"))
	list := func() map[string]any {
		t.Helper()
		l := s.Do(t, second, `query { colourRequests { id kind maskedName colour resultColour requestedBy { subject name } } }`, nil).
			MustData(t)["colourRequests"].([]any)
		if len(l) != 1 {
			t.Fatalf("pending requests: %v", l)
		}
		return l[0].(map[string]any)
	}
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`, map[string]any{"p": pid}).MustData(t)
	r := list()
	if r["kind"] != "MEDICAL" || r["maskedName"] == "" || r["maskedName"] == "钱红梅" || r["colour"] != "GREEN" || r["resultColour"] != "RED" ||
		r["requestedBy"].(map[string]any)["subject"] != subj(officerID) {
		t.Fatalf("confirmed request: %v", r)
	}
	s.Do(t, second, `mutation($id: ID!) { approveColourRequest(id: $id) { status } }`, map[string]any{"id": r["id"]}).MustData(t)

	// Retracting the confirmed diagnosis would lift the red.
	facts := s.Do(t, second, `query($p: ID!) { personFacts(personId: $p) { id kind } }`, map[string]any{"p": pid}).MustData(t)["personFacts"].([]any)
	var fid any
	for _, f := range facts {
		if f := f.(map[string]any); f["kind"] == "MEDICAL" {
			fid = f["id"]
		}
	}
	s.Do(t, officer, `mutation($id: ID!) { retractFact(kind: MEDICAL, id: $id, reason: "误录") { colour } }`, map[string]any{"id": fid}).MustData(t)
	if r := list(); r["kind"] != "RETRACT" || r["colour"] != "RED" || r["resultColour"] != "GREEN" {
		t.Fatalf("retraction request: %v", r)
	}
	// A discharge keeps the person red for the 14 days after it (R6): the
	// result is evaluated, not guessed from the direction of the request.
	s.Do(t, second, `mutation($id: ID!, $r: String!) { rejectColourRequest(id: $id, reason: $r) { status } }`,
		map[string]any{"id": list()["id"], "r": "不撤销"}).MustData(t)
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: DISCHARGED) { colour } }`, map[string]any{"p": pid}).MustData(t)
	if r := list(); r["colour"] != "RED" || r["resultColour"] != "RED" {
		t.Fatalf("discharge request: %v", r)
	}
	// Decided requests carry no result.
	done := s.Do(t, second, `query { colourRequests(status: APPROVED) { maskedName colour resultColour } }`, nil).MustData(t)["colourRequests"].([]any)
	if len(done) != 1 || done[0].(map[string]any)["resultColour"] != nil || done[0].(map[string]any)["colour"] != "RED" {
		t.Fatalf("approved requests: %v", done)
	}
}

// A rule set names the rule admin who submitted it and the one who approved
// it; a grant names its granter.
func TestInboxRuleSetAndGrantAttribution(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	aID, rulesA := s.CreateStaff(t, "inbox_rules_a", "61", apitest.G("RULE_ADMIN@61"))
	bID, rulesB := s.CreateStaff(t, "inbox_rules_b", "61", apitest.G("RULE_ADMIN@61"))
	const q = `query { ruleSets { version status submitter { subject name } approver { subject name } } }`
	find := func(tok, version string) map[string]any {
		t.Helper()
		for _, r := range s.Do(t, tok, q, nil).MustData(t)["ruleSets"].([]any) {
			if r := r.(map[string]any); r["version"] == version {
				return r
			}
		}
		t.Fatalf("no rule set %s", version)
		return nil
	}
	sets := s.Do(t, rulesA, q, nil).MustData(t)["ruleSets"].([]any)
	if len(sets) != 1 || sets[0].(map[string]any)["submitter"] != nil {
		t.Fatalf("the default rule set has no submitter: %v", sets)
	}
	var rs map[string]any
	body := s.Do(t, rulesA, `query { ruleSets { body } }`, nil).MustData(t)["ruleSets"].([]any)[0].(map[string]any)["body"].(string)
	if err := json.Unmarshal([]byte(body), &rs); err != nil {
		t.Fatal(err)
	}
	rs["version"] = "inbox-1"
	b, _ := json.Marshal(rs)
	s.Do(t, rulesA, `mutation($b: String!) { publishRuleSet(body: $b) { version } }`, map[string]any{"b": string(b)}).MustData(t)
	pending := find(rulesB, "inbox-1")
	if pending["version"] != "inbox-1" || pending["submitter"].(map[string]any)["subject"] != subj(aID) ||
		pending["submitter"].(map[string]any)["name"] == "" || pending["approver"] != nil {
		t.Fatalf("pending rule set: %v", pending)
	}
	s.Do(t, rulesB, `mutation { approveRuleSet(version: "inbox-1") { status } }`, nil).MustData(t)
	done := find(rulesA, "inbox-1")
	if done["status"] != "PUBLISHED" || done["approver"].(map[string]any)["subject"] != subj(bID) {
		t.Fatalf("published rule set: %v", done)
	}

	adminID, yantaAdmin := s.CreateStaff(t, "inbox_yanta_admin", "610113", apitest.G("ADMIN@610113"))
	granteeID, _ := s.CreateStaff(t, "inbox_grantee", "610113")
	s.Do(t, yantaAdmin, `mutation($id: ID!) { grantRole(staffId: $id, role: HEALTH_OFFICER, region: "610113") { id } }`,
		map[string]any{"id": strconv.FormatInt(granteeID, 10)}).MustData(t)
	_, xian := s.CreateStaff(t, "inbox_xian_admin", "6101", apitest.G("ADMIN@6101"))
	var found bool
	for _, st := range s.Do(t, xian, `query { staff(first: 100) { nodes { id grants { role pending grantedBy { subject } } } } }`, nil).
		MustData(t)["staff"].(map[string]any)["nodes"].([]any) {
		st := st.(map[string]any)
		if st["id"] != strconv.FormatInt(granteeID, 10) {
			continue
		}
		for _, g := range st["grants"].([]any) {
			g := g.(map[string]any)
			found = g["role"] == "HEALTH_OFFICER" && g["pending"] == true && g["grantedBy"].(map[string]any)["subject"] == subj(adminID)
		}
	}
	if !found {
		t.Fatal("the pending grant does not name its granter")
	}
}

// pendingGrants lists what the caller may approve, and nothing else: a
// grant at a region whose parent lies inside the caller's grant.manage
// regions, not given by or to the caller; none for an administrator of
// another city; gone once approved. It pages by id.
func TestInboxPendingGrants(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	const q = `query($after: String) { pendingGrants(first: 1, after: $after) {
		nodes { id role regionCode pending grantee { subject name } grantedBy { subject } }
		pageInfo { hasNextPage endCursor } } }`
	page := func(tok string, after any) ([]any, map[string]any) {
		t.Helper()
		c := s.Do(t, tok, q, map[string]any{"after": after}).MustData(t)["pendingGrants"].(map[string]any)
		return c["nodes"].([]any), c["pageInfo"].(map[string]any)
	}
	xianAID, xianA := s.CreateStaff(t, "pg_xian_a", "6101", apitest.G("ADMIN@6101"))
	_, xianB := s.CreateStaff(t, "pg_xian_b", "6101", apitest.G("ADMIN@6101"))
	_, baoji := s.CreateStaff(t, "pg_baoji", "6103", apitest.G("ADMIN@6103"))
	_, yantaAdmin := s.CreateStaff(t, "pg_yanta_admin", "610113", apitest.G("ADMIN@610113"))
	officerID, _ := s.CreateStaff(t, "pg_officer", "610113")
	ruleID, _ := s.CreateStaff(t, "pg_rules", "610113")
	grant := func(tok string, id int64, role string) string {
		t.Helper()
		g := s.Do(t, tok, `mutation($id: ID!, $r: Role!) { grantRole(staffId: $id, role: $r, region: "610113") { id pending } }`,
			map[string]any{"id": strconv.FormatInt(id, 10), "r": role}).MustData(t)["grantRole"].(map[string]any)
		if g["pending"] != true {
			t.Fatalf("grant of %s: %v", role, g)
		}
		return g["id"].(string)
	}
	first := grant(xianA, officerID, "HEALTH_OFFICER")
	second := grant(yantaAdmin, ruleID, "RULE_ADMIN")

	// The other Xi'an administrator approves both, one page at a time.
	nodes, info := page(xianB, nil)
	if len(nodes) != 1 || info["hasNextPage"] != true {
		t.Fatalf("first page: %v %v", nodes, info)
	}
	g := nodes[0].(map[string]any)
	if g["id"] != first || g["role"] != "HEALTH_OFFICER" || g["regionCode"] != "610113" || g["pending"] != true ||
		g["grantee"].(map[string]any)["subject"] != subj(officerID) || g["grantee"].(map[string]any)["name"] != "pg_officer" ||
		g["grantedBy"].(map[string]any)["subject"] != subj(xianAID) {
		t.Fatalf("pending grant: %v", g)
	}
	nodes, info = page(xianB, info["endCursor"])
	if len(nodes) != 1 || nodes[0].(map[string]any)["id"] != second || info["hasNextPage"] != false {
		t.Fatalf("second page: %v %v", nodes, info)
	}
	// The granter sees only the grant it did not give; the district's
	// administrator approves nothing at its own district; another city's
	// administrator sees none.
	if nodes, _ := page(xianA, nil); len(nodes) != 1 || nodes[0].(map[string]any)["id"] != second {
		t.Fatalf("the granter's list: %v", nodes)
	}
	if nodes, _ := page(yantaAdmin, nil); len(nodes) != 0 {
		t.Fatalf("the district administrator's list: %v", nodes)
	}
	if nodes, _ := page(baoji, nil); len(nodes) != 0 {
		t.Fatalf("another city's list: %v", nodes)
	}
	// The grantee of a pending grant does not approve it either, nor does
	// its granter (xianB here).
	third := grant(xianB, xianAID, "RULE_ADMIN")
	if nodes, info := page(xianA, nil); len(nodes) != 1 || nodes[0].(map[string]any)["id"] != second || info["hasNextPage"] != false {
		t.Fatalf("the grantee's list: %v %v", nodes, info)
	}
	if nodes, _ := page(baoji, nil); len(nodes) != 0 {
		t.Fatalf("another city's list: %v", nodes)
	}
	s.Do(t, xianB, `mutation($id: ID!) { approveGrant(grantId: $id) { pending } }`, map[string]any{"id": first}).MustData(t)
	if nodes, info := page(xianB, nil); len(nodes) != 1 || nodes[0].(map[string]any)["id"] != second || info["hasNextPage"] != false {
		t.Fatalf("after approval: %v %v", nodes, info)
	}
	// The province's administrator approves the grant the city
	// administrator gave the other.
	_, province := s.CreateStaff(t, "pg_province", "61", apitest.G("ADMIN@61"))
	nodes, _ = page(province, info["endCursor"])
	if len(nodes) != 1 || nodes[0].(map[string]any)["id"] != third {
		t.Fatalf("the province's second page: %v", nodes)
	}
	// A staff member without grant.manage is refused.
	_, officer := s.CreateStaff(t, "pg_plain_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	wantError(t, "no grant.manage", s.Do(t, officer, q, nil), "FORBIDDEN")
}
