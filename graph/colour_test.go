package graph_test

import (
	"regexp"
	"strconv"
	"sync"
	"testing"

	"healthcode/graph/apitest"
)

// Issue 12 §1 and §2: no single person changes a colour into or out of red.

const codeOfPerson = `query($p: ID!) { person(id: $p) { code { colour } } }`

// colourOf is the colour of a person as a member of staff sees it.
func (s *scenario) colourOf(t *testing.T, staff, pid string) string {
	t.Helper()
	d := s.Do(t, staff, codeOfPerson, map[string]any{"p": pid}).MustData(t)
	return d["person"].(map[string]any)["code"].(map[string]any)["colour"].(string)
}

// seconds holds the second officer approvePending made for a bundle.
var seconds sync.Map // secondKey → token

type secondKey struct {
	b      *apitest.Bundle
	region string
}

// approvePending approves, as a second health officer of region (another
// natural person, created once), every pending colour change request there.
func (s *scenario) approvePending(t *testing.T, region string) int {
	t.Helper()
	key := secondKey{s.Bundle, region}
	tok, ok := seconds.Load(key)
	if !ok {
		_, tok = s.CreateStaff(t, "second_"+region, region, apitest.G("HEALTH_OFFICER@"+region))
		seconds.Store(key, tok)
	}
	token := tok.(string)
	list := s.Do(t, token, `query { colourRequests { id } }`, nil).MustData(t)["colourRequests"].([]any)
	for _, r := range list {
		s.Do(t, token, `mutation($id: ID!) { approveColourRequest(id: $id) { status } }`,
			map[string]any{"id": r.(map[string]any)["id"]}).MustData(t)
	}
	return len(list)
}

func wantError(t *testing.T, what string, r *apitest.Response, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("%s: want %s, got %s %+v", what, code, r.Code(), r.Errors)
	}
}

// A handler had fact.write: `recordMedicalEvent(kind: CONFIRMED)` turned any
// resident of its jurisdiction red on its own. Now handlers record no facts,
// and a health officer's medical event waits for a second officer.
func TestColourMedicalEventNeedsSecondPerson(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138701")
	pid, _ := s.declare(resident, declaration("赵红", idNumber("61011319800101701"), "13800138701", home, nil))
	_, handler := s.CreateStaff(t, "hotline_handler", "61", apitest.G("HANDLER@61"))
	rec := `mutation($p: ID!, $k: MedicalKind!) { recordMedicalEvent(personId: $p, kind: $k) { colour pendingRequest { id status kind } } }`
	wantError(t, "handler records CONFIRMED", s.Do(t, handler, rec, map[string]any{"p": pid, "k": "CONFIRMED"}), "FORBIDDEN")

	officerID, officer := s.CreateStaff(t, "yanta_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	got := s.Do(t, officer, rec, map[string]any{"p": pid, "k": "CONFIRMED"}).MustData(t)["recordMedicalEvent"].(map[string]any)
	if got["colour"] != "GREEN" || got["pendingRequest"] == nil {
		t.Fatalf("one officer's CONFIRMED: %v", got)
	}
	req := got["pendingRequest"].(map[string]any)["id"]
	if c := s.colourOf(t, officer, pid); c != "GREEN" {
		t.Fatalf("colour before approval: %s", c)
	}
	approve := `mutation($id: ID!) { approveColourRequest(id: $id) { status decidedBy { subject } requestedBy { subject } } }`
	wantError(t, "own approval", s.Do(t, officer, approve, map[string]any{"id": req}), "FORBIDDEN")
	// An account of the same region without a verified phone is nobody yet.
	_, unverified := s.CreateUnverifiedStaff(t, "yanta_unverified", "610113", apitest.G("HEALTH_OFFICER@610113"))
	wantError(t, "unverified approver", s.Do(t, unverified, approve, map[string]any{"id": req}), "FORBIDDEN")
	// The handler holds no colour.approve.
	wantError(t, "handler approves", s.Do(t, handler, approve, map[string]any{"id": req}), "FORBIDDEN")

	secondID, second := s.CreateStaff(t, "yanta_second", "610113", apitest.G("HEALTH_OFFICER@610113"))
	d := s.Do(t, second, approve, map[string]any{"id": req}).MustData(t)["approveColourRequest"].(map[string]any)
	if d["status"] != "APPROVED" || d["decidedBy"].(map[string]any)["subject"] != subj(secondID) ||
		d["requestedBy"].(map[string]any)["subject"] != subj(officerID) {
		t.Fatalf("approval: %v", d)
	}
	if c := s.colourOf(t, officer, pid); c != "RED" {
		t.Fatalf("colour after approval: %s", c)
	}
	wantError(t, "second approval", s.Do(t, second, approve, map[string]any{"id": req}), "CONFLICT")
	// The evidence shows both people.
	facts := s.Do(t, second, `query($p: ID!) { personFacts(personId: $p) { kind enteredBy { subject } approvedBy { subject } } }`,
		map[string]any{"p": pid}).MustData(t)["personFacts"].([]any)
	found := false
	for _, f := range facts {
		f := f.(map[string]any)
		if f["kind"] == "MEDICAL" {
			found = f["enteredBy"].(map[string]any)["subject"] == subj(officerID) && f["approvedBy"] != nil &&
				f["approvedBy"].(map[string]any)["subject"] == subj(secondID)
		}
	}
	if !found {
		t.Fatalf("medical fact without both people: %v", facts)
	}
	// Discharge: lifting the red waits the same way, and a rejection ends it.
	got = s.Do(t, officer, rec, map[string]any{"p": pid, "k": "DISCHARGED"}).MustData(t)["recordMedicalEvent"].(map[string]any)
	if got["colour"] != "RED" || got["pendingRequest"] == nil {
		t.Fatalf("one officer's DISCHARGED: %v", got)
	}
	reject := `mutation($id: ID!, $r: String!) { rejectColourRequest(id: $id, reason: $r) { status reason } }`
	s.Do(t, second, reject, map[string]any{"id": got["pendingRequest"].(map[string]any)["id"], "r": "出院证明不全"}).MustData(t)
	if c := s.colourOf(t, officer, pid); c != "RED" {
		t.Fatalf("colour after rejected discharge: %s", c)
	}
}

func subj(id int64) string { return "staff:" + strconv.FormatInt(id, 10) }

// The same account lifted a red designation that two officers approved
// (`retractFact(kind: DESIGNATION)` → GREEN); a scan in a HIGH area that made
// a person red was retracted by one officer.
func TestColourRetractionOfRedNeedsSecondPerson(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138702")
	pid, _ := s.declare(resident, declaration("钱红", idNumber("61011319800101702"), "13800138702", home, nil))
	_, officer := s.CreateStaff(t, "yanta_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	_, other := s.CreateStaff(t, "yanta_other", "610113", apitest.G("HEALTH_OFFICER@610113"))
	d := s.Do(t, officer, `mutation($p: ID!) { designatePerson(personId: $p, colour: RED, reason: "密接的密接") { designationId } }`,
		map[string]any{"p": pid}).MustData(t)
	did := d["designatePerson"].(map[string]any)["designationId"]
	s.Do(t, other, `mutation($id: ID!) { approveDesignation(id: $id) { colour } }`, map[string]any{"id": did}).MustData(t)
	if c := s.colourOf(t, officer, pid); c != "RED" {
		t.Fatalf("approved designation: %s", c)
	}
	retract := `mutation($id: ID!) { retractFact(kind: DESIGNATION, id: $id, reason: "解除") { colour pendingRequest { id } } }`
	got := s.Do(t, officer, retract, map[string]any{"id": did}).MustData(t)["retractFact"].(map[string]any)
	if got["colour"] != "RED" || got["pendingRequest"] == nil {
		t.Fatalf("one officer's retraction: %v", got)
	}
	if c := s.colourOf(t, officer, pid); c != "RED" {
		t.Fatalf("after one officer's retraction: %s", c)
	}
	if n := s.approvePending(t, "610113"); n != 1 {
		t.Fatalf("%d requests pending", n)
	}
	if c := s.colourOf(t, officer, pid); c != "GREEN" {
		t.Fatalf("after approved retraction: %s", c)
	}
	facts := s.Do(t, other, `query($p: ID!) { personFacts(personId: $p) { kind retractedAt retractApprovedBy { subject } } }`,
		map[string]any{"p": pid}).MustData(t)["personFacts"].([]any)
	for _, f := range facts {
		if f := f.(map[string]any); f["kind"] == "DESIGNATION" && f["retractApprovedBy"] == nil {
			t.Fatalf("retraction without its approver: %v", f)
		}
	}
}

// One health officer making a community HIGH turned everyone who stayed
// there red; a declaration entered by staff with a trip abroad made a
// phoneless person red.
func TestColourAreaRiskAndStaffDeclarationNeedSecondPerson(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, officer := s.CreateStaff(t, "yanta_officer", "610113", apitest.G("HEALTH_OFFICER@610113"))
	got := s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH, reason: "聚集性疫情") { id pending requestId } }`, nil).
		MustData(t)["setAreaRisk"].(map[string]any)
	if got["pending"] != true || got["requestId"] == nil {
		t.Fatalf("one officer's HIGH: %v", got)
	}
	risks := s.Do(t, officer, `query { areaRisks(region: "610113") { level } }`, nil).MustData(t)["areaRisks"].([]any)
	if len(risks) != 0 {
		t.Fatalf("pending HIGH in force: %v", risks)
	}
	// MEDIUM needs nobody else.
	if m := s.Do(t, officer, `mutation($r: String!) { setAreaRisk(region: $r, level: MEDIUM) { pending } }`,
		map[string]any{"r": s.community("610113")}).MustData(t)["setAreaRisk"].(map[string]any); m["pending"] != false {
		t.Fatalf("MEDIUM: %v", m)
	}
	s.approvePending(t, "610113")
	risks = s.Do(t, officer, `query { areaRisks(region: "610113") { regionCode level approvedBy { subject } } }`, nil).MustData(t)["areaRisks"].([]any)
	approved := false
	for _, r := range risks {
		r := r.(map[string]any)
		approved = approved || r["regionCode"] == "610113" && r["level"] == "HIGH" && r["approvedBy"] != nil
	}
	if !approved {
		t.Fatalf("approved HIGH: %v", risks)
	}

	home := s.community("610104")
	_, community := s.CreateStaff(t, "lianhu_community", home, apitest.G("HEALTH_OFFICER@"+home))
	abroad := declaration("孙老伯", idNumber("61010419400101703"), "", home, map[string]any{
		"form": "ARRIVAL", "origin": "ABROAD:US", "arrivalDate": s.Clock.Now().AddDate(0, 0, -2).Format("2006-01-02"), "transport": "航班"})
	d := s.Do(t, community, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour pendingRequest { id kind } } } }`, abroad).
		MustData(t)["submitDeclaration"].(map[string]any)["code"].(map[string]any)
	if d["colour"] == "RED" || d["pendingRequest"] == nil {
		t.Fatalf("staff declaration abroad: %v", d)
	}
	s.approvePending(t, home)
	persons := s.Do(t, community, `query { persons { nodes { id code { colour } } } }`, nil).MustData(t)["persons"].(map[string]any)["nodes"].([]any)
	if len(persons) != 1 || persons[0].(map[string]any)["code"].(map[string]any)["colour"] != "RED" {
		t.Fatalf("approved declaration: %v", persons)
	}
}

// An account that is both HANDLER and the parent region's ADMIN approved its
// own deadline extension (ticket_extensions.requested_by = decided_by).
func TestColourOwnExtensionNotDecided(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138703")
	pid, _ := s.declare(resident, declaration("周五", idNumber("61011319900101703"), "13800138703", s.community("610113"), nil))
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "operator", "61", apitest.G("OPERATOR@61"))
	// The handler is also the administrator of the city above the unit.
	_, handler := s.CreateStaff(t, "yanta_handler", "610113", apitest.G("HANDLER@610113"), apitest.G("ADMIN@6101"))
	id := s.Do(t, operator, `mutation($p: ID!) { createTicket(input: {kind: COMPLAINT, personId: $p, subject: "投诉卡口", description: "卡口不认可绿码"}) { id } }`,
		map[string]any{"p": pid}).MustData(t)["createTicket"].(map[string]any)["id"]
	vars := map[string]any{"id": id}
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { state } }`, vars).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { signTicket(id: $id) { state } }`, vars).MustData(t)
	s.Do(t, handler, `mutation($id: ID!) { requestExtension(id: $id, reason: "需调取监控") { state } }`, vars).MustData(t)
	wantError(t, "own extension approved", s.Do(t, handler, `mutation($id: ID!) { decideExtension(id: $id, approve: true) { state } }`, vars), "FORBIDDEN")
	wantError(t, "own extension rejected", s.Do(t, handler, `mutation($id: ID!) { decideExtension(id: $id, approve: false, reason: "自行撤回") { state } }`, vars), "FORBIDDEN")
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	s.Do(t, xian, `mutation($id: ID!) { decideExtension(id: $id, approve: true) { extensionPending } }`, vars).MustData(t)
}

// §2: admin made two HEALTH_OFFICER accounts and approved its own request
// with the second. Each account must prove a phone by SMS, and one phone
// backs one account.
func TestColourOnePhoneOneStaffAccount(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, admin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	var tokens []string
	for _, name := range []string{"puppet_one", "puppet_two"} {
		id := s.Do(t, admin, `mutation($u: String!) { createStaff(input: {username: $u, displayName: "傀儡", password: "Puppet-pass-2020", region: "610113"}) { id phoneVerified } }`,
			map[string]any{"u": name}).MustData(t)["createStaff"].(map[string]any)
		if id["phoneVerified"] != false {
			t.Fatalf("new account verified: %v", id)
		}
		if _, err := s.Pool.Exec(t.Context(), `INSERT INTO grants (staff_id, role, region_code) VALUES ($1, 'HEALTH_OFFICER', '610113')`, id["id"]); err != nil {
			t.Fatal(err)
		}
		tok := s.Do(t, "", `mutation($u: String!) { login(username: $u, password: "Puppet-pass-2020") { token } }`, map[string]any{"u": name}).
			MustData(t)["login"].(map[string]any)["token"].(string)
		tokens = append(tokens, tok)
	}
	if err := s.Enforcer.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	verify := func(token string) *apitest.Response {
		s.Do(t, "", `mutation { requestSmsCode(phone: "13900139777") }`, nil).MustData(t)
		s.DeliverSMS(t)
		msgs := s.Do(t, "", `query { devMessages(phone: "13900139777") { body sentAt } }`, nil).MustData(t)["devMessages"].([]any)
		newest := msgs[0].(map[string]any)
		for _, m := range msgs {
			if m := m.(map[string]any); m["sentAt"].(string) > newest["sentAt"].(string) {
				newest = m
			}
		}
		code := regexp.MustCompile(`\d{6}`).FindString(newest["body"].(string))
		return s.Do(t, token, `mutation($c: String!) { verifyStaffPhone(phone: "13900139777", code: $c) { phoneVerified phone } }`, map[string]any{"c": code})
	}
	if v := verify(tokens[0]).MustData(t)["verifyStaffPhone"].(map[string]any); v["phoneVerified"] != true {
		t.Fatalf("verify: %v", v)
	}
	s.Clock.Advance(61 * 1e9) // one SMS per phone per minute
	wantError(t, "second account on the same phone", verify(tokens[1]), "CONFLICT")

	// The unverified second account can neither ask for nor approve a change.
	_, resident := s.CreateResident(t, "13800138704")
	pid, _ := s.declare(resident, declaration("李白", idNumber("61011319800101704"), "13800138704", s.community("610113"), nil))
	r := s.Do(t, tokens[1], `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`, map[string]any{"p": pid})
	wantError(t, "unverified requester", r, "FORBIDDEN")
	got := s.Do(t, tokens[0], `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { pendingRequest { id } } }`, map[string]any{"p": pid}).
		MustData(t)["recordMedicalEvent"].(map[string]any)
	req := got["pendingRequest"].(map[string]any)["id"]
	wantError(t, "puppet approval", s.Do(t, tokens[1], `mutation($id: ID!) { approveColourRequest(id: $id) { status } }`, map[string]any{"id": req}), "FORBIDDEN")
	if c := s.colourOf(t, admin, pid); c != "GREEN" {
		t.Fatalf("colour: %s", c)
	}
}

// §2: granting a role that can approve (HEALTH_OFFICER here) took effect at
// once, so an administrator could make its own second officer. Now it waits
// for an administrator of the parent region, another natural person.
func TestColourApprovingRoleGrantNeedsParentAdmin(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, yantaAdmin := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	puppetID, puppet := s.CreateStaff(t, "puppet", "610113")
	grant := s.Do(t, yantaAdmin, `mutation($id: ID!) { grantRole(staffId: $id, role: HEALTH_OFFICER, region: "610113") { id pending } }`,
		map[string]any{"id": strconv.FormatInt(puppetID, 10)}).MustData(t)["grantRole"].(map[string]any)
	if grant["pending"] != true {
		t.Fatalf("grant of HEALTH_OFFICER: %v", grant)
	}
	_, resident := s.CreateResident(t, "13800138705")
	pid, _ := s.declare(resident, declaration("吴六", idNumber("61011319800101705"), "13800138705", s.community("610113"), nil))
	rec := `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`
	if r := s.Do(t, puppet, rec, map[string]any{"p": pid}); r.Code() != "NOT_FOUND" && r.Code() != "FORBIDDEN" {
		t.Fatalf("pending grant in force: %v", r.Errors)
	}
	approve := `mutation($id: ID!) { approveGrant(grantId: $id) { pending } }`
	wantError(t, "granter approves", s.Do(t, yantaAdmin, approve, map[string]any{"id": grant["id"]}), "NOT_FOUND")
	// An administrator of the parent region who is also the granter's
	// natural person is not a second person: a city grant the same way.
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	if g := s.Do(t, xian, approve, map[string]any{"id": grant["id"]}).MustData(t)["approveGrant"].(map[string]any); g["pending"] != false {
		t.Fatalf("approved grant: %v", g)
	}
	wantError(t, "approved twice", s.Do(t, xian, approve, map[string]any{"id": grant["id"]}), "CONFLICT")
	if d := s.Do(t, puppet, rec, map[string]any{"p": pid}).MustData(t)["recordMedicalEvent"].(map[string]any); d["colour"] != "GREEN" {
		t.Fatalf("officer's first event: %v", d)
	}
	// The city admin grants itself nothing: an ADMIN grant it makes for
	// another account waits for the province.
	cityGrant := s.Do(t, xian, `mutation($id: ID!) { grantRole(staffId: $id, role: ADMIN, region: "6101") { id pending } }`,
		map[string]any{"id": strconv.FormatInt(puppetID, 10)}).MustData(t)["grantRole"].(map[string]any)
	wantError(t, "city admin approves a city grant", s.Do(t, xian, approve, map[string]any{"id": cityGrant["id"]}), "NOT_FOUND")
	// A HANDLER grant needs nobody else.
	h := s.Do(t, yantaAdmin, `mutation($id: ID!) { grantRole(staffId: $id, role: HANDLER, region: "610113") { pending } }`,
		map[string]any{"id": strconv.FormatInt(puppetID, 10)}).MustData(t)["grantRole"].(map[string]any)
	if h["pending"] != false {
		t.Fatalf("HANDLER grant: %v", h)
	}
}
