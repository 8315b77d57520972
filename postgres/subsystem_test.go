package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/exchange"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// subsystemBundle is the stack of a sub-system test: Xi'an's API key, a
// community in Xi'an and one in Xianyang, and staff tokens.
type subsystemBundle struct {
	*apitest.Bundle
	svc        *postgres.SubsystemService
	key        string
	keyID      int64
	machine    context.Context
	xian       string // a community in Xi'an
	xianyang   string // a community in Xianyang
	province   string // token of a province administrator
	supervisor string // token of a province supervisor
	now        time.Time
}

// subsystemNow is the clock of the sub-system tests.
var subsystemNow = time.Date(2026, 11, 25, 10, 0, 0, 0, cst)

func setupSubsystem(t *testing.T) *subsystemBundle {
	t.Helper()
	b := &subsystemBundle{Bundle: apitest.Setup(t, apitest.Options{})}
	// A fixed instant, mid-morning in Shaanxi, so that the records' data day
	// (an hour before now) and the arrivals' days do not depend on the date
	// or the hour the test runs.
	b.Clock.Set(subsystemNow)
	b.now = b.Clock.Now()
	b.svc = &postgres.SubsystemService{DB: b.DB}
	ctx := context.Background()
	for code, prefix := range map[*string]string{&b.xian: "6101", &b.xianyang: "6104"} {
		if err := b.Pool.QueryRow(ctx, `SELECT code FROM regions WHERE level = 'COMMUNITY' AND code LIKE $1 || '%'
			ORDER BY code LIMIT 1`, prefix).Scan(code); err != nil {
			t.Fatal(err)
		}
	}
	adminID, _ := b.CreateStaff(t, "xian-admin", "6101", apitest.G("ADMIN@6101"))
	_, b.province = b.CreateStaff(t, "province-admin", "61", apitest.G("ADMIN@61"))
	_, b.supervisor = b.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	staff := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: adminID, Name: "xian-admin"})
	var err error
	if b.key, b.keyID, err = b.DB.CreateAPIKey(staff, "6101", "西安市健康码子系统"); err != nil {
		t.Fatal(err)
	}
	a, err := b.DB.Authenticate(ctx, b.key)
	if err != nil || a.Kind != healthcode.ActorMachine || a.RegionCode != "6101" {
		t.Fatalf("authenticate key: %+v, %v", a, err)
	}
	b.machine = healthcode.NewContextWithActor(ctx, a)
	return b
}

// idNumber returns a valid resident ID number for person n.
func idNumber(n int) string {
	first := fmt.Sprintf("61011319900101%03d", n)
	c, _ := healthcode.IDCheckChar(first)
	return first + string(c)
}

// arrival is a record of a person who came back from Wuhan (420106, no risk
// designation) a few days ago, coloured by the city sub-system.
func (b *subsystemBundle) arrival(n int, colour healthcode.Colour) healthcode.SubsystemRecord {
	day := func(d int) time.Time { return b.now.AddDate(0, 0, -d) }
	return healthcode.SubsystemRecord{RecordID: fmt.Sprintf("XA-%04d", n), Name: "张三" + fmt.Sprint(n), Sex: "1",
		Nationality: "CHN", DocType: healthcode.DocIDCard, DocNumber: idNumber(n), Region: b.xian, Address: "雁塔路1号",
		Phone: fmt.Sprintf("138000000%02d", n), Temperature: 36.5, Symptoms: []string{},
		Travel: []healthcode.TravelEntry{{Place: "420106", From: day(7), To: day(3)}},
		Colour: colour, IssuedAt: b.now.Add(-time.Hour), Issuer: "6101"}
}

func (b *subsystemBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The acceptance path of SPEC §7: a Xi'an rule that turns out-of-province
// arrivals yellow opens deviations citing the unified clause G; the same
// batch again is recorded once; a corrected batch closes them; a record of
// another city is rejected alone.
func TestSubsystemDeviationsOpenAndClose(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	batch := []healthcode.SubsystemRecord{b.arrival(1, healthcode.Yellow), b.arrival(2, healthcode.Yellow), b.arrival(3, healthcode.Yellow)}
	other := b.arrival(4, healthcode.Yellow)
	other.Region = b.xianyang
	batch = append(batch, other)

	res, err := b.svc.PushRecords(b.machine, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || res.Rejected != 1 || res.Duplicates != 0 || res.DeviationsOpened != 3 || res.DeviationsClosed != 0 {
		t.Fatalf("first push: %+v", res)
	}
	for _, r := range res.Records[:3] {
		if r.Status != healthcode.SubsystemAccepted || r.Updated || r.UnifiedColour != healthcode.Green || r.Deviation != healthcode.DeviationOpened {
			t.Errorf("record %+v", r)
		}
	}
	if r := res.Records[3]; r.Status != healthcode.SubsystemRejected || r.Reason != healthcode.RejectOutsideCity || !strings.Contains(r.Message, b.xianyang) {
		t.Errorf("Xianyang record: %+v", r)
	}
	if n := b.count(t, "SELECT count(*) FROM persons"); n != 3 {
		t.Errorf("%d persons, want 3 (the rejected record writes nothing)", n)
	}
	// Personal data is stored as elsewhere: encrypted, hashed, masked.
	if n := b.count(t, "SELECT count(*) FROM persons WHERE name_masked = '张*1' AND doc_hash = $1", b.DB.PII.Hash("doc:ID_CARD", idNumber(1))); n != 1 {
		t.Errorf("person 1 not found by keyed hash with a masked name")
	}
	// The platform's own code is the unified one.
	if n := b.count(t, "SELECT count(*) FROM codes WHERE colour = 'GREEN'"); n != 3 {
		t.Errorf("%d green codes, want 3", n)
	}

	list, more, err := b.svc.Deviations(b.staffCtx(t, b.province), healthcode.DeviationFilter{Status: healthcode.DeviationOpen, First: 10})
	if err != nil || more || len(list) != 3 {
		t.Fatalf("open deviations: %d, %v, %v", len(list), more, err)
	}
	for _, d := range list {
		if d.CityCode != "6101" || d.SubsystemColour != healthcode.Yellow || d.UnifiedColour != healthcode.Green || d.PersonID == 0 ||
			!strings.HasPrefix(d.MaskedName, "张*") || d.Status() != healthcode.DeviationOpen || d.RuleSetVersion == "" {
			t.Errorf("deviation %+v", d)
		}
		if len(d.Clauses) != 1 || d.Clauses[0].ID != "G" || d.Clauses[0].Colour != healthcode.Green ||
			!strings.Contains(d.Clauses[0].Reason, "在湖北省武汉市武昌区（低风险地区）旅居") || !strings.Contains(d.Clauses[0].Reason, "附件1 一(三)") {
			t.Errorf("clauses of %s: %+v", d.RecordID, d.Clauses)
		}
	}
	// Supervisors see the deviations, but no person and no reasons.
	sup, _, err := b.svc.Deviations(b.staffCtx(t, b.supervisor), healthcode.DeviationFilter{First: 10})
	if err != nil || len(sup) != 3 {
		t.Fatalf("supervisor: %d, %v", len(sup), err)
	}
	for _, d := range sup {
		if d.PersonID != 0 || d.MaskedName != "" || d.Clauses[0].Reason != "" || d.Clauses[0].ID != "G" {
			t.Errorf("supervisor sees %+v", d)
		}
	}

	// The same batch again: every record once.
	again, err := b.svc.PushRecords(b.machine, batch)
	if err != nil {
		t.Fatal(err)
	}
	if again.Duplicates != 3 || again.Accepted != 0 || again.Rejected != 1 || again.DeviationsOpened != 0 {
		t.Fatalf("second push: %+v", again)
	}
	for _, r := range again.Records[:3] {
		if r.Deviation != healthcode.DeviationStillOpen || r.UnifiedColour != healthcode.Green {
			t.Errorf("duplicate %+v", r)
		}
	}
	if n := b.count(t, "SELECT count(*) FROM subsystem_records"); n != 3 {
		t.Errorf("%d records, want 3", n)
	}
	if n := b.count(t, "SELECT count(*) FROM declarations"); n != 3 {
		t.Errorf("%d declarations, want 3", n)
	}
	if n := b.count(t, "SELECT count(*) FROM subsystem_deviations"); n != 3 {
		t.Errorf("%d deviations, want 3", n)
	}

	// The corrected batch: the same records, now GREEN, close the deviations.
	for i := range batch {
		batch[i].Colour = healthcode.Green
	}
	fixed, err := b.svc.PushRecords(b.machine, batch[:3])
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Accepted != 3 || fixed.DeviationsClosed != 3 || fixed.DeviationsOpened != 0 {
		t.Fatalf("corrected push: %+v", fixed)
	}
	for _, r := range fixed.Records {
		if !r.Updated || r.Deviation != healthcode.DeviationClosed {
			t.Errorf("corrected %+v", r)
		}
	}
	open, _, err := b.svc.Deviations(b.staffCtx(t, b.province), healthcode.DeviationFilter{Status: healthcode.DeviationOpen, First: 10})
	if err != nil || len(open) != 0 {
		t.Fatalf("open after correction: %d, %v", len(open), err)
	}
	done, _, err := b.svc.Deviations(b.staffCtx(t, b.province), healthcode.DeviationFilter{CityCode: "6101", Status: healthcode.DeviationCorrected, First: 2})
	if err != nil || len(done) != 2 {
		t.Fatalf("corrected: %d, %v", len(done), err)
	}
	for _, d := range done {
		if d.CorrectedAt == nil || d.CorrectedBy != fmt.Sprintf("apikey:%d", b.keyID) {
			t.Errorf("corrected deviation %+v", d)
		}
	}
	page2, more, err := b.svc.Deviations(b.staffCtx(t, b.province), healthcode.DeviationFilter{Status: healthcode.DeviationCorrected, First: 2, After: done[1].ID})
	if err != nil || more || len(page2) != 1 || page2[0].ID >= done[1].ID {
		t.Fatalf("second page: %+v, %v, %v", page2, more, err)
	}

	sum, err := b.svc.DeviationSummary(b.staffCtx(t, b.supervisor), "6101")
	if err != nil || len(sum) != 1 || sum[0].Open != 0 || sum[0].Corrected != 3 || sum[0].Records != 3 || sum[0].LastPushAt == nil || sum[0].CityName == "" {
		t.Fatalf("summary: %+v, %v", sum, err)
	}
	all, err := b.svc.DeviationSummary(b.staffCtx(t, b.province), "")
	if err != nil || len(all) < 10 {
		t.Fatalf("province summary: %d cities, %v", len(all), err)
	}

	// Timeliness: the data day of the records, first and last arrival, the
	// new and changed records (duplicates change nothing).
	var first, last time.Time
	var records int
	day := b.now.Add(-time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if err := b.Pool.QueryRow(context.Background(), `SELECT first_at, last_at, records FROM subsystem_pushes
		WHERE city_code = '6101' AND day = $1::date`, day).Scan(&first, &last, &records); err != nil {
		t.Fatal(err)
	}
	if records != 6 || last.Before(first) {
		t.Errorf("pushes of %s: %v – %v, %d records", day, first, last, records)
	}
	if n := b.count(t, "SELECT count(*) FROM indicator_dirty_days WHERE day = $1::date", day); n != 1 {
		t.Errorf("the data day is not marked for the indicators")
	}
	if n := b.count(t, "SELECT count(*) FROM audit_log WHERE action = 'subsystem.record'"); n != 6 {
		t.Errorf("%d audit records, want 6", n)
	}
	if v, err := b.DB.VerifyAudit(context.Background()); err != nil || v.BrokenID != 0 {
		t.Errorf("audit chain: %+v, %v", v, err)
	}
}

// The other direction: the city says GREEN for a person with a fever; the
// unified rules say YELLOW (Y2), and the platform's code follows the unified
// rules, not the city.
func TestSubsystemDeviationUnifiedStricter(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	rec := b.arrival(1, healthcode.Green)
	rec.Travel, rec.Temperature, rec.Symptoms = nil, 38.2, []string{"dry_cough"}
	res, err := b.svc.PushRecords(b.machine, []healthcode.SubsystemRecord{rec})
	if err != nil || res.DeviationsOpened != 1 || res.Records[0].UnifiedColour != healthcode.Yellow {
		t.Fatalf("push: %+v, %v", res, err)
	}
	if n := b.count(t, "SELECT count(*) FROM codes WHERE colour = 'YELLOW'"); n != 1 {
		t.Errorf("the platform's code is not yellow")
	}
	list, _, err := b.svc.Deviations(b.staffCtx(t, b.province), healthcode.DeviationFilter{First: 5})
	if err != nil || len(list) != 1 {
		t.Fatalf("deviations: %d, %v", len(list), err)
	}
	if c := list[0].Clauses; len(c) != 1 || c[0].ID != "Y2" || !strings.Contains(c[0].Reason, "38.2") {
		t.Errorf("clauses %+v", c)
	}
	// A re-push that still differs keeps the one open deviation.
	rec.Address = "雁塔路2号"
	res, err = b.svc.PushRecords(b.machine, []healthcode.SubsystemRecord{rec})
	if err != nil || !res.Records[0].Updated || res.Records[0].Deviation != healthcode.DeviationStillOpen || res.DeviationsOpened != 0 {
		t.Fatalf("re-push: %+v, %v", res, err)
	}
	if n := b.count(t, "SELECT count(*) FROM subsystem_deviations WHERE corrected_at IS NULL"); n != 1 {
		t.Errorf("%d open deviations, want 1", n)
	}
}

// Records are checked one by one: the issuer, the batch's own duplicates,
// the person's registered city; callers other than API keys are refused.
func TestSubsystemRejections(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	ctx := context.Background()
	// A person registered in Xianyang (by a Xianyang push) cannot be moved by Xi'an.
	xyAdmin, _ := b.CreateStaff(t, "xy-admin", "6104", apitest.G("ADMIN@6104"))
	xyKey, _, err := b.DB.CreateAPIKey(healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: xyAdmin}), "6104", "咸阳")
	if err != nil {
		t.Fatal(err)
	}
	xy, _ := b.DB.Authenticate(ctx, xyKey)
	moved := b.arrival(9, healthcode.Green)
	moved.Region, moved.Issuer, moved.RecordID = b.xianyang, "6104", "XY-1"
	if res, err := b.svc.PushRecords(healthcode.NewContextWithActor(ctx, xy), []healthcode.SubsystemRecord{moved}); err != nil || res.Accepted != 1 {
		t.Fatalf("Xianyang push: %+v, %v", res, err)
	}

	badIssuer := b.arrival(1, healthcode.Green)
	badIssuer.Issuer = "6104"
	old := b.arrival(3, healthcode.Green)
	old.Travel = []healthcode.TravelEntry{{Place: "420106", From: b.now.AddDate(0, 0, -40), To: b.now.AddDate(0, 0, -30)}}
	badDoc := b.arrival(5, healthcode.Green)
	badDoc.DocNumber = "610113199001010050"
	res, err := b.svc.PushRecords(b.machine, []healthcode.SubsystemRecord{badIssuer, b.arrival(2, healthcode.Green),
		b.arrival(2, healthcode.Green), old, b.arrival(9, healthcode.Green), badDoc})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{healthcode.RejectIssuer, "", healthcode.RejectDuplicateInBat, "", healthcode.RejectPersonElse, healthcode.RejectInvalid}
	for i, r := range res.Records {
		if r.Reason != want[i] {
			t.Errorf("record %d: %+v, want reason %q", i, r, want[i])
		}
	}
	if res.Accepted != 2 || res.Rejected != 4 {
		t.Errorf("push: %+v", res)
	}
	if n := b.count(t, "SELECT count(*) FROM stays WHERE source = 'TRAVEL' AND to_at < now() - interval '20 days'"); n != 0 {
		t.Errorf("travel outside the window was stored")
	}

	for name, c := range map[string]context.Context{
		"anonymous": ctx,
		"staff":     b.staffCtx(t, b.province),
	} {
		if _, err := b.svc.PushRecords(c, []healthcode.SubsystemRecord{b.arrival(1, healthcode.Green)}); err == nil {
			t.Errorf("%s may push", name)
		}
	}
	if _, err := b.svc.PushRecords(b.machine, nil); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("empty push: %v", err)
	}
	if _, _, err := b.svc.Deviations(b.machine, healthcode.DeviationFilter{First: 5}); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Errorf("API key reads deviations: %v", err)
	}
	_, xianOnly := b.CreateStaff(t, "xian-admin-2", "6101", apitest.G("ADMIN@6101"))
	if _, err := b.svc.DeviationSummary(b.staffCtx(t, xianOnly), "6104"); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Errorf("Xi'an admin reads Xianyang's summary: %v", err)
	}
}

// staffCtx returns a context authenticated by a staff session token.
func (b *subsystemBundle) staffCtx(t *testing.T, token string) context.Context {
	t.Helper()
	a, err := b.DB.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return healthcode.NewContextWithActor(context.Background(), a)
}

// wire renders a record in the unified format.
func wire(r healthcode.SubsystemRecord) map[string]any {
	travel := []map[string]any{}
	for _, t := range r.Travel {
		travel = append(travel, map[string]any{"place": t.Place, "from": t.From.Format(time.DateOnly), "to": t.To.Format(time.DateOnly)})
	}
	return map[string]any{"recordId": r.RecordID, "name": r.Name, "sex": r.Sex, "nationality": r.Nationality,
		"docType": string(r.DocType), "docNumber": r.DocNumber, "region": r.Region, "address": r.Address, "phone": r.Phone,
		"temperature": r.Temperature, "symptoms": r.Symptoms, "travel": travel, "colour": string(r.Colour),
		"issuedAt": r.IssuedAt.Format(time.RFC3339), "issuer": r.Issuer}
}

// The NDJSON endpoint: per-line answers (a bad line rejected alone), the API
// key in the Authorization header, the content type checked.
func TestSubsystemHTTPEndpoint(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	var body bytes.Buffer
	for _, r := range []healthcode.SubsystemRecord{b.arrival(1, healthcode.Yellow), b.arrival(2, healthcode.Green)} {
		line, _ := json.Marshal(wire(r))
		body.Write(line)
		body.WriteString("\n")
	}
	body.WriteString(`{"recordId":"XA-BAD","name":"李四","idNumber":"x"}` + "\n")
	post := func(token, contentType string, payload []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/exchange/v1/records", bytes.NewReader(payload))
		req.Header.Set("Content-Type", contentType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		b.Handler.ServeHTTP(rec, req)
		return rec
	}
	rec := post(b.key, "application/x-ndjson", body.Bytes())
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var ans struct {
		Accepted, Duplicates, Rejected, DeviationsOpened int
		Records                                          []struct {
			Line                                             int
			RecordID, Status, Reason, Message, UnifiedColour string
			Deviation                                        string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Accepted != 2 || ans.Rejected != 1 || ans.DeviationsOpened != 1 || len(ans.Records) != 3 {
		t.Fatalf("answer %+v", ans)
	}
	if r := ans.Records[0]; r.Line != 1 || r.Status != "ACCEPTED" || r.UnifiedColour != "GREEN" || r.Deviation != "OPENED" {
		t.Errorf("line 1: %+v", r)
	}
	if r := ans.Records[1]; r.Line != 2 || r.Status != "ACCEPTED" || r.Deviation != "" {
		t.Errorf("line 2: %+v", r)
	}
	if r := ans.Records[2]; r.Line != 3 || r.RecordID != "XA-BAD" || r.Status != "REJECTED" || r.Reason != "INVALID" ||
		!strings.Contains(r.Message, "第 3 行") || !strings.Contains(r.Message, "idNumber") {
		t.Errorf("line 3: %+v", r)
	}
	if rec := post(b.key, "application/x-ndjson", body.Bytes()); !strings.Contains(rec.Body.String(), `"duplicates":2`) {
		t.Errorf("re-push: %s", rec.Body)
	}
	if rec := post(b.key, "application/json", body.Bytes()); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON content type: %d", rec.Code)
	}
	if rec := post("", "application/x-ndjson", body.Bytes()); rec.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d", rec.Code)
	}
	if rec := post(b.province, "application/x-ndjson", body.Bytes()); rec.Code != http.StatusForbidden {
		t.Errorf("staff token: %d", rec.Code)
	}
	if rec := post(b.key, "application/x-ndjson", []byte("\n\n")); rec.Code != http.StatusBadRequest {
		t.Errorf("empty push: %d", rec.Code)
	}
	long := append(body.Bytes(), []byte(`{"recordId":"`+strings.Repeat("x", exchange.MaxSubsystemLine)+`"}`)...)
	if rec := post(b.key, "application/x-ndjson", long); rec.Code != http.StatusBadRequest {
		t.Errorf("long line: %d", rec.Code)
	}
}

// The GraphQL transport: the mutation for API keys, the deviations query for
// administrators and supervisors.
func TestSubsystemGraphQL(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	const push = `mutation($r: [SubsystemRecordInput!]!) { pushSubsystemRecords(records: $r) {
		accepted rejected deviationsOpened records { line recordId status reason message unifiedColour deviation } } }`
	bad := wire(b.arrival(2, healthcode.Yellow))
	bad["colour"] = "BLUE"
	vars := map[string]any{"r": []any{wire(b.arrival(1, healthcode.Yellow)), bad}}
	data := b.Do(t, b.key, push, vars).MustData(t)
	out := data["pushSubsystemRecords"].(map[string]any)
	if out["accepted"] != 1.0 || out["rejected"] != 1.0 || out["deviationsOpened"] != 1.0 {
		t.Fatalf("push: %v", out)
	}
	recs := out["records"].([]any)
	if r := recs[1].(map[string]any); r["status"] != "REJECTED" || r["unifiedColour"] != nil || !strings.Contains(r["message"].(string), "colour") {
		t.Errorf("record 2: %v", r)
	}
	if r := b.Do(t, b.province, push, vars); r.Code() != healthcode.EFORBIDDEN {
		t.Errorf("staff push: %s", r.Code())
	}

	const q = `query($s: DeviationStatus) { deviations(status: $s, first: 5) { nodes { cityCode recordId personId maskedName
		subsystemColour unifiedColour status clauses { id citation reason factIds } } pageInfo { hasNextPage } }
		deviationSummary { cityCode open corrected } }`
	data = b.Do(t, b.province, q, map[string]any{"s": "OPEN"}).MustData(t)
	nodes := data["deviations"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 1 {
		t.Fatalf("deviations %v", nodes)
	}
	d := nodes[0].(map[string]any)
	c := d["clauses"].([]any)[0].(map[string]any)
	if d["personId"] == nil || d["maskedName"] != "张*1" || d["status"] != "OPEN" || d["unifiedColour"] != "GREEN" ||
		c["id"] != "G" || !strings.Contains(c["reason"].(string), "附件1 一(三)") {
		t.Errorf("deviation %v", d)
	}
	found := false
	for _, s := range data["deviationSummary"].([]any) {
		if m := s.(map[string]any); m["cityCode"] == "6101" {
			found = m["open"] == 1.0 && m["corrected"] == 0.0
		}
	}
	if !found {
		t.Errorf("summary %v", data["deviationSummary"])
	}
	data = b.Do(t, b.supervisor, q, nil).MustData(t)
	d = data["deviations"].(map[string]any)["nodes"].([]any)[0].(map[string]any)
	if d["personId"] != nil || d["maskedName"] != nil || d["clauses"].([]any)[0].(map[string]any)["reason"] != "" {
		t.Errorf("supervisor sees %v", d)
	}
	if r := b.Do(t, b.key, q, nil); r.Code() != healthcode.EFORBIDDEN {
		t.Errorf("API key reads deviations: %s", r.Code())
	}
}

// Two concurrent pushes of the same batch record every record once: one push
// accepts it, the other finds a duplicate.
func TestSubsystemConcurrentPushes(t *testing.T) {
	t.Parallel()
	b := setupSubsystem(t)
	batch := []healthcode.SubsystemRecord{b.arrival(1, healthcode.Yellow), b.arrival(2, healthcode.Yellow), b.arrival(3, healthcode.Green)}
	results := make(chan *healthcode.SubsystemPushResult, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			res, err := b.svc.PushRecords(b.machine, batch)
			results <- res
			errs <- err
		}()
	}
	accepted, duplicates, opened := 0, 0, 0
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		res := <-results
		accepted, duplicates, opened = accepted+res.Accepted, duplicates+res.Duplicates, opened+res.DeviationsOpened
	}
	if accepted != 3 || duplicates != 3 || opened != 2 {
		t.Errorf("accepted %d, duplicates %d, opened %d; want 3, 3, 2", accepted, duplicates, opened)
	}
	if n := b.count(t, "SELECT count(*) FROM declarations"); n != 3 {
		t.Errorf("%d declarations, want 3", n)
	}
	if n := b.count(t, "SELECT count(*) FROM subsystem_deviations"); n != 2 {
		t.Errorf("%d deviations, want 2", n)
	}
}
