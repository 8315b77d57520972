package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"healthcode/graph/apitest"
	"healthcode/ranking"
)

// rankingRows writes coverage rows (numerator, denominator) of cities on a
// day; nothing else, so under the default policy a city's score is its
// coverage.
func rankingRows(t *testing.T, b *apitest.Bundle, day string, rows map[string][2]float64) {
	t.Helper()
	for city, nd := range rows {
		if _, err := b.Pool.Exec(context.Background(), `INSERT INTO indicator_daily (day, indicator, region_code, region_path, numerator, denominator, computed_at)
			SELECT $1::date, 'COVERAGE', code, path, $2, $3, now() FROM regions WHERE code = $4`, day, nd[0], nd[1], city); err != nil {
			t.Fatal(err)
		}
	}
}

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

	// The workbook, read back.
	rec := download(t, b, supervisor, rep["xlsxUrl"].(string))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), "ranking-2026-11-16-CITY-61-r1.xlsx") {
		t.Fatalf("download: %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != "排名通报" {
		t.Fatalf("sheets %v", sheets)
	}
	got, err := f.GetRows("排名通报")
	if err != nil {
		t.Fatal(err)
	}
	const cols = 3 + 15 + 2
	row := func(cells ...string) []string { // rank, region, score, coverage, change, interview
		out := make([]string, cols)
		out[0], out[1], out[2], out[3], out[cols-2], out[cols-1] = cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
		return out
	}
	header := []string{"排名", "地区", "得分", "健康码覆盖率(%)", "覆盖率增长(%)", "每千人扫码查验数", "查验场所类型覆盖率(%)",
		"数据推送及时率(%)", "周报按时报送率(%)", "联席会议名单按时报送率(%)", "12320响应率(%)", "12320办结率(%)", "12320满意率(%)",
		"12320超期件数", "12320退回率(%)", "12320重办率(%)", "未纠正偏差数", "已纠正偏差数", "名次变化", "约谈"}
	want := [][]string{header,
		row("1", "西安市", "90", "90", "+1", ""),
		row("2", "宝鸡市", "70", "70", "—", ""),
		row("3", "铜川市", "50", "50", "-2", "是：健康码覆盖率 50.00% 低于底线 60.00%"),
		row("4", "咸阳市", "0", "", "—", ""),
		row("5", "渭南市", "0", "", "—", ""),
		row("6", "延安市", "0", "", "—", ""),
		row("7", "汉中市", "0", "", "—", ""),
		row("8", "榆林市", "0", "", "—", ""),
		row("9", "安康市", "0", "", "—", ""),
		row("10", "商洛市", "0", "", "—", "是：得分排名后1位（第10名）"),
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows in the sheet, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		g := append(got[i], make([]string, cols-len(got[i]))...)
		if strings.Join(g, "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i+1, g, want[i])
		}
	}

	// The printable page.
	rec = download(t, b, supervisor, rep["htmlUrl"].(string))
	page := rec.Body.String()
	for _, s := range []string{"<table>", "<th>排名</th>", "<th>约谈</th>", "<td>西安市</td>", "<td>90.00</td>",
		"是：得分排名后1位（第10名）", "全省各市健康码工作排名通报（2026年11月16日—11月22日，第1版）", "@media print"} {
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
