package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/credential"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// checkpoint sets up an institution with a venue in the given county and an
// inspector, straight in the database, and returns the venue id and the
// inspector's token.
func (s *scenario) checkpoint(t *testing.T, name, county string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	var inst, venue int64
	if err := s.Pool.QueryRow(ctx, `INSERT INTO institutions (name, credit_code, region_code, region_path, contact_name, created_by, created_at)
		SELECT $1, $2, code, path, '联系人', 'test', now() FROM regions WHERE code = $3 RETURNING id`,
		name, fmt.Sprintf("91610000%010d", time.Now().UnixNano()%1e10), county).Scan(&inst); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool.QueryRow(ctx, `INSERT INTO venues (institution_id, name, type, region_code, region_path, created_by, created_at)
		SELECT $1, $2 || '入口', 'INDOOR_PUBLIC', code, path, 'test', now() FROM regions WHERE code = $3 RETURNING id`,
		inst, name, county).Scan(&venue); err != nil {
		t.Fatal(err)
	}
	id, token := s.CreateStaff(t, fmt.Sprintf("inspector%d", inst), county, apitest.G("INSPECTOR@"+county))
	if _, err := s.Pool.Exec(ctx, `INSERT INTO institution_members (staff_id, institution_id, role, created_by, created_at)
		VALUES ($1, $2, 'INSPECTOR', 'test', now())`, id, inst); err != nil {
		t.Fatal(err)
	}
	return venue, token
}

const recordScans = `mutation($s: [ScanInput!]!) { recordScans(scans: $s) { scanId status reason colour fever } }`

func scanOf(id, token string, venue int64, at time.Time, temp float64) map[string]any {
	return map[string]any{"scanId": id, "token": token, "venueId": fmt.Sprint(venue), "scannedAt": at.Format(time.RFC3339),
		"temperature": temp, "role": "VISITOR"}
}

func (s *scenario) scan(t *testing.T, inspector string, scans ...map[string]any) []map[string]any {
	t.Helper()
	list := make([]any, len(scans))
	for i, sc := range scans {
		list[i] = sc
	}
	var out []map[string]any
	for _, r := range s.Do(t, inspector, recordScans, map[string]any{"s": list}).MustData(t)["recordScans"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func (s *scenario) credentialOf(t *testing.T, token string) string {
	t.Helper()
	return s.Do(t, token, `query { myCredential { token } }`, nil).MustData(t)["myCredential"].(map[string]any)["token"].(string)
}

// The checkpoint scenarios of the issue.
func TestScenarioScans(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138500")
	s.declare(resident, declaration("扫码人", idNumber("61011319900101050"), "13800138500", home, nil))
	venue, inspector := s.checkpoint(t, "赛格购物中心", "610113")
	otherVenue, _ := s.checkpoint(t, "钟楼书店", "610103")
	now := s.Clock.Now()

	// A green code at 36.5 °C is accepted.
	res := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000001", s.credentialOf(t, resident), venue, now, 36.5))
	if res[0]["status"] != "ACCEPTED" || res[0]["colour"] != "GREEN" {
		t.Fatalf("green scan = %v", res[0])
	}
	// The same batch again is recorded once.
	again := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000001", s.credentialOf(t, resident), venue, now, 36.5))
	if again[0]["status"] != "DUPLICATE" {
		t.Fatalf("duplicate upload = %v", again[0])
	}
	var scans int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM scans").Scan(&scans)
	if scans != 1 {
		t.Fatalf("%d scans recorded, want 1", scans)
	}
	// A venue of another institution is refused.
	if r := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000002", s.credentialOf(t, resident), otherVenue, now, 36.5)); r[0]["reason"] != "VENUE_NOT_YOURS" {
		t.Fatalf("other institution's venue = %v", r[0])
	}
	// 38.0 °C: the code is yellow in the same request, the community's inbox has
	// the report and its staff get an SMS.
	communityID, community := s.CreateStaff(t, "community_staff", home, apitest.G("ADMIN@"+home))
	if _, err := s.Pool.Exec(context.Background(), "UPDATE staff SET phone_enc = $2, phone_hash = $3, phone_masked = '139****0001' WHERE id = $1",
		communityID, s.DB.PII.Encrypt("13900000001"), s.DB.PII.Hash("phone", "13900000001")); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(time.Minute)
	res = s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000003", s.credentialOf(t, resident), venue, s.Clock.Now(), 38.0))
	if res[0]["status"] != "ACCEPTED" || res[0]["fever"] != true || res[0]["colour"] != "YELLOW" {
		t.Fatalf("fever scan = %v", res[0])
	}
	wantCode(t, "after the fever", s.myCode(resident, ""), "YELLOW", "Y2")
	var texts int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = 'notify:sms' AND dedup_key LIKE 'fever:%'").Scan(&texts)
	if texts != 1 {
		t.Fatalf("%d fever SMS to the community's staff, want 1", texts)
	}
	inbox := s.Do(t, community, `query { feverReports { id temperature maskedName status } }`, nil).MustData(t)["feverReports"].([]any)
	if len(inbox) != 1 || inbox[0].(map[string]any)["temperature"].(float64) != 38.0 {
		t.Fatalf("community inbox = %v", inbox)
	}
	s.Do(t, community, `mutation($id: ID!) { handleFeverReport(id: $id, outcome: "TRANSFERRED") { status } }`,
		map[string]any{"id": inbox[0].(map[string]any)["id"]}).MustData(t)

	// An expired token, a token of an untrusted issuer, and the test national platform's.
	expired := s.credentialOf(t, resident)
	s.Clock.Advance(10 * time.Minute)
	rogue, _ := credential.NewMemoryKeyRing("4401")
	rs, _ := credential.NewSigner(rogue)
	at := s.Clock.Now().Truncate(time.Second)
	untrusted, _ := rs.Sign(credential.Claims{Issuer: "4401", CodeID: "x1", Colour: "GREEN", MaskedName: "赵*", Kind: credential.KindElectronic, IssuedAt: at, ExpiresAt: at.Add(5 * time.Minute)})
	ns, _ := credential.NewSigner(s.National)
	national, _ := ns.Sign(credential.Claims{Issuer: credential.IssuerNational, CodeID: "cn-9", Colour: "GREEN", MaskedName: "钱*", Kind: credential.KindElectronic, IssuedAt: at, ExpiresAt: at.Add(5 * time.Minute)})
	res = s.scan(t, inspector,
		scanOf("00000000-0000-4000-8000-000000000004", expired, venue, s.Clock.Now(), 36.4),
		scanOf("00000000-0000-4000-8000-000000000005", untrusted, venue, s.Clock.Now(), 36.4),
		scanOf("00000000-0000-4000-8000-000000000006", national, venue, s.Clock.Now(), 36.4))
	if res[0]["reason"] != "EXPIRED" || res[1]["reason"] != "UNKNOWN_ISSUER" || res[2]["status"] != "ACCEPTED" {
		t.Fatalf("expired, untrusted, national = %v", res)
	}

	// A revoked paper code is refused.
	_, staff := s.CreateStaff(t, "paper_staff", home, apitest.G("ADMIN@"+home))
	d := s.Do(t, staff, declareMutation, declaration("纸码老人", idNumber("61011319400101051"), "", home, nil)).MustData(t)
	pid := d["submitDeclaration"].(map[string]any)["person"].(map[string]any)["id"]
	paper := s.Do(t, staff, `mutation($p: ID!) { issuePaperCode(personId: $p) { token } }`, map[string]any{"p": pid}).MustData(t)["issuePaperCode"].(map[string]any)["token"].(string)
	s.Do(t, staff, `mutation($p: ID!) { issuePaperCode(personId: $p) { token } }`, map[string]any{"p": pid}).MustData(t) // supersedes the first
	if r := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000007", paper, venue, s.Clock.Now(), 36.4)); r[0]["reason"] != "REVOKED" {
		t.Fatalf("superseded paper code = %v", r[0])
	}
}

// A scan becomes a stay: designating the venue's county HIGH afterwards
// turns the scanned person red (R1).
func TestScanBecomesStay(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138501")
	s.declare(resident, declaration("路人", idNumber("61011319900101052"), "13800138501", s.community("610103"), nil))
	venue, inspector := s.checkpoint(t, "小寨商场", "610113")
	s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000011", s.credentialOf(t, resident), venue, s.Clock.Now(), 36.6))
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH) { id } }`, nil).MustData(t)
	s.approvePending(t, "610113")
	drainOutbox(t, s)
	wantCode(t, "after the venue's county went HIGH", s.myCode(resident, ""), "RED", "R1")

	// The clause cites the scan as a stay fact, which the person's facts
	// list; retracting it (say, the code was scanned by mistake) turns the
	// code green again, and the scan itself stays recorded.
	code := s.Do(t, resident, `{ myCode { personId clauses { factIds } } }`, nil).MustData(t)["myCode"].(map[string]any)
	stayID := code["clauses"].([]any)[0].(map[string]any)["factIds"].([]any)[0].(string)
	pid := code["personId"]
	facts := s.Do(t, officer, `query($p: ID!) { personFacts(personId: $p) { kind id summary source } }`, map[string]any{"p": pid}).MustData(t)
	var listed bool
	for _, f := range facts["personFacts"].([]any) {
		f := f.(map[string]any)
		listed = listed || f["kind"] == "STAY" && f["id"] == stayID && f["source"] == "SCAN" && strings.Contains(f["summary"].(string), "610113")
	}
	if !listed {
		t.Fatalf("scan stay %s not among the facts %v", stayID, facts["personFacts"])
	}
	// Lifting the red waits for a second officer (docs/security-colour.md).
	after := s.Do(t, officer, `mutation($id: ID!) { retractFact(kind: STAY, id: $id, reason: "误扫他人健康码") { colour pendingRequest { id } } }`,
		map[string]any{"id": stayID}).MustData(t)["retractFact"].(map[string]any)
	if after["colour"] != "RED" || after["pendingRequest"] == nil {
		t.Fatalf("after one officer's retraction of the scan stay: %v", after)
	}
	s.approvePending(t, "610103")
	wantCode(t, "after the approved retraction", s.myCode(resident, ""), "GREEN")
	if r := s.Do(t, officer, `mutation($id: ID!) { retractFact(kind: STAY, id: $id, reason: "再次撤销") { colour } }`,
		map[string]any{"id": stayID}); r.Code() != "CONFLICT" {
		t.Fatalf("second retraction: %v", r.Errors)
	}
	var scans int
	if err := s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM scans WHERE retracted_at IS NOT NULL").Scan(&scans); err != nil || scans != 1 {
		t.Fatalf("%d retracted scans (%v), want 1", scans, err)
	}
}

// Institution staff see their institution's scans only; venue statistics.
func TestScansScopedToInstitution(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138502")
	s.declare(resident, declaration("顾客", idNumber("61011319900101053"), "13800138502", s.community("610113"), nil))
	venueA, inspA := s.checkpoint(t, "甲商场", "610113")
	venueB, inspB := s.checkpoint(t, "乙商场", "610113")
	now := s.Clock.Now()
	s.scan(t, inspA, scanOf("00000000-0000-4000-8000-0000000000a1", s.credentialOf(t, resident), venueA, now, 36.5),
		scanOf("00000000-0000-4000-8000-0000000000a2", s.credentialOf(t, resident), venueA, now.Add(-time.Minute), 38.2))
	s.scan(t, inspB, scanOf("00000000-0000-4000-8000-0000000000b1", s.credentialOf(t, resident), venueB, now, 36.5))
	// Staff of no institution may not upload, whatever the batch holds.
	_, outsider := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	for _, sc := range []map[string]any{
		scanOf("00000000-0000-4000-8000-0000000000c1", s.credentialOf(t, resident), venueA, now, 36.5),
		scanOf("not-a-uuid", s.credentialOf(t, resident), venueA, now, 36.5),
	} {
		if r := s.Do(t, outsider, recordScans, map[string]any{"s": []any{sc}}); r.Code() != "FORBIDDEN" {
			t.Fatalf("upload by staff of no institution: %v", r.Errors)
		}
	}
	for _, c := range []struct {
		token string
		venue int64
		want  int
	}{{inspA, venueA, 2}, {inspB, venueB, 1}} {
		nodes := s.Do(t, c.token, `query { scans(first: 50) { nodes { venueId } } }`, nil).MustData(t)["scans"].(map[string]any)["nodes"].([]any)
		if len(nodes) != c.want {
			t.Fatalf("institution of venue %d sees %d scans, want %d", c.venue, len(nodes), c.want)
		}
		for _, n := range nodes {
			if n.(map[string]any)["venueId"] != fmt.Sprint(c.venue) {
				t.Fatalf("institution of venue %d sees a scan of venue %v", c.venue, n)
			}
		}
	}
	q := `query($v: ID!, $f: Time!, $t: Time!) { venueStats(venueId: $v, from: $f, to: $t) { scans fevers green yellow visitors } }`
	vars := map[string]any{"v": fmt.Sprint(venueA), "f": now.Add(-time.Hour).Format(time.RFC3339), "t": now.Add(time.Hour).Format(time.RFC3339)}
	st := s.Do(t, inspA, q, vars).MustData(t)["venueStats"].(map[string]any)
	if st["scans"].(float64) != 2 || st["fevers"].(float64) != 1 || st["visitors"].(float64) != 2 {
		t.Fatalf("venue stats = %v", st)
	}
	if r := s.Do(t, inspB, q, vars); r.Code() != "NOT_FOUND" {
		t.Fatalf("another institution's venue stats: %q", r.Code())
	}
}

// An institution registers itself, adds a venue and an inspector, and the
// inspector scans: the 机构注册登记 flow through the API.
func TestInstitutionRegistrationToScan(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138600")
	s.declare(resident, declaration("顾客乙", idNumber("61011319900101060"), "13800138600", s.community("610113"), nil))
	body := "91610113MA6U00000"
	check, ok := healthcode.CreditCodeCheck(body)
	if !ok {
		t.Fatal("credit code body")
	}
	reg := s.Do(t, "", `mutation($c: String!) { registerInstitution(input: {name: "大雁塔商业管理公司", creditCode: $c, region: "610113",
		contactName: "王经理", contactPhone: "13912345678", adminUsername: "dyt_admin", adminDisplayName: "王经理", adminPassword: "admin-pass-2020"}) {
		institution { id status contactPhone } admin { id username } } }`, map[string]any{"c": body + string(check)}).MustData(t)["registerInstitution"].(map[string]any)
	inst := reg["institution"].(map[string]any)
	if inst["status"] != "PENDING" || inst["contactPhone"] != "139****5678" {
		t.Fatalf("registered = %v", inst)
	}
	// Pending: its administrator logs in but adds no inspector until an
	// administrator of the county approves the registration.
	admin := login(t, s.Bundle, "dyt_admin", "admin-pass-2020")
	if r := s.Do(t, admin, `mutation($i: ID!) { createInspector(institutionId: $i, username: "early_inspector", displayName: "防疫员", password: "inspect-2020-ok") { id } }`,
		map[string]any{"i": inst["id"]}); r.Code() != "CONFLICT" {
		t.Fatalf("pending institution adds an inspector: %v %v", r.Code(), r.Data)
	}
	if r := s.Do(t, admin, `mutation($i: ID!) { approveInstitution(id: $i) { status } }`, map[string]any{"i": inst["id"]}); r.Code() != "FORBIDDEN" {
		t.Fatalf("the institution approves itself: %v %v", r.Code(), r.Data)
	}
	_, other := s.CreateStaff(t, "lianhu_admin", "610104", apitest.G("ADMIN@610104"))
	if r := s.Do(t, other, `mutation($i: ID!) { approveInstitution(id: $i) { status } }`, map[string]any{"i": inst["id"]}); r.Code() != "FORBIDDEN" {
		t.Fatalf("another county's administrator approves: %v %v", r.Code(), r.Data)
	}
	_, county := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	approved := s.Do(t, county, `mutation($i: ID!) { approveInstitution(id: $i) { status reviewReason } }`,
		map[string]any{"i": inst["id"]}).MustData(t)["approveInstitution"].(map[string]any)
	if approved["status"] != "ACTIVE" {
		t.Fatalf("approved = %v", approved)
	}
	if r := s.Do(t, county, `mutation($i: ID!) { rejectInstitution(id: $i, reason: "材料不全") { status } }`, map[string]any{"i": inst["id"]}); r.Code() != "CONFLICT" {
		t.Fatalf("reject after approval: %v", r.Code())
	}
	var audited int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'institution.approve' AND object = $1`,
		"institution:"+inst["id"].(string)).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("approval audited %d times, %v", audited, err)
	}
	venue := s.Do(t, admin, `mutation($i: ID!) { createVenue(institutionId: $i, input: {name: "北广场入口", type: "INDOOR_PUBLIC", region: "610113"}) { id typeLabel } }`,
		map[string]any{"i": inst["id"]}).MustData(t)["createVenue"].(map[string]any)
	s.Do(t, admin, `mutation($i: ID!) { createInspector(institutionId: $i, username: "dyt_inspector", displayName: "防疫员小李", password: "inspect-2020-ok") { id } }`,
		map[string]any{"i": inst["id"]}).MustData(t)
	inspector := login(t, s.Bundle, "dyt_inspector", "inspect-2020-ok")
	var vid int64
	fmt.Sscan(venue["id"].(string), &vid)
	res := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-0000000000c1", s.credentialOf(t, resident), vid, s.Clock.Now(), 36.7))
	if res[0]["status"] != "ACCEPTED" {
		t.Fatalf("inspector's scan = %v", res[0])
	}
	types := s.Do(t, admin, `query { requiredCheckpointTypes }`, nil).MustData(t)["requiredCheckpointTypes"].([]any)
	if len(types) == 0 {
		t.Fatal("no required checkpoint types at the default level 3")
	}
}

// The province admin adds another province's issuer to the trust list: its
// keys are published in keys.json and its tokens are accepted at checkpoints;
// retired, they are refused again.
func TestTrustListAcceptsAnotherProvince(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, admin := s.CreateStaff(t, "province_admin", "61", apitest.G("ADMIN@61"))
	venue, inspector := s.checkpoint(t, "西安北站", "610113")
	hubei, _ := credential.NewMemoryKeyRing("42")
	doc, _ := json.Marshal(credential.BuildKeySet(hubei, nil, s.Clock.Now()))
	entry := s.Do(t, admin, `mutation($k: String!) { addTrustedIssuer(input: {issuerId: "42", name: "湖北省健康码", keysJson: $k}) { id issuerId keyIds } }`,
		map[string]any{"k": string(doc)}).MustData(t)["addTrustedIssuer"].(map[string]any)
	keys := get(t, s.Handler, "/.well-known/healthcode/keys.json", "")
	if !strings.Contains(keys.Body.String(), `"42"`) {
		t.Fatalf("keys.json does not publish the new issuer: %s", keys.Body.String())
	}
	signer, _ := credential.NewSigner(hubei)
	at := s.Clock.Now().Truncate(time.Second)
	tok, _ := signer.Sign(credential.Claims{Issuer: "42", CodeID: "hb-1", Colour: "GREEN", MaskedName: "陈*", Kind: credential.KindElectronic,
		IssuedAt: at, ExpiresAt: at.Add(5 * time.Minute)})
	if r := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-0000000000d1", tok, venue, s.Clock.Now(), 36.5)); r[0]["status"] != "ACCEPTED" {
		t.Fatalf("a trusted province's token = %v", r[0])
	}
	s.Do(t, admin, `mutation($id: ID!) { retireTrustedIssuer(id: $id) }`, map[string]any{"id": entry["id"]}).MustData(t)
	s.Clock.Advance(2 * time.Minute) // the verifier's key set is rebuilt at least every minute
	if r := s.scan(t, inspector, scanOf("00000000-0000-4000-8000-0000000000d2", tok, venue, s.Clock.Now(), 36.5)); r[0]["reason"] != "UNKNOWN_ISSUER" {
		t.Fatalf("a retired issuer's token = %v", r[0])
	}
}

// An offline scanner uploads its queue as NDJSON over plain HTTP.
func TestScanUploadNDJSON(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138800")
	s.declare(resident, declaration("顾客丁", idNumber("61011319900101080"), "13800138800", s.community("610113"), nil))
	venue, inspector := s.checkpoint(t, "地铁站", "610113")
	line := func(id string) string {
		b, _ := json.Marshal(map[string]any{"scanId": id, "token": s.credentialOf(t, resident), "venueId": fmt.Sprint(venue),
			"scannedAt": s.Clock.Now().Format(time.RFC3339), "temperature": 36.4, "role": "EMPLOYEE"})
		return string(b)
	}
	body := line("00000000-0000-4000-8000-0000000000e1") + "\n" + line("00000000-0000-4000-8000-0000000000e2") + "\n"
	post := func(token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/scans", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		return rec
	}
	rec := post(inspector, body)
	var res []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 || len(res) != 2 || res[1]["status"] != "ACCEPTED" {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	rec = post(inspector, body)
	json.Unmarshal(rec.Body.Bytes(), &res)
	if res[0]["status"] != "DUPLICATE" {
		t.Fatalf("second upload: %s", rec.Body.String())
	}
	if rec := post(inspector, `{"scanId": "x", "idNumber": "610113199001010011"}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "INVALID") {
		t.Fatalf("unknown field: %d %s", rec.Code, rec.Body.String())
	}
}

// A scan in an area already designated HIGH turns the person red in the same
// request; a scan elsewhere leaves the code as it was.
func TestScanInDesignatedArea(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138900")
	s.declare(resident, declaration("旅客戊", idNumber("61011319900101090"), "13800138900", s.community("610103"), nil))
	risky, inspA := s.checkpoint(t, "高风险区商场", "610113")
	calm, inspB := s.checkpoint(t, "低风险区商场", "610104")
	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH) { id } }`, nil).MustData(t)
	s.approvePending(t, "610113")
	drainOutbox(t, s)
	if r := s.scan(t, inspB, scanOf("00000000-0000-4000-8000-0000000000f1", s.credentialOf(t, resident), calm, s.Clock.Now(), 36.5)); r[0]["colour"] != "GREEN" {
		t.Fatalf("scan in a calm area = %v", r[0])
	}
	if r := s.scan(t, inspA, scanOf("00000000-0000-4000-8000-0000000000f2", s.credentialOf(t, resident), risky, s.Clock.Now(), 36.5)); r[0]["colour"] != "RED" {
		t.Fatalf("scan in a HIGH area = %v", r[0])
	}
	wantCode(t, "after a scan in a HIGH area", s.myCode(resident, ""), "RED", "R1")
}

// An upload whose transaction read the risks in force before a designation
// committed, and committed itself only after the designation's fan-out had
// read the scans, evaluated its person without the designation: the late
// pass a minute later catches it, and takes only the facts recorded since
// shortly before the designation.
func TestLateFanOutCatchesInFlightScans(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)
	_, early := s.CreateResident(t, "13800138911")
	s.declare(early, declaration("早扫", idNumber("61011319900101091"), "13800138911", s.community("610103"), nil))
	_, late := s.CreateResident(t, "13800138912")
	s.declare(late, declaration("迟扫", idNumber("61011319900101092"), "13800138912", s.community("610103"), nil))
	venue, inspector := s.checkpoint(t, "小寨商场", "610113")
	s.scan(t, inspector, scanOf("00000000-0000-4000-8000-0000000000e1", s.credentialOf(t, early), venue, s.Clock.Now(), 36.5))
	s.Clock.Advance(time.Hour)

	_, officer := s.CreateStaff(t, "prov_health", "61", apitest.G("HEALTH_OFFICER@61"))
	before := s.Clock.Now().Add(postgres.LateFanOutDelay - time.Microsecond)
	id := s.Do(t, officer, `mutation { setAreaRisk(region: "610113", level: HIGH) { id } }`, nil).MustData(t)["setAreaRisk"].(map[string]any)["id"].(string)
	s.approvePending(t, "610113")
	after := s.Clock.Now().Add(postgres.LateFanOutDelay)
	var due time.Time
	if err := s.Pool.QueryRow(ctx, `SELECT available_at FROM outbox WHERE dedup_key = 'area_risk:' || $1 || ':late'`, id).Scan(&due); err != nil {
		t.Fatalf("no late fan-out: %v", err)
	}
	if due.Before(before) || due.After(after) {
		t.Fatalf("late fan-out due at %v, want a minute after the designation (%v to %v)", due, before, after)
	}
	drainOutbox(t, s)
	wantCode(t, "scanned before the designation", s.myCode(early, ""), "RED", "R1")

	// The scan of a transaction that read the risks before the designation:
	// stored, its person evaluated without it.
	pid := s.Do(t, late, `{ myCode { personId } }`, nil).MustData(t)["myCode"].(map[string]any)["personId"]
	if _, err := s.Pool.Exec(ctx, `INSERT INTO scans (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id,
			issuer, code_id, person_id, colour, temperature, scan_role, fever, region_path)
		SELECT '00000000-0000-4000-8000-0000000000e2', $2, $2, v.id, v.institution_id, 0, '61', p.code_id, p.id, 'GREEN', 36.5,
			'VISITOR', false, v.region_path FROM venues v, persons p WHERE v.id = $1 AND p.id = $3`, venue, s.Clock.Now(), pid); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "missed by the first pass", s.myCode(late, ""), "GREEN")
	var riskID int64
	fmt.Sscan(id, &riskID)
	if n, err := s.DB.FanOutAreaLate(ctx, riskID); err != nil || n != 1 {
		t.Fatalf("late fan-out: %d batches, %v", n, err)
	}
	var ids []byte
	if err := s.Pool.QueryRow(ctx, `SELECT payload->'ids' FROM outbox WHERE dedup_key = 'area_risk:' || $1 || ':late:0'`, id).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if string(ids) != fmt.Sprintf("[%v]", pid) {
		t.Fatalf("late pass re-evaluates %s, want only person %v", ids, pid)
	}
	drainOutbox(t, s)
	wantCode(t, "after the late pass", s.myCode(late, ""), "RED", "R1")
}

// A rejected registration does not hold its credit code: the institution
// registers again to correct the application, the rejected row stays, and
// the new (pending, then active) registration holds the code again.
func TestRejectedRegistrationFreesCreditCode(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	body := "91610113MA6U00001"
	check, ok := healthcode.CreditCodeCheck(body)
	if !ok {
		t.Fatal("credit code body")
	}
	code := body + string(check)
	register := func(user string) *apitest.Response {
		return s.Do(t, "", `mutation($c: String!, $u: String!) { registerInstitution(input: {name: "曲江餐饮管理公司", creditCode: $c,
			region: "610113", kind: "CLINIC", contactName: "赵经理", contactPhone: "13912345679", adminUsername: $u, adminDisplayName: "赵经理",
			adminPassword: "admin-pass-2020"}) { institution { id status kind } } }`, map[string]any{"c": code, "u": user})
	}
	first := register("qj_admin").MustData(t)["registerInstitution"].(map[string]any)["institution"].(map[string]any)
	if first["status"] != "PENDING" || first["kind"] != "CLINIC" {
		t.Fatalf("first registration = %v", first)
	}
	if r := register("qj_admin2"); r.Code() != "CONFLICT" {
		t.Fatalf("a pending registration's code registered again: %v %v", r.Code(), r.Data)
	}
	_, county := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, county, `mutation($i: ID!) { rejectInstitution(id: $i, reason: "营业执照照片不清晰") { status } }`,
		map[string]any{"i": first["id"]}).MustData(t)
	second := register("qj_admin2").MustData(t)["registerInstitution"].(map[string]any)["institution"].(map[string]any)
	if second["status"] != "PENDING" || second["id"] == first["id"] {
		t.Fatalf("registration after the rejection = %v (first %v)", second, first)
	}
	s.Do(t, county, `mutation($i: ID!) { approveInstitution(id: $i) { status } }`, map[string]any{"i": second["id"]}).MustData(t)
	if r := register("qj_admin3"); r.Code() != "CONFLICT" {
		t.Fatalf("an active registration's code registered again: %v %v", r.Code(), r.Data)
	}
	var statuses []string
	if err := s.Pool.QueryRow(context.Background(), `SELECT array_agg(status ORDER BY id) FROM institutions WHERE credit_code = $1`,
		code).Scan(&statuses); err != nil || strings.Join(statuses, ",") != "REJECTED,ACTIVE" {
		t.Fatalf("rows of the credit code = %v, %v", statuses, err)
	}
}
