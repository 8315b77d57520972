package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode/credential"
	"healthcode/graph/apitest"
)

const verifyQuery = `query($t: String!) { verifyCode(token: $t) { issuer colour maskedName kind expiresAt } }`

func (s *scenario) verify(token string) *apitest.Response {
	return s.Do(s.t, "", verifyQuery, map[string]any{"t": token})
}

func get(t *testing.T, h http.Handler, path, etag string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The electronic code carries a signed, short-lived token that verifies
// offline and says nothing but colour, masked name and validity.
func TestCredentialElectronic(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, token := s.CreateResident(t, "13800138100")
	s.declare(token, declaration("张三丰", idNumber("61011319900307100"), "13800138100", s.community("610113"), nil))
	data := s.Do(t, token, `query { myCredential { token kind colour maskedName expiresAt qrSvg qrPng } }`, nil).MustData(t)
	cred := data["myCredential"].(map[string]any)
	tok := cred["token"].(string)
	if cred["maskedName"] != "张*丰" || cred["kind"] != "ELECTRONIC" || !strings.HasPrefix(cred["qrSvg"].(string), "<") ||
		!strings.HasPrefix(cred["qrPng"].(string), "data:image/png;base64,") {
		t.Fatalf("credential = %v", cred)
	}
	exp, _ := time.Parse(time.RFC3339, cred["expiresAt"].(string))
	if d := exp.Sub(s.Clock.Now()); d > 5*time.Minute+time.Second || d < 4*time.Minute {
		t.Fatalf("electronic token lives %s, want 5 minutes", d)
	}
	v := s.verify(tok).MustData(t)["verifyCode"].(map[string]any)
	if v["colour"] != "GREEN" || v["issuer"] != "61" || v["maskedName"] != "张*丰" {
		t.Fatalf("verified = %v", v)
	}
	// Offline, with the published key set, as `healthcode verify` does.
	keys := get(t, s.Handler, "/.well-known/healthcode/keys.json", "")
	if keys.Code != 200 || keys.Header().Get("ETag") == "" {
		t.Fatalf("keys.json: %d %v", keys.Code, keys.Header())
	}
	if again := get(t, s.Handler, "/.well-known/healthcode/keys.json", keys.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Fatalf("keys.json with matching ETag: %d", again.Code)
	}
	if _, err := credential.VerifyOffline(tok, keys.Body.Bytes(), nil, s.Clock.Now()); err != nil {
		t.Fatalf("offline verification: %v", err)
	}
	s.Clock.Advance(8 * time.Minute) // past the expiry and the 2-minute skew
	if r := s.verify(tok); r.Code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "EXPIRED") {
		t.Fatalf("expired token: %v", r.Errors)
	}
	forged := tok[:len(tok)-4] + "AAAA"
	if r := s.verify(forged); r.Code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "BAD_SIGNATURE") {
		t.Fatalf("forged token: %v", r.Errors)
	}
}

// Tokens of the (test) national platform are recognised (互信互认); those of
// an issuer nobody trusts are not.
func TestCredentialMutualRecognition(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	now := s.Clock.Now().Truncate(time.Second)
	claims := credential.Claims{Issuer: credential.IssuerNational, CodeID: "cn-123", Colour: "GREEN", MaskedName: "李*",
		Kind: credential.KindElectronic, IssuedAt: now, ExpiresAt: now.Add(3 * time.Minute)}
	signer, _ := credential.NewSigner(s.National)
	tok, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	v := s.verify(tok).MustData(t)["verifyCode"].(map[string]any)
	if v["issuer"] != "national" || v["colour"] != "GREEN" {
		t.Fatalf("national token: %v", v)
	}
	rogue, _ := credential.NewMemoryKeyRing("4401")
	rs, _ := credential.NewSigner(rogue)
	claims.Issuer = "4401"
	tok, _ = rs.Sign(claims)
	if r := s.verify(tok); r.Code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "UNKNOWN_ISSUER") {
		t.Fatalf("untrusted issuer: %v", r.Errors)
	}
}

// Community staff print a 14-day paper code for someone without a phone; it
// is revoked when the colour changes, and the revocation list says so.
func TestPaperCodeRevokedOnColourChange(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	community := s.community("610113")
	_, staff := s.CreateStaff(t, "community_admin", community, apitest.G("ADMIN@"+community))
	in := declaration("孤寡老人", idNumber("61011319400101010"), "", community, nil)
	data := s.Do(t, staff, declareMutation, in).MustData(t)
	person := data["submitDeclaration"].(map[string]any)["person"].(map[string]any)
	if !strings.Contains(person["docNumber"].(string), "*") {
		t.Fatalf("staff saw an unmasked document: %v", person)
	}
	data = s.Do(t, staff, `mutation($p: ID!) { issuePaperCode(personId: $p) { token kind expiresAt printPage } }`,
		map[string]any{"p": person["id"]}).MustData(t)
	paper := data["issuePaperCode"].(map[string]any)
	exp, _ := time.Parse(time.RFC3339, paper["expiresAt"].(string))
	if paper["kind"] != "PAPER" || exp.Sub(s.Clock.Now()) < 13*24*time.Hour || !strings.Contains(paper["printPage"].(string), "<svg") ||
		!strings.Contains(paper["printPage"].(string), "<style>"+credential.PrintStyle+"</style>") ||
		!strings.Contains(paper["printPage"].(string), "@page{size:A6") {
		t.Fatalf("paper code = %v", paper["kind"])
	}
	tok := paper["token"].(string)
	s.verify(tok).MustData(t)
	_, officer := s.CreateStaff(t, "yanta_health", "610113", apitest.G("HEALTH_OFFICER@610113"))
	s.Do(t, officer, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CLOSE_CONTACT) { colour } }`,
		map[string]any{"p": person["id"]}).MustData(t)
	s.approvePending(t, "610113")
	if r := s.verify(tok); r.Code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "REVOKED") {
		t.Fatalf("paper code after the colour changed: %v", r.Errors)
	}
	revs := get(t, s.Handler, "/.well-known/healthcode/revocations.json", "")
	if revs.Code != 200 || !strings.Contains(revs.Body.String(), "COLOUR_CHANGED") {
		t.Fatalf("revocations.json: %d %s", revs.Code, revs.Body.String())
	}
	keys := get(t, s.Handler, "/.well-known/healthcode/keys.json", "")
	if _, err := credential.VerifyOffline(tok, keys.Body.Bytes(), revs.Body.Bytes(), s.Clock.Now()); credential.AsVerifyError(err) == nil ||
		credential.AsVerifyError(err).Reason != credential.ReasonRevoked {
		t.Fatalf("offline verification of a revoked paper code: %v", err)
	}
}

// Pass cards: the resident applies with the form, the community reviews;
// only a green applicant gets a card.
func TestPassCard(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	community := s.community("610113")
	_, reviewer := s.CreateStaff(t, "village_admin", community, apitest.G("ADMIN@"+community))
	apply := `mutation($in: DeclarationInput!) { applyPassCard(input: $in) { id status colour } }`
	review := `mutation($id: ID!, $ok: Boolean!, $r: String) { reviewPassCard(id: $id, approve: $ok, reason: $r) {
		application { status reviewReason } card { kind token expiresAt } } }`

	_, green := s.CreateResident(t, "13800138200")
	app := s.Do(t, green, apply, declaration("村民甲", idNumber("61011319700101020"), "13800138200", community, nil)).MustData(t)["applyPassCard"].(map[string]any)
	if r := s.Do(t, green, apply, declaration("村民甲", idNumber("61011319700101020"), "13800138200", community, nil)); r.Code() != "CONFLICT" {
		t.Fatalf("second pending application: %q", r.Code())
	}
	queue := s.Do(t, reviewer, `query { passCardApplications { id status maskedName } }`, nil).MustData(t)["passCardApplications"].([]any)
	if len(queue) != 1 {
		t.Fatalf("queue = %v", queue)
	}
	if r := s.Do(t, reviewer, review, map[string]any{"id": app["id"], "ok": false, "r": ""}); r.Code() != "INVALID" {
		t.Fatalf("rejection without reason: %q", r.Code())
	}
	res := s.Do(t, reviewer, review, map[string]any{"id": app["id"], "ok": true}).MustData(t)["reviewPassCard"].(map[string]any)
	card := res["card"].(map[string]any)
	if res["application"].(map[string]any)["status"] != "APPROVED" || card["kind"] != "PASS_CARD" {
		t.Fatalf("review = %v", res)
	}
	s.verify(card["token"].(string)).MustData(t)

	_, red := s.CreateResident(t, "13800138201")
	app = s.Do(t, red, apply, declaration("村民乙", idNumber("61011319700101021"), "13800138201", community,
		map[string]any{"travel": []any{map[string]any{"place": "ABROAD:KR", "from": day(-3), "to": day(-2)}}})).MustData(t)["applyPassCard"].(map[string]any)
	if r := s.Do(t, reviewer, review, map[string]any{"id": app["id"], "ok": true}); r.Code() != "CONFLICT" {
		t.Fatalf("approving a red applicant: %q", r.Code())
	}
	s.Do(t, reviewer, review, map[string]any{"id": app["id"], "ok": false, "r": "14天内有境外旅居史，不符合低风险条件"}).MustData(t)
	// A reviewer of another community sees none of this.
	other := s.community("610103")
	_, stranger := s.CreateStaff(t, "other_admin", other, apitest.G("ADMIN@"+other))
	if list := s.Do(t, stranger, `query { passCardApplications(status: "APPROVED") { id } }`, nil).MustData(t)["passCardApplications"].([]any); len(list) != 0 {
		t.Fatalf("another community sees %v", list)
	}
}
