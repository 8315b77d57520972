package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/postgres"
	"healthcode/postgres/pgtest"
	"healthcode/rbac"
)

// rankingWeek is the ranked week of the fixture (Monday 16 November 2026).
var rankingWeek = time.Date(2026, 11, 16, 0, 0, 0, 0, cst)

// rankingNow is the time of the tests: the Wednesday after the ranked week.
var rankingNow = time.Date(2026, 11, 25, 12, 0, 0, 0, cst)

// rankingPolicy is the small policy the fixture is computed by hand with.
var rankingPolicy = healthcode.RankingPolicy{
	Weights: map[string]float64{
		healthcode.IndCoverage: 50, healthcode.IndWeeklyReport: 20, healthcode.IndHotlineOverdue: 20, healthcode.IndDeviationsOpen: 10,
	},
	Floors:     map[string]float64{healthcode.IndCoverage: 60},
	Interviews: 2,
}

type indicatorRow struct {
	day       int // days after rankingWeek's Monday (negative: the week before)
	indicator string
	region    string
	num, den  float64
}

func insertIndicators(t *testing.T, pool *pgxpool.Pool, rows []indicatorRow) {
	t.Helper()
	for _, r := range rows {
		day := rankingWeek.AddDate(0, 0, r.day).Format("2006-01-02")
		tag, err := pool.Exec(context.Background(), `INSERT INTO indicator_daily (day, indicator, region_code, region_path, numerator, denominator, computed_at)
			SELECT $1::date, $2, code, path, $3, $4, now() FROM regions WHERE code = $5
			ON CONFLICT (day, indicator, region_code) DO UPDATE SET numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator`,
			day, r.indicator, r.num, r.den, r.region)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("insert %+v: %v", r, err)
		}
	}
}

// rankingFixture writes the indicator rows of the ten cities for the ranked
// week and the week before (see the table in TestRankingHandComputed).
func rankingFixture(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	type city struct {
		code                      string
		coverage                  float64 // %, the week's mean
		weekly                    float64 // 1 on time, 0 late, -1 no row
		overdue, devDay1, devDay7 float64
		prevCoverage              float64 // -1: no rows the week before
	}
	cities := []city{
		{"6101", 85, 1, 4, 20, 2, 80},
		{"6102", 70, 1, 0, 20, 0, 85},
		{"6103", 90, 1, 2, 20, 4, 70},
		{"6104", 80, 0, 6, 20, 2, 60},
		{"6105", 75, 1, 8, 20, 8, 75},
		{"6106", 95, -1, 2, 20, 0, -1},
		{"6107", 55, 1, 0, 20, 4, 50},
		{"6108", 88, 1, 4, 20, 6, 90},
		{"6109", 65, 0, 2, 20, 2, 65},
		{"6110", 60, 1, 6, 20, 0, 55},
	}
	var rows []indicatorRow
	for _, c := range cities {
		switch c.code {
		case "6101": // numerators at two counties, the census denominator at the city
			rows = append(rows,
				indicatorRow{0, healthcode.IndCoverage, "610113", c.coverage - 11, 0}, indicatorRow{0, healthcode.IndCoverage, "610103", 10, 0},
				indicatorRow{0, healthcode.IndCoverage, "6101", 0, 100},
				indicatorRow{6, healthcode.IndCoverage, "610113", c.coverage - 9, 0}, indicatorRow{6, healthcode.IndCoverage, "610103", 10, 0},
				indicatorRow{6, healthcode.IndCoverage, "6101", 0, 100})
		case "6104": // 杨陵区 (杨凌示范区) counts in 咸阳市's subtree
			rows = append(rows,
				indicatorRow{0, healthcode.IndCoverage, "610402", c.coverage - 6, 95}, indicatorRow{0, healthcode.IndCoverage, "610403", 5, 5},
				indicatorRow{6, healthcode.IndCoverage, "610402", c.coverage - 4, 95}, indicatorRow{6, healthcode.IndCoverage, "610403", 5, 5})
		default:
			rows = append(rows, indicatorRow{0, healthcode.IndCoverage, c.code, c.coverage - 1, 100},
				indicatorRow{6, healthcode.IndCoverage, c.code, c.coverage + 1, 100})
		}
		if c.weekly >= 0 {
			rows = append(rows, indicatorRow{4, healthcode.IndWeeklyReport, c.code, c.weekly, 1})
		}
		rows = append(rows,
			indicatorRow{1, healthcode.IndHotlineOverdue, c.code, c.overdue / 2, 0},
			indicatorRow{3, healthcode.IndHotlineOverdue, c.code, c.overdue / 2, 0},
			indicatorRow{0, healthcode.IndDeviationsOpen, c.code, c.devDay1, 0},
			indicatorRow{6, healthcode.IndDeviationsOpen, c.code, c.devDay7, 0})
		if c.prevCoverage >= 0 {
			rows = append(rows, indicatorRow{-6, healthcode.IndCoverage, c.code, c.prevCoverage, 100})
		}
	}
	// Outside both weeks: must not count.
	rows = append(rows, indicatorRow{7, healthcode.IndCoverage, "6101", 0, 100}, indicatorRow{-8, healthcode.IndHotlineOverdue, "6102", 100, 0})
	insertIndicators(t, pool, rows)
}

func rankingSetup(t *testing.T, grants ...healthcode.Grant) (*postgres.RankingService, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	clock := &healthcode.OffsetClock{}
	clock.Set(rankingNow) // the ranked week and the week before are over
	db := &postgres.DB{Pool: pool, Clock: clock}
	enforcer, err := rbac.New(func(context.Context) ([]healthcode.Grant, error) { return grants, nil })
	if err != nil {
		t.Fatal(err)
	}
	db.Authz = enforcer
	return &postgres.RankingService{DB: db, Policy: rankingPolicy}, pool
}

func staffCtx(id int64) context.Context {
	return healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorStaff, ID: id, Name: fmt.Sprintf("staff%d", id)})
}

// The expected table, computed by hand (docs/supervision.md explains the
// method). Overdue and open deviations are both 0–8 among the cities, so
// each maps to 100 − 12.5 × value; weekly report on time is 100, late 0.
//
//	city  cov  wr   overdue dev  score                                  prev cov → prev rank
//	6106  95   —    2→75    0→100 (50·95+20·75+10·100)/80 = 90.625→90.63 none
//	6102  70   100  0→100   0→100 (3500+2000+2000+1000)/100 = 85.00      85 → 2
//	6103  90   100  2→75    4→50  (4500+2000+1500+500)/100 = 85.00       70 → 5
//	6101  85   100  4→50    2→75  (4250+2000+1000+750)/100 = 80.00       80 → 3
//	6108  88   100  4→50    6→25  (4400+2000+1000+250)/100 = 76.50       90 → 1
//	6107  55   100  0→100   4→50  (2750+2000+2000+500)/100 = 72.50       50 → 9
//	6110  60   100  6→25    0→100 (3000+2000+500+1000)/100 = 65.00       55 → 8
//	6105  75   100  8→0     8→0   (3750+2000+0+0)/100 = 57.50            75 → 4
//	6109  65   0    2→75    2→75  (3250+0+1500+750)/100 = 55.00          65 → 6
//	6104  80   0    6→25    2→75  (4000+0+500+750)/100 = 52.50           60 → 7
//
// The week before has coverage only, so its scores are the coverages and
// 6106 (no rows) is not ranked, so it has no previous rank. 6102 and 6103
// tie at 85.00 and share rank 2 (listed by code); 6101 is 4th. Interviews:
// the bottom two (6109, 6104) and 6107 (coverage 55% under the floor of
// 60%); 6110 at exactly 60% is not under it.
var wantRanking = []struct {
	code      string
	score     float64
	rank      int
	change    any // int, or nil for no previous rank
	interview int // number of reasons
}{
	{"6106", 90.63, 1, nil, 0},
	{"6102", 85, 2, 0, 0},
	{"6103", 85, 2, 3, 0},
	{"6101", 80, 4, -1, 0},
	{"6108", 76.5, 5, -4, 0},
	{"6107", 72.5, 6, 3, 1},
	{"6110", 65, 7, 1, 0},
	{"6105", 57.5, 8, -4, 0},
	{"6109", 55, 9, -3, 1},
	{"6104", 52.5, 10, -3, 1},
}

func checkRanking(t *testing.T, rows []healthcode.RankingRow) {
	t.Helper()
	if len(rows) != len(wantRanking) {
		t.Fatalf("%d rows, want %d", len(rows), len(wantRanking))
	}
	for i, w := range wantRanking {
		r := rows[i]
		var change any
		if r.RankChange != nil {
			change = *r.RankChange
		}
		if r.RegionCode != w.code || r.Score != w.score || r.Rank != w.rank || change != w.change || len(r.InterviewReasons) != w.interview || r.Interview != (w.interview > 0) {
			t.Errorf("row %d = %s %v rank %d change %v reasons %q; want %s %v rank %d change %v with %d reasons",
				i, r.RegionCode, r.Score, r.Rank, change, r.InterviewReasons, w.code, w.score, w.rank, w.change, w.interview)
		}
	}
}

func value(t *testing.T, r healthcode.RankingRow, id string) *float64 {
	t.Helper()
	for _, v := range r.Values {
		if v.Indicator == id {
			return v.Value
		}
	}
	t.Fatalf("%s has no %s", r.RegionCode, id)
	return nil
}

func TestRankingHandComputed(t *testing.T) {
	t.Parallel()
	svc, pool := rankingSetup(t, healthcode.Grant{ID: 1, StaffID: 1, Role: healthcode.RoleSupervisor, RegionCode: "61"})
	rankingFixture(t, pool)
	rows, err := svc.Rankings(staffCtx(1), rankingWeek, healthcode.LevelCity, "")
	if err != nil {
		t.Fatal(err)
	}
	checkRanking(t, rows)
	byCode := map[string]healthcode.RankingRow{}
	for _, r := range rows {
		byCode[r.RegionCode] = r
	}
	for _, c := range []struct {
		code, ind string
		want      any
	}{
		{"6101", healthcode.IndCoverage, 85.0}, {"6104", healthcode.IndCoverage, 80.0}, {"6101", healthcode.IndHotlineOverdue, 4.0},
		{"6105", healthcode.IndDeviationsOpen, 8.0}, {"6102", healthcode.IndDeviationsOpen, 0.0}, {"6106", healthcode.IndWeeklyReport, nil},
		{"6109", healthcode.IndWeeklyReport, 0.0}, {"6101", healthcode.IndHotlineSatisfaction, nil},
	} {
		var got any
		if v := value(t, byCode[c.code], c.ind); v != nil {
			got = *v
		}
		if got != c.want {
			t.Errorf("%s %s = %v, want %v", c.code, c.ind, got, c.want)
		}
	}
	if r := byCode["6107"].InterviewReasons; r[0] != "健康码覆盖率 55.00% 低于底线 60.00%" {
		t.Errorf("6107 reasons %q", r)
	}
	if r := byCode["6104"].InterviewReasons; r[0] != "得分排名后2位（第10名）" {
		t.Errorf("6104 reasons %q", r)
	}
	if _, err := svc.Rankings(staffCtx(1), rankingWeek.AddDate(0, 0, 1), healthcode.LevelCity, ""); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("a Tuesday: %v, want INVALID", err)
	}
	if !byCode["6102"].Tied || !byCode["6103"].Tied || byCode["6101"].Tied || byCode["6102"].TieAtCut {
		t.Errorf("tie flags: 6102 %+v, 6103 %+v", byCode["6102"], byCode["6103"])
	}
	// The fixture has rows on Monday, Tuesday, Thursday, Friday and Sunday.
	rk, err := svc.Ranking(staffCtx(1), rankingWeek, healthcode.LevelCity, "")
	if err != nil {
		t.Fatal(err)
	}
	checkRanking(t, rk.Rows)
	wantNotes := []string{"该周有 2 天的指标尚未计算（11月18日、11月21日），排名依据其余 5 天的数据。"}
	if rk.State != healthcode.RankingPartial || rk.DaysWithData != 5 || fmt.Sprint(rk.Notes) != fmt.Sprint(wantNotes) || rk.Parent != "61" {
		t.Errorf("ranking %s, %d days, notes %q", rk.State, rk.DaysWithData, rk.Notes)
	}
}

// Supervisors and province administrators see the city ranking; a city's
// administrator sees only the county ranking of that city; residents and
// callers without a session see none.
func TestRankingScope(t *testing.T) {
	t.Parallel()
	svc, pool := rankingSetup(t,
		healthcode.Grant{ID: 1, StaffID: 1, Role: healthcode.RoleSupervisor, RegionCode: "61"},
		healthcode.Grant{ID: 2, StaffID: 2, Role: healthcode.RoleAdmin, RegionCode: "6101"},
		healthcode.Grant{ID: 3, StaffID: 3, Role: healthcode.RoleAdmin, RegionCode: "610113"},
		healthcode.Grant{ID: 4, StaffID: 4, Role: healthcode.RoleOperator, RegionCode: "61"},
	)
	rankingFixture(t, pool)
	counties, err := svc.Rankings(staffCtx(2), rankingWeek, healthcode.LevelCounty, "6101")
	if err != nil {
		t.Fatal(err)
	}
	if len(counties) != 13 {
		t.Fatalf("%d counties of 6101, want 13", len(counties))
	}
	for _, r := range counties {
		if v := value(t, r, healthcode.IndWeeklyReport); v != nil {
			t.Errorf("county %s has a city-only value %v", r.RegionCode, *v)
		}
	}
	for _, c := range []struct {
		ctx    context.Context
		level  healthcode.Level
		parent string
		want   string
	}{
		{staffCtx(1), healthcode.LevelCounty, "6105", ""},
		{staffCtx(2), healthcode.LevelCity, "", healthcode.EFORBIDDEN},
		{staffCtx(2), healthcode.LevelCounty, "6102", healthcode.EFORBIDDEN},
		{staffCtx(3), healthcode.LevelCounty, "6101", healthcode.EFORBIDDEN},
		{staffCtx(4), healthcode.LevelCity, "", healthcode.EFORBIDDEN},
		{staffCtx(1), healthcode.LevelCounty, "", healthcode.EINVALID},
		{staffCtx(1), healthcode.LevelStreet, "6101", healthcode.EINVALID},
		{healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorResident, ID: 9}), healthcode.LevelCity, "", healthcode.EFORBIDDEN},
		{context.Background(), healthcode.LevelCity, "", healthcode.EUNAUTHENTICATED},
	} {
		if _, err := svc.Rankings(c.ctx, rankingWeek, c.level, c.parent); healthcode.ErrorCode(err) != c.want {
			t.Errorf("%s %s: %v, want %q", c.level, c.parent, err, c.want)
		}
	}
}

// A published report keeps its rows when the indicators are recomputed; the
// Friday task does not store a second one; a generation on demand adds a
// revision with the new figures.
func TestRankingReportFrozen(t *testing.T) {
	t.Parallel()
	svc, pool := rankingSetup(t,
		healthcode.Grant{ID: 1, StaffID: 1, Role: healthcode.RoleSupervisor, RegionCode: "61"},
		healthcode.Grant{ID: 2, StaffID: 2, Role: healthcode.RoleAdmin, RegionCode: "6101"},
	)
	rankingFixture(t, pool)
	system := healthcode.NewContextWithActor(context.Background(), healthcode.SystemActor)
	if n, err := svc.GenerateWeek(system, rankingWeek); err != nil || n != 11 {
		t.Fatalf("generate week: %d, %v", n, err)
	}
	first, err := svc.GenerateRankingReport(system, rankingWeek, healthcode.LevelCity, "", true)
	if err != nil {
		t.Fatal(err)
	}
	checkRanking(t, first.Rows)
	if first.Revision != 1 || first.GeneratedBy != "system" || first.Policy.Interviews != 2 || first.ParentName != "陕西省" {
		t.Fatalf("report %+v", first)
	}
	// 6104's coverage is recomputed as 100%.
	insertIndicators(t, pool, []indicatorRow{{0, healthcode.IndCoverage, "610402", 95, 95}, {6, healthcode.IndCoverage, "610402", 95, 95}})
	if n, err := svc.GenerateWeek(system, rankingWeek); err != nil || n != 11 {
		t.Fatalf("generate week again: %d, %v", n, err)
	}
	second, err := svc.GenerateRankingReport(staffCtx(1), rankingWeek, healthcode.LevelCity, "61", false)
	if err != nil {
		t.Fatal(err)
	}
	if second.Revision != 2 || second.ID == first.ID || second.Rows[9].RegionCode == "6104" {
		t.Fatalf("second report: revision %d, last %s", second.Revision, second.Rows[9].RegionCode)
	}
	reports, err := svc.RankingReports(staffCtx(1), rankingWeek)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 12 {
		t.Fatalf("%d reports, want 12 (two city revisions and ten county reports)", len(reports))
	}
	for _, r := range reports {
		if r.ID == first.ID {
			checkRanking(t, r.Rows)
		}
	}
	// The Xi'an administrator lists Xi'an's county report only and may not
	// generate reports.
	if reports, err := svc.RankingReports(staffCtx(2), time.Time{}); err != nil || len(reports) != 1 || reports[0].Parent != "6101" {
		t.Fatalf("xi'an admin lists %d reports, %v", len(reports), err)
	}
	if _, err := svc.GenerateRankingReport(staffCtx(2), rankingWeek, healthcode.LevelCounty, "6101", false); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Fatalf("city admin generates: %v", err)
	}
	if _, err := svc.ExportRankingReport(staffCtx(2), first.ID, "xlsx"); healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		t.Fatalf("city admin exports the city report: %v", err)
	}
	if _, err := svc.ExportRankingReport(staffCtx(1), first.ID+1000, "xlsx"); healthcode.ErrorCode(err) != healthcode.ENOTFOUND {
		t.Fatalf("export of a missing report: %v", err)
	}
}
