package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// The community work of the notice (附件1 三、附件2; SPEC §2) as the
// community's health staff do it: a HEALTH_OFFICER granted at a county
// declares for residents without phones, prints their paper codes, reviews
// pass-card applications and closes fever reports, with no administrator.

const (
	issuePaper   = `mutation($p: ID!) { issuePaperCode(personId: $p) { token kind expiresAt } }`
	applyCard    = `mutation($in: DeclarationInput!) { applyPassCard(input: $in) { id status colour } }`
	listCards    = `query($s: String) { passCardApplications(status: $s) { id status maskedName } }`
	reviewCard   = `mutation($id: ID!, $ok: Boolean!, $r: String) { reviewPassCard(id: $id, approve: $ok, reason: $r) { application { status reviewedBy } card { kind token } } }`
	listFevers   = `query($s: String) { feverReports(status: $s) { id status temperature reason handledBy } }`
	handleFever  = `mutation($id: ID!, $o: String!, $r: String) { handleFeverReport(id: $id, outcome: $o, reason: $r) { status handledBy } }`
	auditActions = `query { auditLog(first: 100) { nodes { actorName role action } } }`
)

// communityWork is what the tests of this file set up in 雁塔区 (610113): a
// person without a phone declared by its community health staff, a pending
// pass-card application and an open fever report.
type communityWork struct {
	*scenario
	home, officer                     string
	person, application, fever, scanP string // ids; scanP is the feverish resident's person
	resident                          string // the feverish resident's token
	communityOfficer                  int64  // a HEALTH_OFFICER of the community itself
}

// setupFever sets up the officer and a resident of 雁塔区 whose fever at a
// checkpoint raised an open fever report, which the officer lists.
func setupFever(t *testing.T) *communityWork {
	t.Helper()
	s := newScenario(t)
	c := &communityWork{scenario: s, home: s.community("610113")}
	_, c.officer = s.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	// The community's own health officer, with a phone to be texted on.
	c.communityOfficer, _ = s.CreateStaff(t, "community_health", c.home, apitest.G("HEALTH_OFFICER@"+c.home))
	if _, err := s.Pool.Exec(context.Background(), "UPDATE staff SET phone_enc = $2, phone_hash = $3, phone_masked = '139****0002' WHERE id = $1",
		c.communityOfficer, s.DB.PII.Encrypt("13900000002"), s.DB.PII.Hash("phone", "13900000002")); err != nil {
		t.Fatal(err)
	}
	_, c.resident = s.CreateResident(t, "13800138601")
	c.scanP, _ = s.declare(c.resident, declaration("发热者", idNumber("61011319900202022"), "13800138601", c.home, nil))
	venue, inspector := s.checkpoint(t, "大雁塔北广场", "610113")
	res := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000001101", s.credentialOf(t, c.resident), venue, s.Clock.Now(), 38.2))
	if res[0]["fever"] != true {
		t.Fatalf("fever scan = %v", res[0])
	}
	reports := s.Do(t, c.officer, listFevers, nil).MustData(t)["feverReports"].([]any)
	if len(reports) != 1 {
		t.Fatalf("the officer lists %d open fever reports, want 1", len(reports))
	}
	c.fever = reports[0].(map[string]any)["id"].(string)
	return c
}

// setupCommunityWork adds to setupFever a person without a phone declared by
// the officer and a pending pass-card application of a villager.
func setupCommunityWork(t *testing.T) *communityWork {
	t.Helper()
	c := setupFever(t)
	s := c.scenario
	// 代为申领: a person without a phone, declared by the health officer.
	data := s.Do(t, c.officer, declareMutation, declaration("独居老人", idNumber("61011319400202020"), "", c.home, nil)).MustData(t)
	person := data["submitDeclaration"].(map[string]any)["person"].(map[string]any)
	if !strings.Contains(person["docNumber"].(string), "*") {
		t.Fatalf("the officer saw an unmasked document: %v", person)
	}
	c.person = person["id"].(string)
	_, villager := s.CreateResident(t, "13800138600")
	app := s.Do(t, villager, applyCard, declaration("村民丙", idNumber("61011319700202021"), "13800138600", c.home, nil)).MustData(t)
	c.application = app["applyPassCard"].(map[string]any)["id"].(string)
	return c
}

// Each journey of community work succeeds for a county health officer and is
// audited under the HEALTH_OFFICER role.
func TestCommunityHealthOfficerJourneys(t *testing.T) {
	t.Parallel()
	c := setupCommunityWork(t)
	s, officer := c.scenario, c.officer

	// The community's health officer was texted about the fever.
	var texted []string
	rows, err := s.Pool.Query(context.Background(), "SELECT dedup_key FROM outbox WHERE task_type = 'notify:sms' AND dedup_key LIKE 'fever:%'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		texted = append(texted, k)
	}
	if len(texted) != 1 || !strings.HasSuffix(texted[0], fmt.Sprintf(":%d", c.communityOfficer)) {
		t.Errorf("fever texts %v, want one to the community's health officer %d", texted, c.communityOfficer)
	}

	paper := s.Do(t, officer, issuePaper, map[string]any{"p": c.person}).MustData(t)["issuePaperCode"].(map[string]any)
	if paper["kind"] != "PAPER" {
		t.Fatalf("paper code = %v", paper)
	}
	s.verify(paper["token"].(string)).MustData(t)

	queue := s.Do(t, officer, listCards, nil).MustData(t)["passCardApplications"].([]any)
	if len(queue) != 1 || queue[0].(map[string]any)["id"] != c.application {
		t.Fatalf("the officer's pass-card queue = %v", queue)
	}
	review := s.Do(t, officer, reviewCard, map[string]any{"id": c.application, "ok": true}).MustData(t)["reviewPassCard"].(map[string]any)
	if review["application"].(map[string]any)["status"] != "APPROVED" || review["card"].(map[string]any)["kind"] != "PASS_CARD" {
		t.Fatalf("review = %v", review)
	}

	handled := s.Do(t, officer, handleFever, map[string]any{"id": c.fever, "o": "TRANSFERRED"}).MustData(t)["handleFeverReport"].(map[string]any)
	if handled["status"] != "TRANSFERRED" {
		t.Fatalf("handled fever report = %v", handled)
	}

	_, auditor := s.CreateStaff(t, "auditor", "61", apitest.G("AUDITOR@61"))
	roles := map[string]string{}
	for _, n := range s.Do(t, auditor, auditActions, nil).MustData(t)["auditLog"].(map[string]any)["nodes"].([]any) {
		n := n.(map[string]any)
		if n["actorName"] == "yanta_health" {
			roles[n["action"].(string)] = n["role"].(string)
		}
	}
	for _, action := range []string{"person.declare", "credential.print_paper", "passcard.review", "fever.handle"} {
		if roles[action] != "HEALTH_OFFICER" {
			t.Errorf("audit of %s names role %q, want HEALTH_OFFICER (all: %v)", action, roles[action], roles)
		}
	}
}

// A health officer of another county neither sees nor acts on any of it: the
// objects answer NOT_FOUND, like unknown ids, and the lists are empty.
func TestCommunityWorkOtherCounty(t *testing.T) {
	t.Parallel()
	c := setupCommunityWork(t)
	s := c.scenario
	_, beilin := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))

	for _, tc := range []struct {
		what, query string
		vars        map[string]any
		message     string
	}{
		{"paper code", issuePaper, map[string]any{"p": c.person}, "人员不存在"},
		{"pass-card review", reviewCard, map[string]any{"id": c.application, "ok": true}, "申请不存在"},
		{"fever report", handleFever, map[string]any{"id": c.fever, "o": "TRANSFERRED"}, "发热报告不存在"},
	} {
		r := s.Do(t, beilin, tc.query, tc.vars)
		if r.Code() != "NOT_FOUND" || r.Errors[0].Message != tc.message {
			t.Errorf("%s by another county's officer: %+v, want NOT_FOUND %s", tc.what, r.Errors, tc.message)
		}
	}
	if list := s.Do(t, beilin, listCards, nil).MustData(t)["passCardApplications"].([]any); len(list) != 0 {
		t.Errorf("another county's officer lists pass-card applications %v", list)
	}
	if list := s.Do(t, beilin, listFevers, nil).MustData(t)["feverReports"].([]any); len(list) != 0 {
		t.Errorf("another county's officer lists fever reports %v", list)
	}
	// Declaring for the Yanta person from Beilin: the person is registered
	// elsewhere (one person, one code), and nothing about them is shown.
	in := declaration("独居老人", idNumber("61011319400202020"), "", s.community("610103"), nil)
	if r := s.Do(t, beilin, declareMutation, in); r.Code() != "CONFLICT" || strings.Contains(r.Errors[0].Message, "610113") {
		t.Errorf("declaring from Beilin for a Yanta person: %+v, want CONFLICT", r.Errors)
	}
	// The Yanta officer still finds everything pending.
	if list := s.Do(t, c.officer, listCards, nil).MustData(t)["passCardApplications"].([]any); len(list) != 1 {
		t.Errorf("pending applications after the refusals: %v", list)
	}
}

// Staff who may see the objects (person.read inside their grants) but not act
// on them are told FORBIDDEN 无权…, not that the object does not exist.
func TestCommunityWorkSeenButNotAllowed(t *testing.T) {
	t.Parallel()
	c := setupCommunityWork(t)
	s := c.scenario
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"))
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	for name, token := range map[string]string{"handler": handler, "operator": operator} {
		if r := s.Do(t, token, `query($p: ID!) { person(id: $p) { id } }`, map[string]any{"p": c.person}); len(r.Errors) > 0 {
			t.Fatalf("the %s cannot see the person: %+v", name, r.Errors)
		}
		for _, tc := range []struct {
			what, query string
			vars        map[string]any
		}{
			{"paper code", issuePaper, map[string]any{"p": c.person}},
			{"pass-card review", reviewCard, map[string]any{"id": c.application, "ok": true}},
			{"fever report", handleFever, map[string]any{"id": c.fever, "o": "TRANSFERRED"}},
		} {
			r := s.Do(t, token, tc.query, tc.vars)
			if r.Code() != "FORBIDDEN" || !strings.HasPrefix(r.Errors[0].Message, "无权") {
				t.Errorf("%s by the %s: %+v, want FORBIDDEN 无权…", tc.what, name, r.Errors)
			}
		}
	}
	// The officer may declare for people without phones, not re-declare a
	// resident who holds their own code (SPEC §2: 代为申领 is for people
	// without phones); the resident's data stays theirs.
	in := declaration("改名者", idNumber("61011319900202022"), "13800138601", c.home, nil)
	if r := s.Do(t, c.officer, declareMutation, in); r.Code() != "FORBIDDEN" || !strings.HasPrefix(r.Errors[0].Message, "无权") {
		t.Errorf("re-declaring a resident with their own account: %+v, want FORBIDDEN 无权…", r.Errors)
	}
	me := s.Do(t, c.resident, `query { myDependents { name } }`, nil).MustData(t)["myDependents"].([]any)
	if me[0].(map[string]any)["name"] != "发热者" {
		t.Errorf("the resident's name became %v", me[0])
	}
}

// A designation outside the caller's jurisdiction answers exactly like one
// that does not exist; inside it, a role that sees the person but may not
// approve is told so.
func TestDesignationApprovalRefusals(t *testing.T) {
	t.Parallel()
	c := setupCommunityWork(t)
	s := c.scenario
	id := s.Do(t, c.officer, `mutation($p: ID!) { designatePerson(personId: $p, colour: RED, reason: "密接的同住人员") { designationId } }`,
		map[string]any{"p": c.person}).MustData(t)["designatePerson"].(map[string]any)["designationId"].(string)
	approve := `mutation($id: ID!) { approveDesignation(id: $id) { colour } }`
	_, beilin := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))
	unknown := s.Do(t, beilin, approve, map[string]any{"id": "999999"})
	other := s.Do(t, beilin, approve, map[string]any{"id": id})
	if unknown.Code() != "NOT_FOUND" || other.Code() != "NOT_FOUND" || other.Errors[0].Message != unknown.Errors[0].Message {
		t.Errorf("another county approving: %+v; an unknown id: %+v — want the same NOT_FOUND", other.Errors, unknown.Errors)
	}
	_, admin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	if r := s.Do(t, admin, approve, map[string]any{"id": id}); r.Code() != "FORBIDDEN" || !strings.HasPrefix(r.Errors[0].Message, "无权") {
		t.Errorf("the county administrator approving: %+v, want FORBIDDEN 无权…", r.Errors)
	}
	if r := s.Do(t, c.officer, approve, map[string]any{"id": id}); r.Code() != "FORBIDDEN" {
		t.Errorf("approving one's own red designation: %+v, want FORBIDDEN", r.Errors)
	}
}
