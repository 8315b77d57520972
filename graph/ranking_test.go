package graph_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthcode/graph/apitest"
	"healthcode/ranking"
)

// rankingRows writes coverage rows (numerator, denominator) of cities on a
// day; nothing else, so under the default policy a city's score is its
// coverage.
func rankingRows(t *testing.T, b *apitest.Bundle, day string, rows map[string][2]float64) {
	t.Helper()
	indicatorRows(t, b, "COVERAGE", day, 1, rows)
}

// indicatorRows writes rows (numerator, denominator) of an indicator for
// regions on days consecutive days from day.
func indicatorRows(t *testing.T, b *apitest.Bundle, indicator, day string, days int, rows map[string][2]float64) {
	t.Helper()
	for region, nd := range rows {
		if _, err := b.Pool.Exec(context.Background(), `INSERT INTO indicator_daily (day, indicator, region_code, region_path, numerator, denominator, computed_at)
			SELECT d::date, $2, code, path, $3, $4, now() FROM regions, generate_series($1::date, $1::date + $6::int - 1, '1 day') AS d
			WHERE code = $5`, day, indicator, nd[0], nd[1], region, days); err != nil {
			t.Fatal(err)
		}
	}
}

// rankingNow is the time of the ranking tests: Thursday 3 December 2026.
var rankingNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func download(t *testing.T, b *apitest.Bundle, token, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	return rec
}

// A supervisor ranks the cities and publishes the report; the workbook and
// the printable page hold the expected table; residents, callers without a
// session and a city's administrator (for the city ranking) are refused.
func TestRankingsAndReportDownloads(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(rankingNow)
	_, supervisor := b.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	_, xian := b.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	_, resident := b.CreateResident(t, "13800138000")
	// The ranked week (16–22 November 2026): 西安 90%, 宝鸡 70%, 铜川 50%;
	// the week before: 铜川 90%, 西安 50%; other cities have no rows.
	rankingRows(t, b, "2026-11-18", map[string][2]float64{"6101": {90, 100}, "6103": {70, 100}, "6102": {50, 100}})
	rankingRows(t, b, "2026-11-10", map[string][2]float64{"6102": {90, 100}, "6101": {50, 100}})

	const query = `query($l: Level!, $p: String) { rankings(week: "2026-11-16", level: $l, parent: $p) {
		regionCode regionName score rank previousRank rankChange interview interviewReasons values { indicator value } } }`
	rows := b.Do(t, supervisor, query, map[string]any{"l": "CITY"}).MustData(t)["rankings"].([]any)
	first := rows[0].(map[string]any)
	if len(rows) != 10 || first["regionCode"] != "6101" || first["score"] != 90.0 || first["rankChange"] != 1.0 ||
		first["values"].([]any)[0].(map[string]any)["value"] != 90.0 {
		t.Fatalf("first of %d rows: %v", len(rows), first)
	}
	for _, c := range []struct {
		token string
		vars  map[string]any
		want  string
	}{
		{resident, map[string]any{"l": "CITY"}, "FORBIDDEN"},
		{"", map[string]any{"l": "CITY"}, "UNAUTHENTICATED"},
		{xian, map[string]any{"l": "CITY"}, "FORBIDDEN"},
		{xian, map[string]any{"l": "COUNTY", "p": "6102"}, "FORBIDDEN"},
		{xian, map[string]any{"l": "COUNTY", "p": "6101"}, ""},
		{supervisor, map[string]any{"l": "STREET", "p": "6101"}, "INVALID"},
	} {
		if got := b.Do(t, c.token, query, c.vars).Code(); got != c.want {
			t.Errorf("%v: code %q, want %q", c.vars, got, c.want)
		}
	}
	if got := b.Do(t, supervisor, `query { rankings(week: "2026-11-17", level: CITY) { rank } }`, nil).Code(); got != "INVALID" {
		t.Errorf("a Tuesday: %q", got)
	}

	gen := `mutation { generateRankingReport(week: "2026-11-16") { id week level revision title xlsxUrl htmlUrl policy } }`
	if got := b.Do(t, xian, gen, nil).Code(); got != "FORBIDDEN" {
		t.Fatalf("city admin generates: %q", got)
	}
	rep := b.Do(t, supervisor, gen, nil).MustData(t)["generateRankingReport"].(map[string]any)
	if rep["week"] != "2026-11-16" || rep["level"] != "CITY" || rep["revision"] != 1.0 ||
		rep["policy"].(map[string]any)["interviews"] != 1.0 || !strings.HasSuffix(rep["xlsxUrl"].(string), ".xlsx") {
		t.Fatalf("report %v", rep)
	}
	list := b.Do(t, supervisor, `query { rankingReports(week: "2026-11-16") { id } }`, nil).MustData(t)["rankingReports"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != rep["id"] {
		t.Fatalf("reports %v", list)
	}

	// The workbook, read back as a read-only reader does: its dimension
	// covers the header, the ten cities and the two notes after an empty row.
	rec := download(t, b, supervisor, rep["xlsxUrl"].(string))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), "ranking-2026-11-16-CITY-61-r1.xlsx") {
		t.Fatalf("download: %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	sheet := readSheetXLSX(t, rec.Body.Bytes(), "排名通报")
	const cols = 3 + 15 + 3
	if sheet.Dimension != "A1:U14" {
		t.Errorf("dimension %q, want A1:U14", sheet.Dimension)
	}
	row := func(cells ...string) []string { // rank, region, score, coverage, change, interview, note
		out := make([]string, cols)
		out[0], out[1], out[2], out[3], out[cols-3], out[cols-2], out[cols-1] = cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
		return out
	}
	note := func(s string) []string { return append([]string{s}, make([]string, cols-1)...) }
	const noData = "无数据：本地区该周没有任何指标数据（未产生或未上报数据）"
	header := []string{"排名", "地区", "得分", "健康码覆盖率(%)", "覆盖率增长(%)", "每千人扫码查验数", "查验场所类型覆盖率(%)",
		"数据推送及时率(%)", "周报按时报送率(%)", "联席会议名单按时报送率(%)", "12320响应率(%)", "12320办结率(%)", "12320满意率(%)",
		"12320超期件数", "12320退回率(%)", "12320重办率(%)", "未纠正偏差数", "已纠正偏差数", "名次变化", "约谈", "说明"}
	want := [][]string{header,
		row("1", "西安市", "90", "90", "+1", "", ""),
		row("2", "宝鸡市", "70", "70", "—", "", ""),
		row("3", "铜川市", "50", "50", "-2", "是：得分排名后1位（第3名）；健康码覆盖率 50.00% 低于底线 60.00%", ""),
		row("", "咸阳市", "", "", "—", "", noData),
		row("", "渭南市", "", "", "—", "", noData),
		row("", "延安市", "", "", "—", "", noData),
		row("", "汉中市", "", "", "—", "", noData),
		row("", "榆林市", "", "", "—", "", noData),
		row("", "安康市", "", "", "—", "", noData),
		row("", "商洛市", "", "", "—", "", noData),
		make([]string, cols),
		note("注1：该周有 6 天的指标尚未计算（11月16日、11月17日、11月19日、11月20日、11月21日、11月22日），排名依据其余 1 天的数据。"),
		note("注2：咸阳市、渭南市、延安市、汉中市、榆林市、安康市、商洛市：本地区该周没有任何指标数据（未产生或未上报数据），不排名，不因排名列入约谈。"),
	}
	got := sheet.Rows
	if len(got) != len(want) || sheet.Outside != 0 {
		t.Fatalf("%d rows in the sheet's dimension (%d cells outside it), want %d: %q", len(got), sheet.Outside, len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}

	// The printable page.
	rec = download(t, b, supervisor, rep["htmlUrl"].(string))
	page := rec.Body.String()
	for _, s := range []string{"<table>", "<th>排名</th>", "<th>约谈</th>", "<th>说明</th>", "<td>西安市</td>", "<td>90.00</td>",
		"是：得分排名后1位（第3名）", "全省各市健康码工作排名通报（2026年11月16日—11月22日，第1版）", "@media print",
		`<tr class="nodata"><td>—</td><td>商洛市</td><td>无数据</td>`, "<li>该周有 6 天的指标尚未计算"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	style := page[strings.Index(page, "<style>")+len("<style>") : strings.Index(page, "</style>")]
	sum := sha256.Sum256([]byte(style))
	if csp := rec.Header().Get("Content-Security-Policy"); csp != ranking.HTMLContentSecurityPolicy ||
		!strings.Contains(csp, base64.StdEncoding.EncodeToString(sum[:])) {
		t.Errorf("CSP %q does not allow the page's style", csp)
	}

	// Same rules as the query.
	for _, c := range []struct {
		token, path string
		want        int
	}{
		{"", rep["htmlUrl"].(string), http.StatusUnauthorized},
		{resident, rep["xlsxUrl"].(string), http.StatusForbidden},
		{xian, rep["xlsxUrl"].(string), http.StatusForbidden},
		{supervisor, "/reports/rankings/99999.xlsx", http.StatusNotFound},
		{supervisor, "/reports/rankings/1.pdf", http.StatusNotFound},
	} {
		if rec := download(t, b, c.token, c.path); rec.Code != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, rec.Code, c.want)
		}
	}
}

// The counties of 西安: 新城 and 碑林 ahead, the other eleven tied at 11.76
// (2 of 17 checkpoint types, the only indicator with rows). With N = 1 the
// tie spans the interview cut: the eleven share rank 3 and none of them is
// flagged for it (周至县 used to be, by its code); the ranking, the report,
// its workbook and its page say so.
func TestRankingTieAtCut(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(rankingNow)
	_, supervisor := b.CreateStaff(t, "tie_supervisor", "61", apitest.G("SUPERVISOR@61"))
	tied := []string{"610104", "610111", "610112", "610113", "610114", "610115", "610116", "610117", "610118", "610122", "610124"}
	rows := map[string][2]float64{"610102": {17, 17}, "610103": {10, 17}}
	for _, c := range tied {
		rows[c] = [2]float64{2, 17}
	}
	indicatorRows(t, b, "CHECKPOINT_TYPES", "2026-11-16", 7, rows)

	got := b.Do(t, supervisor, `query { rankings(week: "2026-11-16", level: COUNTY, parent: "6101") {
		regionCode regionName rank score interview interviewReasons } }`, nil).MustData(t)["rankings"].([]any)
	if len(got) != 13 {
		t.Fatalf("%d counties", len(got))
	}
	for _, r := range got {
		r := r.(map[string]any)
		wantRank, wantScore := 3.0, 11.76
		switch r["regionCode"] {
		case "610102":
			wantRank, wantScore = 1, 100
		case "610103":
			wantRank, wantScore = 2, 58.82
		}
		if r["rank"] != wantRank || r["score"] != wantScore || r["interview"] != false {
			t.Errorf("%s: rank %v score %v interview %v %v; want rank %v score %v, no interview",
				r["regionName"], r["rank"], r["score"], r["interview"], r["interviewReasons"], wantRank, wantScore)
		}
	}

	const tieNote = "莲湖区、灞桥区、未央区、雁塔区、阎良区、临潼区、长安区、高陵区、鄠邑区、蓝田县、周至县共 11 个地区得分同为 11.76，" +
		"并列第3名，跨越约谈线（得分排名后1位）：均不因得分排名列入约谈。"
	rk := b.Do(t, supervisor, `query { ranking(week: "2026-11-16", level: COUNTY, parent: "6101") {
		week level parent state daysWithData notes rows { regionCode rank tied tieAtCut noData { reason } } } }`, nil).MustData(t)["ranking"].(map[string]any)
	if rk["state"] != "RANKED" || rk["daysWithData"] != 7.0 || rk["parent"] != "6101" || rk["week"] != "2026-11-16" ||
		len(rk["notes"].([]any)) != 1 || rk["notes"].([]any)[0] != tieNote {
		t.Fatalf("ranking %v %v %v, notes %q", rk["state"], rk["daysWithData"], rk["parent"], rk["notes"])
	}
	for _, r := range rk["rows"].([]any) {
		r := r.(map[string]any)
		inTie := r["rank"] == 3.0
		if r["tied"] != inTie || r["tieAtCut"] != inTie || r["noData"] != nil {
			t.Errorf("%v: tied %v, tie at cut %v, no data %v", r["regionCode"], r["tied"], r["tieAtCut"], r["noData"])
		}
	}

	rep := b.Do(t, supervisor, `mutation { generateRankingReport(week: "2026-11-16", level: COUNTY, parent: "6101") {
		state daysWithData notes xlsxUrl htmlUrl rows { regionName rank interview tieAtCut } } }`, nil).MustData(t)["generateRankingReport"].(map[string]any)
	if rep["state"] != "RANKED" || rep["daysWithData"] != 7.0 || len(rep["notes"].([]any)) != 1 || rep["notes"].([]any)[0] != tieNote {
		t.Fatalf("report %v", rep)
	}
	sheet := readSheetXLSX(t, download(t, b, supervisor, rep["xlsxUrl"].(string)).Body.Bytes(), "排名通报")
	if sheet.Dimension != "A1:U16" || sheet.Outside != 0 || sheet.Rows[15][0] != "注1："+tieNote {
		t.Fatalf("workbook: dimension %s, %d cells outside, last row %q", sheet.Dimension, sheet.Outside, sheet.Rows[len(sheet.Rows)-1])
	}
	for _, r := range sheet.Rows[3:14] { // the eleven tied counties
		if r[0] != "3" || r[19] != "" || r[20] != "11个地区同分并列第3名，跨越约谈线，均不因得分排名约谈" {
			t.Errorf("workbook row %q", r)
		}
	}
	page := download(t, b, supervisor, rep["htmlUrl"].(string)).Body.String()
	for _, s := range []string{"<li>" + tieNote + "</li>", "<td>3</td><td>周至县</td><td>11.76</td>",
		"11个地区同分并列第3名，跨越约谈线，均不因得分排名约谈", "如 1、2、2、4"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, `class="interview"`) {
		t.Errorf("page flags a county")
	}
}

// A week without computed indicators ranks nobody and flags nobody (商洛市
// used to be last with a score of 0 and flagged); a week that has not
// started says so even if rows exist for it; in a week with data, a city
// with zeros is ranked and flagged while cities without rows (or without a
// scored indicator) are listed as no data.
func TestRankingNoData(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(rankingNow)
	_, supervisor := b.CreateStaff(t, "nodata_supervisor", "61", apitest.G("SUPERVISOR@61"))
	// 23–29 November: 宝鸡 80 %, 西安 0 % every day, 渭南 only coverage
	// growth (weight 0); a stray row of 7–13 December (not started yet).
	indicatorRows(t, b, "COVERAGE", "2026-11-23", 7, map[string][2]float64{"6103": {80, 100}, "6101": {0, 100}})
	indicatorRows(t, b, "COVERAGE_GROWTH", "2026-11-23", 7, map[string][2]float64{"6105": {1, 100}})
	indicatorRows(t, b, "COVERAGE", "2026-12-08", 1, map[string][2]float64{"6101": {90, 100}})

	const query = `query($w: Date!) { rankings(week: $w, level: CITY) { regionCode regionName rank score interview interviewReasons
		noData { reason message } } ranking(week: $w, level: CITY) { state daysWithData notes } }`
	type row struct {
		rank, score any
		interview   bool
		noData      string
	}
	check := func(week string, want map[string]row, state string, days float64, notes ...string) {
		t.Helper()
		data := b.Do(t, supervisor, query, map[string]any{"w": week}).MustData(t)
		for _, r := range data["rankings"].([]any) {
			r := r.(map[string]any)
			w, ok := want[r["regionCode"].(string)]
			if !ok {
				w = want["*"]
			}
			reason := ""
			if nd, _ := r["noData"].(map[string]any); nd != nil {
				reason = nd["reason"].(string)
			}
			if r["rank"] != w.rank || r["score"] != w.score || r["interview"] != w.interview || reason != w.noData {
				t.Errorf("%s %s: rank %v score %v interview %v %v no data %v; want %+v",
					week, r["regionName"], r["rank"], r["score"], r["interview"], r["interviewReasons"], r["noData"], w)
			}
		}
		rk := data["ranking"].(map[string]any)
		gotNotes := fmt.Sprint(rk["notes"])
		if rk["state"] != state || rk["daysWithData"] != days || gotNotes != fmt.Sprint(notes) {
			t.Errorf("%s: state %v, %v days, notes %s; want %s, %v, %q", week, rk["state"], rk["daysWithData"], gotNotes, state, days, notes)
		}
	}
	check("2026-11-16", map[string]row{"*": {nil, nil, false, "NOT_COMPUTED"}}, "NO_DATA", 0,
		"该周（11月16日—11月22日）的指标尚未计算，没有数据：不排名，不列入约谈。")
	check("2026-12-07", map[string]row{"*": {nil, nil, false, "WEEK_NOT_STARTED"}}, "NO_DATA", 0,
		"该周（12月7日—12月13日）尚未开始，没有数据：不排名，不列入约谈。")
	check("2026-11-23", map[string]row{
		"6103": {1.0, 80.0, false, ""},
		"6101": {2.0, 0.0, true, ""},
		"6105": {nil, nil, false, "NO_SCORED_DATA"},
		"*":    {nil, nil, false, "NO_REGION_DATA"},
	}, "RANKED", 7,
		"铜川市、咸阳市、延安市、汉中市、榆林市、安康市、商洛市：本地区该周没有任何指标数据（未产生或未上报数据），不排名，不因排名列入约谈。",
		"渭南市：本地区该周没有计分指标的数据，不排名，不因排名列入约谈。")
	// The current week (Monday 30 November to Thursday 3 December) has no row either.
	check("2026-11-30", map[string]row{"*": {nil, nil, false, "NOT_COMPUTED"}}, "NO_DATA", 0,
		"该周（11月30日—12月6日）的指标尚未计算，没有数据：不排名，不列入约谈。")

	// The report of the week without data, and its renderings.
	rep := b.Do(t, supervisor, `mutation { generateRankingReport(week: "2026-11-16") { state daysWithData notes xlsxUrl htmlUrl
		rows { rank score interview noData { reason message } } } }`, nil).MustData(t)["generateRankingReport"].(map[string]any)
	if rep["state"] != "NO_DATA" || rep["daysWithData"] != 0.0 || len(rep["notes"].([]any)) != 1 {
		t.Fatalf("report %v", rep)
	}
	for _, r := range rep["rows"].([]any) {
		r := r.(map[string]any)
		if r["rank"] != nil || r["score"] != nil || r["interview"] != false ||
			r["noData"].(map[string]any)["message"] != "该周的指标尚未计算，没有数据" {
			t.Errorf("report row %v", r)
		}
	}
	listed := b.Do(t, supervisor, `query { rankingReports(week: "2026-11-16") { state daysWithData notes } }`, nil).MustData(t)["rankingReports"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["state"] != "NO_DATA" || fmt.Sprint(listed[0].(map[string]any)["notes"]) != fmt.Sprint(rep["notes"]) {
		t.Fatalf("listed %v", listed)
	}
	sheet := readSheetXLSX(t, download(t, b, supervisor, rep["xlsxUrl"].(string)).Body.Bytes(), "排名通报")
	if sheet.Dimension != "A1:U13" || sheet.Outside != 0 {
		t.Fatalf("dimension %s, %d cells outside", sheet.Dimension, sheet.Outside)
	}
	for _, r := range sheet.Rows[1:11] {
		if r[0] != "" || r[2] != "" || r[18] != "—" || r[19] != "" || r[20] != "无数据：该周的指标尚未计算，没有数据" {
			t.Errorf("workbook row %q", r)
		}
	}
	if sheet.Rows[12][0] != "注1：该周（11月16日—11月22日）的指标尚未计算，没有数据：不排名，不列入约谈。" {
		t.Errorf("workbook note %q", sheet.Rows[12])
	}
	page := download(t, b, supervisor, rep["htmlUrl"].(string)).Body.String()
	for _, s := range []string{`<tr class="nodata"><td>—</td><td>商洛市</td><td>无数据</td>`, "无数据：该周的指标尚未计算，没有数据",
		"<li>该周（11月16日—11月22日）的指标尚未计算，没有数据：不排名，不列入约谈。</li>"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, `class="interview"`) || strings.Contains(page, "是：") {
		t.Errorf("page flags a city")
	}
}
