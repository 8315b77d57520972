package postgres_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// indicatorDay is the fixture's day D: Friday 27 November 2026 (CST).
var indicatorDay = time.Date(2026, 11, 27, 0, 0, 0, 0, cst)

// at returns D + days at hh:mm CST.
func at(days, hh, mm int) time.Time {
	return indicatorDay.AddDate(0, 0, days).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

type indRow struct{ num, den float64 }

// indicatorRows reads the rows of one day as indicator → region → (num, den).
func indicatorRows(t *testing.T, db *postgres.DB, day time.Time) map[string]map[string]indRow {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT indicator, region_code, numerator, denominator
		FROM indicator_daily WHERE day = $1`, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]indRow{}
	for rows.Next() {
		var ind, region string
		var r indRow
		if err := rows.Scan(&ind, &region, &r.num, &r.den); err != nil {
			t.Fatal(err)
		}
		if out[ind] == nil {
			out[ind] = map[string]indRow{}
		}
		out[ind][region] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustExec(t *testing.T, db *postgres.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// indicatorFixture writes a small, hand-countable world around D in two
// cities: 西安 (county 雁塔区 610113, street 小寨路街道 610113001) and 咸阳
// (counties 秦都区 610402 and 杨陵区 610403, the census unit of its own).
func indicatorFixture(t *testing.T, db *postgres.DB) {
	t.Helper()
	// Persons (P6 has no code).
	for i, p := range []struct {
		region  string
		created time.Time
		code    bool
	}{
		{"610113001", at(-1, 10, 0), true}, // P1: coverage only
		{"610113", at(0, 10, 0), true},     // P2: coverage and growth
		{"610113", at(1, 8, 0), true},      // P3: the next day
		{"610403", at(0, 9, 0), true},      // P4: coverage and growth in 杨陵
		{"610402", at(-3, 9, 0), true},     // P5: coverage in 秦都
		{"610113", at(-1, 9, 0), false},    // P6: no code
	} {
		mustExec(t, db, `INSERT INTO persons (id, doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked, residence_code,
			residence_path, address_enc, created_at, updated_at)
			SELECT $1, 'ID_CARD', $2, '\x00', 'x', '\x00', 'x', code, path, '\x00', $3, $3 FROM regions WHERE code = $4`,
			int64(i+1), []byte(fmt.Sprintf("doc%d", i)), p.created, p.region)
		if p.code {
			mustExec(t, db, `INSERT INTO codes (person_id, colour, clauses, rule_set_version, updated_at)
				VALUES ($1, 'GREEN', '[]', 'v', $2)`, int64(i+1), p.created)
		}
	}
	// Scans: three on D in 雁塔 (two at a street venue), one in 杨陵; one on
	// D-1 23:59 and one on D+1 00:00 that D does not count.
	for d := -1; d <= 1; d++ {
		day := indicatorDay.AddDate(0, 0, d)
		// As the application does: the role has no DDL privilege.
		mustExec(t, db, fmt.Sprintf(`SELECT create_scan_partition('%s')`, day.In(healthcode.CST).Format("2006-01-02")))
	}
	for i, s := range []struct {
		path string
		at   time.Time
	}{
		{"61.6101.610113.610113001", at(0, 8, 0)},
		{"61.6101.610113.610113001", at(0, 12, 0)},
		{"61.6101.610113", at(0, 23, 59)},
		{"61.6104.610403", at(0, 0, 0)},
		{"61.6101.610113", at(-1, 23, 59)},
		{"61.6101.610113", at(1, 0, 0)},
	} {
		mustExec(t, db, `INSERT INTO scans (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id, issuer, code_id,
			colour, scan_role, fever, region_path) VALUES ($1, $2, $2, 1, 1, 1, '61', 'c', 'GREEN', 'VISITOR', false, $3::text::ltree)`,
			fmt.Sprintf("00000000-0000-4000-8000-%012d", i), s.at, s.path)
	}
	// Checkpoints in 雁塔: an active institution with active TRAFFIC_CHECKPOINT
	// and two MEDICAL venues (one type), a suspended AIRPORT venue, a
	// RAILWAY_STATION registered on D+1; a suspended institution's BUS_STATION.
	mustExec(t, db, `INSERT INTO institutions (id, name, credit_code, region_code, region_path, contact_name, status, created_by, created_at) VALUES
		(1, '甲', 'A1', '610113', '61.6101.610113', 'c', 'ACTIVE', 't', $1),
		(2, '乙', 'A2', '610113', '61.6101.610113', 'c', 'SUSPENDED', 't', $1)`, at(-5, 9, 0))
	for _, v := range []struct {
		inst    int
		typ     string
		status  string
		created time.Time
	}{
		{1, "TRAFFIC_CHECKPOINT", "ACTIVE", at(-5, 9, 0)},
		{1, "MEDICAL", "ACTIVE", at(-5, 9, 0)},
		{1, "MEDICAL", "ACTIVE", at(0, 23, 0)},
		{1, "AIRPORT", "SUSPENDED", at(-5, 9, 0)},
		{1, "RAILWAY_STATION", "ACTIVE", at(1, 9, 0)},
		{2, "BUS_STATION", "ACTIVE", at(-5, 9, 0)},
	} {
		mustExec(t, db, `INSERT INTO venues (institution_id, name, type, region_code, region_path, status, created_by, created_at)
			VALUES ($1, 'v', $2, '610113001', '61.6101.610113.610113001', $3, 't', $4)`, v.inst, v.typ, v.status, v.created)
	}
	// Level 3 since D-10; level 0 (no types required) from D+1 09:00.
	mustExec(t, db, `INSERT INTO response_levels (level, from_at, actor, created_at) VALUES (3, $1, 't', $1), (0, $2, 't', $2)`,
		at(-10, 0, 0), at(1, 9, 0))
	// The national push of D acknowledged on time; that of D-1 late.
	mustExec(t, db, `INSERT INTO national_pushes (day, batches, records, started_at, acked_at, late) VALUES
		($1, 1, 0, $2, $3, false), ($4, 1, 0, $5, $6, true)`,
		indicatorDay, at(1, 0, 30), at(1, 9, 0), indicatorDay.AddDate(0, 0, -1), at(0, 0, 30), at(0, 11, 0))
	// Weekly reports of the week of D (Monday D-4): 西安 on time, 咸阳 late,
	// 铜川 a draft, the others missing.
	mustExec(t, db, `INSERT INTO weekly_reports (region_code, region_path, week_start, figures, status, generated_at, submitted_at, on_time) VALUES
		('6101', '61.6101', $1, '{}', 'SUBMITTED', $2, $3, true),
		('6104', '61.6104', $1, '{}', 'SUBMITTED', $2, $4, false),
		('6102', '61.6102', $1, '{}', 'DRAFT', $2, NULL, false)`,
		indicatorDay.AddDate(0, 0, -4), at(0, 8, 0), at(0, 15, 0), at(0, 17, 0))
	// Joint meeting lists, due D-10: 西安 and 杨陵 on time, 雁塔 late.
	mustExec(t, db, `INSERT INTO joint_meeting_lists (region_code, region_path, members, submitted_by, submitted_at, due_at, on_time) VALUES
		('6101', '61.6101', '[]', 't', $1, $3, true),
		('610403', '61.6104.610403', '[]', 't', $2, $3, true),
		('610113', '61.6101.610113', '[]', 't', $4, $3, false)`,
		at(-20, 9, 0), at(-15, 9, 0), at(-10, 0, 0), at(-5, 9, 0))
	indicatorTickets(t, db)
}

// indicatorTickets writes six tickets with their steps (see the expected
// hotline figures in TestIndicatorFormulas).
func indicatorTickets(t *testing.T, db *postgres.DB) {
	t.Helper()
	type step struct {
		action, from, to string
		at               time.Time
	}
	for _, tk := range []struct {
		id                                int64
		region, path, state, satisfaction string
		created, signStart, signDue       time.Time
		signed                            *time.Time
		steps                             []step
	}{
		{1, "610113", "61.6101.610113", "CLOSED", "SATISFIED", at(0, 9, 0), at(0, 10, 0), at(0, 12, 0), ptr(at(0, 11, 0)), []step{
			{"CREATE", "", "ACCEPTED", at(0, 9, 0)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(0, 10, 0)},
			{"SIGN", "DISPATCHED", "SIGNED", at(0, 11, 0)}, {"REPLY", "SIGNED", "REPLIED", at(0, 13, 0)},
			{"CALLBACK", "REPLIED", "CLOSED", at(0, 15, 0)}}},
		{2, "610113001", "61.6101.610113.610113001", "DISPATCHED", "DISSATISFIED", at(0, 9, 30), at(0, 16, 0), at(0, 18, 0), ptr(at(0, 13, 0)), []step{
			{"CREATE", "", "ACCEPTED", at(0, 9, 30)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(0, 10, 0)},
			{"SIGN", "DISPATCHED", "SIGNED", at(0, 13, 0)}, {"REPLY", "SIGNED", "REPLIED", at(0, 14, 0)},
			{"CALLBACK", "REPLIED", "DISPATCHED", at(0, 16, 0)}}},
		{3, "610403", "61.6104.610403", "ACCEPTED", "", at(0, 8, 0), at(0, 8, 30), at(0, 10, 0), nil, []step{
			{"CREATE", "", "ACCEPTED", at(0, 8, 0)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(0, 8, 30)},
			{"RETURN", "DISPATCHED", "ACCEPTED", at(0, 9, 0)}}},
		{4, "610403", "61.6104.610403", "DISPATCHED", "", at(-1, 10, 0), at(-1, 10, 30), at(0, 9, 0), nil, []step{
			{"CREATE", "", "ACCEPTED", at(-1, 10, 0)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(-1, 10, 30)},
			{"SUPERVISE", "DISPATCHED", "DISPATCHED", at(0, 9, 1)}}},
		{5, "610113", "61.6101.610113", "CLOSED", "SATISFIED", at(-1, 9, 0), at(1, 9, 0), at(1, 11, 0), ptr(at(1, 9, 10)), []step{
			{"CREATE", "", "ACCEPTED", at(-1, 9, 0)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(-1, 9, 10)},
			{"SIGN", "DISPATCHED", "SIGNED", at(-1, 9, 20)}, {"REPLY", "SIGNED", "REPLIED", at(-1, 10, 0)},
			{"CALLBACK", "REPLIED", "CLOSED", at(0, 10, 0)}, {"REOPEN", "CLOSED", "DISPATCHED", at(1, 9, 0)},
			{"SIGN", "DISPATCHED", "SIGNED", at(1, 9, 10)}, {"REPLY", "SIGNED", "REPLIED", at(1, 10, 0)},
			{"CALLBACK", "REPLIED", "CLOSED", at(1, 11, 0)}}},
		{6, "610113", "61.6101.610113", "MERGED", "", at(0, 12, 0), at(0, 12, 10), at(0, 14, 0), nil, []step{
			{"CREATE", "", "ACCEPTED", at(0, 12, 0)}, {"DISPATCH", "ACCEPTED", "DISPATCHED", at(0, 12, 10)},
			{"MERGE", "DISPATCHED", "MERGED", at(0, 12, 20)}}},
	} {
		var satisfaction any
		if tk.satisfaction != "" {
			satisfaction = tk.satisfaction
		}
		last := tk.steps[len(tk.steps)-1].at
		mustExec(t, db, `INSERT INTO tickets (id, kind, channel, urgency, state, subject, description, place_code, region_code, region_path,
			created_by, created_at, updated_at, sign_started_at, sign_due, signed_at, satisfaction)
			VALUES ($1, 'COMPLAINT', 'HOTLINE', 'NORMAL', $2, 's', 'd', $3, $3, $4::text::ltree, 't', $5, $6, $7, $8, $9, $10)`,
			tk.id, tk.state, tk.region, tk.path, tk.created, last, tk.signStart, tk.signDue, tk.signed, satisfaction)
		for _, s := range tk.steps {
			mustExec(t, db, `INSERT INTO ticket_steps (ticket_id, action, from_state, to_state, role, actor, actor_name, visibility, created_at)
				VALUES ($1, $2, $3, $4, 'OPERATOR', 't', 't', 'PUBLIC', $5)`, tk.id, s.action, s.from, s.to, s.at)
		}
	}
	// Ticket 4 went overdue on D at 09:01.
	mustExec(t, db, `INSERT INTO ticket_notices (ticket_id, region_code, region_path, kind, text, created_at)
		VALUES (4, '6104', '61.6104', 'OVERDUE', 'x', $1)`, at(0, 9, 1))
}

func ptr[T any](v T) *T { return &v }

// Every formula against figures counted by hand from the fixture.
func TestIndicatorFormulas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &healthcode.OffsetClock{}
	db := &postgres.DB{Pool: pgtest.New(t), Clock: clock}
	indicatorFixture(t, db)
	clock.Set(at(2, 12, 0)) // every deadline of D has passed
	svc := &postgres.IndicatorService{DB: db, JointMeetingDue: at(-10, 0, 0)}
	if err := svc.RecomputeDay(ctx, indicatorDay); err != nil {
		t.Fatal(err)
	}
	got := indicatorRows(t, db, indicatorDay)
	var cities, counties, xianCounties int
	db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE level = 'CITY'), count(*) FILTER (WHERE level = 'COUNTY'),
		count(*) FILTER (WHERE level = 'COUNTY' AND parent_code = '6101') FROM regions`).Scan(&cities, &counties, &xianCounties)
	if cities != 10 || counties != 107 || xianCounties != 13 {
		t.Fatalf("region tree: %d cities, %d counties (%d in 西安)", cities, counties, xianCounties)
	}
	want := map[string]map[string]indRow{
		// P1 and P2 in 雁塔, P4 in 杨陵, P5 in 秦都; the census at the cities
		// and at 杨陵.
		healthcode.IndCoverage: {"610113": {2, 0}, "610403": {1, 253871}, "610402": {1, 0},
			"6101": {0, 12952907}, "6104": {0, 3959842}},
		healthcode.IndCoverageGrowth: {"610113": {1, 0}, "610403": {1, 253871}, "610402": {0, 0},
			"6101": {0, 12952907}, "6104": {0, 3959842}},
		healthcode.IndScansPer1000: {"610113": {3, 0}, "610403": {1, 253871}, "6101": {0, 12952907}, "6104": {0, 3959842}},
		// TRAFFIC_CHECKPOINT and MEDICAL of the ten types required at level 3.
		healthcode.IndCheckpointTypes: {"610113": {2, 10}, "610403": {0, 10}},
		healthcode.IndDataTimeliness:  {"6101": {1, 1}, "6104": {1, 1}},
		healthcode.IndWeeklyReport:    {"6101": {1, 1}, "6104": {0, 1}, "6102": {0, 1}, "6103": {0, 1}},
		healthcode.IndJointMeeting:    {"6101": {1, 1}, "610403": {1, 1}, "610113": {0, 1}, "6104": {0, 1}, "610402": {0, 1}},
		// 雁塔: tickets 1, 2 (street unit), 5 and 6 (merged); 杨陵: 3 and 4.
		healthcode.IndHotlineResponse:     {"610113": {1, 2}, "610403": {0, 1}},
		healthcode.IndHotlineResolution:   {"610113": {1, 2}, "610403": {0, 1}},
		healthcode.IndHotlineSatisfaction: {"610113": {1.8, 3}},
		healthcode.IndHotlineReturn:       {"610113": {0, 4}, "610403": {1, 1}},
		healthcode.IndHotlineReopen:       {"610113": {1, 3}},
		healthcode.IndHotlineOverdue:      {"610403": {1, 0}},
	}
	for ind, regions := range want {
		for region, w := range regions {
			g, ok := got[ind][region]
			if !ok || math.Abs(g.num-w.num) > 1e-9 || g.den != w.den {
				t.Errorf("%s at %s: got %v (present %v), want %v", ind, region, g, ok, w)
			}
		}
	}
	// Row counts: every county for checkpoint types, every city for the
	// city-only ones, cities and counties for joint meetings; the census
	// units plus the counties with persons or scans elsewhere.
	for ind, n := range map[string]int{
		healthcode.IndCoverage: 13, healthcode.IndScansPer1000: 12, healthcode.IndCheckpointTypes: counties,
		healthcode.IndDataTimeliness: cities, healthcode.IndWeeklyReport: cities, healthcode.IndJointMeeting: cities + counties,
		healthcode.IndHotlineSatisfaction: 1, healthcode.IndHotlineReopen: 1, healthcode.IndHotlineOverdue: 1,
	} {
		if len(got[ind]) != n {
			t.Errorf("%s has %d rows, want %d", ind, len(got[ind]), n)
		}
	}
	// No sub-system pushed anything: every county holds zero open
	// deviations, and none was corrected.
	if len(got[healthcode.IndDeviationsOpen]) != counties || got[healthcode.IndDeviationsOpen]["610113"] != (indRow{}) ||
		len(got[healthcode.IndDeviationsCorrected]) != 0 {
		t.Errorf("deviations: open %v, corrected %v", got[healthcode.IndDeviationsOpen]["610113"], got[healthcode.IndDeviationsCorrected])
	}

	// The next day: level 0 requires no type, so no checkpoint rows; D+1's
	// push is unknown and its deadline (D+2 10:00) has passed: 0/1.
	if err := svc.RecomputeDay(ctx, at(1, 15, 0)); err != nil {
		t.Fatal(err)
	}
	next := indicatorRows(t, db, indicatorDay.AddDate(0, 0, 1))
	if len(next[healthcode.IndCheckpointTypes]) != 0 || next[healthcode.IndDataTimeliness]["6101"] != (indRow{0, 1}) ||
		len(next[healthcode.IndWeeklyReport]) != 0 {
		t.Errorf("D+1: checkpoint %v, timeliness %v, weekly %v", next[healthcode.IndCheckpointTypes],
			next[healthcode.IndDataTimeliness]["6101"], next[healthcode.IndWeeklyReport])
	}
	// Ticket 5's second callback (D+1) closed it as 满意: weight 1.
	if g := next[healthcode.IndHotlineSatisfaction]["610113"]; g != (indRow{1, 1}) {
		t.Errorf("D+1 satisfaction %v, want 1/1", g)
	}
	// Recomputing gives the same rows.
	if err := svc.RecomputeDay(ctx, indicatorDay); err != nil {
		t.Fatal(err)
	}
	if again := indicatorRows(t, db, indicatorDay); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("recomputation changed the rows:\n%v\n%v", got, again)
	}

	// Reading: supervisors at the province; an administrator of 西安 only there.
	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: 1, Role: healthcode.RoleSupervisor, RegionCode: "61"},
			{ID: 2, StaffID: 2, Role: healthcode.RoleAdmin, RegionCode: "6101"},
			{ID: 3, StaffID: 3, Role: healthcode.RoleOperator, RegionCode: "61"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Authz = enforcer
	staff := func(id int64) context.Context {
		return healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: id, Name: "s"})
	}
	series, err := svc.IndicatorSeries(staff(1), "6101", healthcode.IndScansPer1000, at(-1, 0, 0), at(1, 0, 0))
	if err != nil || len(series) != 3 {
		t.Fatalf("series: %v, %v", series, err)
	}
	if series[0].Value != nil || series[1].Value == nil || math.Abs(*series[1].Value-3.0/12952907*1000) > 1e-12 ||
		!series[1].Day.Equal(indicatorDay) || series[2].Numerator != 1 {
		t.Errorf("series points: %+v %+v %+v", series[0], series[1], series[2])
	}
	// 咸阳 includes 杨陵: (1 + 0) scans ÷ (3959842 + 253871).
	if s, err := svc.IndicatorSeries(staff(2), "6101", healthcode.IndHotlineOverdue, indicatorDay, indicatorDay); err != nil ||
		len(s) != 1 || s[0].Value == nil || *s[0].Value != 0 {
		t.Errorf("admin of 西安, overdue: %v, %v", s, err)
	}
	if _, err := svc.IndicatorSeries(staff(2), "6104", healthcode.IndCoverage, indicatorDay, indicatorDay); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Errorf("admin of 西安 reading 咸阳: %v", err)
	}
	if _, err := svc.IndicatorSeries(staff(3), "6101", healthcode.IndCoverage, indicatorDay, indicatorDay); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Errorf("operator: %v", err)
	}
	for _, bad := range []struct {
		region, ind string
		from, to    time.Time
	}{
		{"6101", "NOPE", indicatorDay, indicatorDay},
		{"61x", healthcode.IndCoverage, indicatorDay, indicatorDay},
		{"6101", healthcode.IndCoverage, indicatorDay, indicatorDay.AddDate(0, 0, -1)},
		{"6101", healthcode.IndCoverage, indicatorDay, indicatorDay.AddDate(2, 0, 0)},
	} {
		if _, err := svc.IndicatorSeries(staff(1), bad.region, bad.ind, bad.from, bad.to); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := svc.IndicatorSeries(ctx, "6101", healthcode.IndCoverage, indicatorDay, indicatorDay); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED {
		t.Errorf("anonymous: %v", err)
	}

	// The roll-up over D and D+1 by city.
	values, err := svc.IndicatorValues(staff(1), healthcode.LevelCity, "", indicatorDay, indicatorDay.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*healthcode.IndicatorTotal{}
	for _, v := range values {
		byKey[v.RegionCode+"/"+v.Indicator] = v
	}
	check := func(key string, num, den float64, value float64) {
		t.Helper()
		v := byKey[key]
		if v == nil || math.Abs(v.Numerator-num) > 1e-9 || v.Denominator != den || v.Value == nil || math.Abs(*v.Value-value) > 1e-9 {
			t.Errorf("%s: %+v, want %v/%v = %v", key, v, num, den, value)
		}
	}
	// Coverage of 咸阳 over two days: (P4 + P5) each day ÷ (2 × its census with 杨陵).
	check("6104/COVERAGE", 4, 2*(3959842+253871), 4.0/(2*(3959842+253871))*100)
	// Timeliness of 西安: D on time, D+1 not.
	check("6101/DATA_TIMELINESS", 1, 2, 50)
	// Joint meetings of 西安 on each of the two days: the city on time, its 13 counties not.
	check("6101/JOINT_MEETING", 2, 2*(1+float64(xianCounties)), 100*2/(2*(1+float64(xianCounties))))
	// Response of 西安: D 1/2 (tickets 1, 2), D+1 1/1 (ticket 5 signed in time).
	check("6101/HOTLINE_RESPONSE", 2, 3, 100*2.0/3)
	check("6104/HOTLINE_OVERDUE", 1, 0, 1)
	if len(values) == 0 || values[0].RegionCode != "6101" || values[0].Indicator != healthcode.IndCoverage {
		t.Errorf("order: first %+v", values[0])
	}
	// By county inside 咸阳: 杨陵 has its own census; 秦都 has none, so no coverage value.
	values, err = svc.IndicatorValues(staff(1), healthcode.LevelCounty, "6104", indicatorDay, indicatorDay)
	if err != nil {
		t.Fatal(err)
	}
	byKey = map[string]*healthcode.IndicatorTotal{}
	for _, v := range values {
		byKey[v.RegionCode+"/"+v.Indicator] = v
		if v.RegionCode[:4] != "6104" || len(v.RegionCode) != 6 {
			t.Errorf("county roll-up of 咸阳 has %s", v.RegionCode)
		}
	}
	check("610403/COVERAGE", 1, 253871, 100.0/253871)
	if v := byKey["610402/COVERAGE"]; v == nil || v.Value != nil {
		t.Errorf("秦都 coverage: %+v", v)
	}
	if byKey["610403/DATA_TIMELINESS"] != nil {
		t.Error("a city-only indicator in a county roll-up")
	}
	if _, err := svc.IndicatorValues(staff(2), healthcode.LevelCounty, "", indicatorDay, indicatorDay); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Errorf("admin of 西安, province roll-up: %v", err)
	}
	if _, err := svc.IndicatorValues(staff(1), healthcode.LevelCity, "6101", indicatorDay, indicatorDay); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("cities inside a city: %v", err)
	}
}

// A write on day D marks D only; the worker's pass recomputes D and leaves
// the other days' rows (and computed_at) alone.
func TestIndicatorIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &healthcode.OffsetClock{}
	db := &postgres.DB{Pool: pgtest.New(t), Clock: clock}
	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) {
		return []healthcode.Grant{{ID: 1, StaffID: 1, Role: healthcode.RoleAdmin, RegionCode: "6102"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Authz = enforcer
	svc := &postgres.IndicatorService{DB: db}
	days := []time.Time{indicatorDay.AddDate(0, 0, -1), indicatorDay, indicatorDay.AddDate(0, 0, 1)}
	clock.Set(at(0, 14, 0))
	for _, d := range days {
		if err := svc.RecomputeDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	computedAt := func() map[string]time.Time {
		out := map[string]time.Time{}
		rows, _ := db.Pool.Query(ctx, "SELECT day::text, max(computed_at) FROM indicator_daily GROUP BY day")
		defer rows.Close()
		for rows.Next() {
			var d string
			var c time.Time
			rows.Scan(&d, &c)
			out[d] = c
		}
		return out
	}
	dirty := func() []string {
		rows, _ := db.Pool.Query(ctx, "SELECT day::text FROM indicator_dirty_days ORDER BY day")
		defer rows.Close()
		var out []string
		for rows.Next() {
			var d string
			rows.Scan(&d)
			out = append(out, d)
		}
		return out
	}
	before := computedAt()
	if len(before) != 3 || len(dirty()) != 0 {
		t.Fatalf("computed days %v, dirty %v", before, dirty())
	}

	// 铜川 submits the week's report before Friday 16:00: that marks Friday D.
	mustExec(t, db, `INSERT INTO weekly_reports (region_code, region_path, week_start, figures, generated_at)
		VALUES ('6102', '61.6102', $1, '{}', $2)`, indicatorDay.AddDate(0, 0, -4), at(0, 8, 0))
	clock.Set(at(0, 15, 0))
	sup := &postgres.SupervisionService{DB: db}
	actx := healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: 1, Name: "tongchuan"})
	if _, err := sup.SubmitWeeklyReport(actx, "6102", at(0, 15, 0), "本周正常"); err != nil {
		t.Fatal(err)
	}
	if d := dirty(); len(d) != 1 || d[0] != "2026-11-27" {
		t.Fatalf("dirty after the submission: %v", d)
	}
	clock.Set(at(0, 15, 5))
	n, err := svc.RecomputeDirty(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recomputed %d days, %v", n, err)
	}
	after := computedAt()
	for _, d := range []string{"2026-11-26", "2026-11-28"} {
		if !after[d].Equal(before[d]) {
			t.Errorf("%s recomputed: %v → %v", d, before[d], after[d])
		}
	}
	if !after["2026-11-27"].After(before["2026-11-27"]) {
		t.Errorf("D not recomputed: %v → %v", before["2026-11-27"], after["2026-11-27"])
	}
	if got := indicatorRows(t, db, indicatorDay)[healthcode.IndWeeklyReport]; len(got) != 1 || got["6102"] != (indRow{1, 1}) {
		t.Errorf("weekly report rows before the deadline: %v", got)
	}
	if len(dirty()) != 0 {
		t.Errorf("marks left: %v", dirty())
	}

	// A mark made after the recomputation read its mark survives it.
	mustExec(t, db, "INSERT INTO indicator_dirty_days (day, marked_at) VALUES ($1, $2)", indicatorDay, at(0, 15, 6))
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE indicator_dirty_days SET marked_at = clock_timestamp() WHERE day = $1", indicatorDay); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.RecomputeDay(ctx, indicatorDay) }()
	// Wait until the recomputation, having read the old mark, waits for the row.
	for i := 0; ; i++ {
		var waiting int
		db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM indicator_dirty_days%'`).Scan(&waiting)
		if waiting > 0 {
			break
		}
		if i == 500 {
			t.Fatal("the recomputation never waited for the mark")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := dirty(); len(d) != 1 {
		t.Errorf("the concurrent mark was lost: %v", d)
	}

	// The scheduler's pass marks today and yesterday.
	mustExec(t, db, "DELETE FROM indicator_dirty_days")
	clock.Set(at(5, 0, 30))
	if err := svc.MarkRecentDays(ctx); err != nil {
		t.Fatal(err)
	}
	if d := dirty(); len(d) != 2 || d[0] != "2026-12-01" || d[1] != "2026-12-02" {
		t.Errorf("recent days: %v", d)
	}
}

// City sub-systems: the timeliness of a city with a sub-system needs its
// push of the day's records before 10:00 of the next day as well as the
// national push; deviations open at the end of the day and corrected during
// it, at the county of the person's residence.
func TestIndicatorSubsystems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &healthcode.OffsetClock{}
	db := &postgres.DB{Pool: pgtest.New(t), Clock: clock}
	// The national push of D on time. Sub-systems: 渭南 (6105) pushed D's
	// records by 09:00, 延安 (6106) last at 11:00, 安康 (6109) nothing;
	// 铜川 (6102)'s key was revoked before D, so 铜川 counts as without one.
	mustExec(t, db, `INSERT INTO national_pushes (day, batches, records, started_at, acked_at, late) VALUES ($1, 1, 0, $2, $3, false)`,
		indicatorDay, at(1, 0, 30), at(1, 9, 0))
	mustExec(t, db, `INSERT INTO api_keys (id, name, city_code, key_hash, created_at, revoked_at) VALUES
		(1, '渭南', '6105', 'k1', $1, NULL), (2, '延安', '6106', 'k2', $1, NULL), (3, '安康', '6109', 'k3', $1, NULL),
		(4, '铜川', '6102', 'k4', $1, $2)`, at(-30, 0, 0), at(-1, 0, 0))
	mustExec(t, db, `INSERT INTO subsystem_pushes (city_code, day, first_at, last_at, records) VALUES
		('6105', $1, $2, $3, 10), ('6106', $1, $2, $4, 10)`, indicatorDay, at(0, 23, 0), at(1, 9, 0), at(1, 11, 0))
	// Deviations of 渭南's records: persons in 临渭区 (610502) and 华州区
	// (610503). Open at the end of D: 1 (opened D-1) and 3 (opened D, fixed
	// D+1) in 临渭, 4 in 华州; 2 was fixed on D; 5 opened on D+1.
	for i, region := range []string{"610502", "610502", "610502", "610503", "610503"} {
		id := int64(i + 1)
		mustExec(t, db, `INSERT INTO persons (id, doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked, residence_code,
			residence_path, address_enc, created_at, updated_at)
			SELECT $1, 'ID_CARD', $2, '\x00', 'x', '\x00', 'x', code, path, '\x00', $3, $3 FROM regions WHERE code = $4`,
			id, []byte(fmt.Sprintf("doc%d", i)), at(-5, 0, 0), region)
		mustExec(t, db, `INSERT INTO declarations (id, person_id, form, actor, created_at) VALUES ($1, $1, 'RESIDENT', 't', $2)`, id, at(-5, 0, 0))
		mustExec(t, db, `INSERT INTO subsystem_records (city_code, record_id, content_hash, person_id, region_code, region_path, colour,
			unified_colour, issued_at, declaration_id, api_key_id, first_received_at, received_at)
			SELECT '6105', $1, 'h', $2, code, path, 'YELLOW', 'GREEN', $3, $2, 1, $3, $3 FROM regions WHERE code = $4`,
			fmt.Sprintf("r%d", id), id, at(-5, 0, 0), region)
	}
	for _, d := range []struct {
		id                int64
		opened, corrected time.Time
	}{
		{1, at(-1, 10, 0), time.Time{}},
		{2, at(-1, 10, 0), at(0, 15, 0)},
		{3, at(0, 10, 0), at(1, 8, 0)},
		{4, at(0, 11, 0), time.Time{}},
		{5, at(1, 10, 0), time.Time{}},
	} {
		var corrected, by any
		if !d.corrected.IsZero() {
			corrected, by = d.corrected, "apikey:1"
		}
		mustExec(t, db, `INSERT INTO subsystem_deviations (city_code, record_id, person_id, region_code, region_path, subsystem_colour,
			unified_colour, clauses, rule_set_version, opened_at, updated_at, corrected_at, corrected_by)
			SELECT '6105', $1, $2, p.residence_code, p.residence_path, 'YELLOW', 'GREEN', '[]', 'v', $3, $3, $4, $5
			FROM persons p WHERE p.id = $2`, fmt.Sprintf("r%d", d.id), d.id, d.opened, corrected, by)
	}
	clock.Set(at(2, 12, 0))
	svc := &postgres.IndicatorService{DB: db}
	if err := svc.RecomputeDay(ctx, indicatorDay); err != nil {
		t.Fatal(err)
	}
	got := indicatorRows(t, db, indicatorDay)
	for city, want := range map[string]indRow{"6101": {1, 1}, "6102": {1, 1}, "6105": {1, 1}, "6106": {0, 1}, "6109": {0, 1}} {
		if g := got[healthcode.IndDataTimeliness][city]; g != want {
			t.Errorf("timeliness of %s: %v, want %v", city, g, want)
		}
	}
	for ind, want := range map[string]map[string]indRow{
		healthcode.IndDeviationsOpen:      {"610502": {2, 0}, "610503": {1, 0}, "610113": {0, 0}},
		healthcode.IndDeviationsCorrected: {"610502": {1, 0}},
	} {
		for region, w := range want {
			if g, ok := got[ind][region]; !ok || g != w {
				t.Errorf("%s at %s: %v (present %v), want %v", ind, region, g, ok, w)
			}
		}
	}
	if n := len(got[healthcode.IndDeviationsCorrected]); n != 1 {
		t.Errorf("%d corrected rows, want 1", n)
	}
}
