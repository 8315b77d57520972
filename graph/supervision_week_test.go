package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// weekCity is one city of the synthetic week and what it should score.
type weekCity struct {
	code, name string
	persons    int  // with a code, living in the city since before the week
	scansDaily int  // scans at the city's venues on each day of the week
	reportOK   bool // weekly report submitted before Friday 16:00
	// The hand-computed outcome.
	coverage, scans, score float64
	rank                   int
	interview              string
}

// A synthetic week of raw data for the ten cities — persons with codes,
// scans every day, national pushes, weekly reports — goes through the
// indicator worker's path (dirty days, RecomputeDirty) into the ranking, the
// ranking report and its workbook, and each equals the table computed by
// hand below.
//
// The census is scaled down to 10 residents per city (and 10 for 杨凌示范区,
// which counts in 咸阳: 20 there), so that coverage is persons × 10 %. Under
// the default policy the indicators with a value are coverage (weight 20),
// scans per 1,000 (10, min–max among the cities), checkpoint types (10: no
// venue, so 0 %), data timeliness (10: every push on time, 100 %), weekly
// report (10: 100 or 0), joint meeting list (5: none, deadline passed, 0 %)
// and open deviations (2: none anywhere, all equal, 100); the hotline has no
// ticket, so its weights drop out. Hence
//
//	score = (20·coverage + 10·scans' + 10·0 + 10·100 + 10·report + 5·0 + 2·100) ÷ 67
//
// Scans per 1,000 = 7·k ÷ (7·population) × 1000 = 100·k (50·k in 咸阳),
// mapped min–max over 0…400.
func TestSupervisionWeekEndToEnd(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	monday := time.Date(2026, 11, 16, 0, 0, 0, 0, cst)

	cities := []weekCity{
		{"6101", "西安市", 9, 4, true, 90, 400, 5000.0 / 67, 1, ""},
		{"6102", "铜川市", 8, 2, false, 80, 200, 3300.0 / 67, 6, ""},
		{"6103", "宝鸡市", 7, 0, true, 70, 0, 3600.0 / 67, 5, ""},
		{"6104", "咸阳市", 10, 4, false, 50, 200, 2700.0 / 67, 7, "是：健康码覆盖率 50.00% 低于底线 60.00%"},
		{"6105", "渭南市", 6, 1, false, 60, 100, 2650.0 / 67, 9, ""}, // exactly at the floor
		{"6106", "延安市", 10, 3, true, 100, 300, 4950.0 / 67, 2, ""},
		{"6107", "汉中市", 5, 2, false, 50, 200, 2700.0 / 67, 7, "是：健康码覆盖率 50.00% 低于底线 60.00%"}, // ties 咸阳: both 7th
		{"6108", "榆林市", 9, 0, true, 90, 0, 4000.0 / 67, 4, ""},
		{"6109", "安康市", 4, 1, false, 40, 100, 2250.0 / 67, 10, "是：得分排名后1位（第10名）；健康码覆盖率 40.00% 低于底线 60.00%"},
		{"6110", "商洛市", 7, 4, true, 70, 400, 4600.0 / 67, 3, ""},
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := b.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`UPDATE census_populations SET population = 10`)
	for d := 0; d < 7; d++ {
		day := monday.AddDate(0, 0, d)
		exec(`SELECT create_scan_partition($1::date)`, day.Format("2006-01-02"))
		exec(`INSERT INTO national_pushes (day, batches, records, started_at, acked_at, late) VALUES ($1, 1, 0, $2, $3, false)`,
			day, day.Add(24*time.Hour+30*time.Minute), day.Add(33*time.Hour))
	}
	person := 0
	for _, c := range cities {
		var county, path string
		if err := b.Pool.QueryRow(ctx, `SELECT code, path::text FROM regions WHERE level = 'COUNTY' AND parent_code = $1 ORDER BY code LIMIT 1`,
			c.code).Scan(&county, &path); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < c.persons; i++ {
			person++
			created := monday.AddDate(0, 0, -3)
			exec(`INSERT INTO persons (id, doc_type, doc_hash, doc_enc, doc_masked, name_enc, name_masked, residence_code,
				residence_path, address_enc, created_at, updated_at)
				VALUES ($1, 'ID_CARD', $2, '\x00', 'x', '\x00', 'x', $3, $4::text::ltree, '\x00', $5, $5)`,
				person, []byte(fmt.Sprint("doc", person)), county, path, created)
			exec(`INSERT INTO codes (person_id, colour, clauses, rule_set_version, updated_at) VALUES ($1, 'GREEN', '[]', 'v', $2)`,
				person, created)
		}
		for d := 0; d < 7; d++ {
			for k := 0; k < c.scansDaily; k++ {
				exec(`INSERT INTO scans (scan_id, scanned_at, received_at, venue_id, institution_id, inspector_id, issuer, code_id,
					colour, scan_role, fever, region_path) VALUES (gen_random_uuid(), $1, $1, 1, 1, 1, '61', 'c', 'GREEN', 'VISITOR', false, $2::text::ltree)`,
					monday.AddDate(0, 0, d).Add(time.Duration(9+k)*time.Hour), path)
			}
		}
		status, onTime, submitted := "DRAFT", false, any(nil)
		if c.reportOK {
			status, onTime, submitted = "SUBMITTED", true, monday.AddDate(0, 0, 4).Add(15*time.Hour)
		} else if c.code == "6102" {
			status, submitted = "SUBMITTED", monday.AddDate(0, 0, 4).Add(17*time.Hour) // late
		}
		if c.reportOK || c.code == "6102" || c.code == "6105" { // 渭南: a draft never submitted; the rest missing
			exec(`INSERT INTO weekly_reports (region_code, region_path, week_start, figures, status, generated_at, submitted_at, on_time)
				SELECT code, path, $2, '{}', $3, $4, $5, $6 FROM regions WHERE code = $1`,
				c.code, monday, status, monday.AddDate(0, 0, 4).Add(8*time.Hour), submitted, onTime)
		}
	}

	// The worker's path: the week's days are dirty; a pass on the Tuesday
	// after (every deadline passed) recomputes them.
	b.Clock.Set(monday.AddDate(0, 0, 8).Add(12 * time.Hour))
	for d := 0; d < 7; d++ {
		exec(`INSERT INTO indicator_dirty_days (day, marked_at) VALUES ($1, now())`, monday.AddDate(0, 0, d))
	}
	n, err := (&postgres.IndicatorService{DB: b.DB}).RecomputeDirty(ctx)
	if err != nil || n != 7 {
		t.Fatalf("recomputed %d days: %v", n, err)
	}

	// The ranking through the API.
	_, supervisor := b.CreateStaff(t, "week_supervisor", "61", apitest.G("SUPERVISOR@61"))
	data := b.Do(t, supervisor, `query { rankings(week: "2026-11-16", level: CITY) { regionCode rank score interview } }`, nil).MustData(t)
	got := data["rankings"].([]any)
	if len(got) != len(cities) {
		t.Fatalf("%d rows", len(got))
	}
	byCode := map[string]weekCity{}
	for _, c := range cities {
		byCode[c.code] = c
	}
	for _, r := range got {
		r := r.(map[string]any)
		c := byCode[r["regionCode"].(string)]
		if int(r["rank"].(float64)) != c.rank || math.Abs(r["score"].(float64)-math.Round(c.score*100)/100) > 1e-9 ||
			r["interview"] != (c.interview != "") {
			t.Errorf("%s: rank %v score %v interview %v, want %d %.2f %v", c.name, r["rank"], r["score"], r["interview"],
				c.rank, c.score, c.interview != "")
		}
	}

	// The report and its workbook.
	rep := b.Do(t, supervisor, `mutation { generateRankingReport(week: "2026-11-16") { xlsxUrl } }`, nil).MustData(t)
	rec := download(t, b, supervisor, rep["generateRankingReport"].(map[string]any)["xlsxUrl"].(string))
	if rec.Code != 200 {
		t.Fatalf("download: %d %s", rec.Code, rec.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet, err := f.GetRows("排名通报")
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet) != 1+len(cities) {
		t.Fatalf("%d rows in the sheet", len(sheet))
	}
	const cols = 3 + 15 + 3
	for _, c := range cities {
		// 排名 地区 得分, then the 15 indicators in registry order, 名次变化, 约谈, 说明.
		report := 0.0
		if c.reportOK {
			report = 100
		}
		row, tieNote := sheet[c.rank], any(nil)
		if c.code == "6104" || c.code == "6107" { // tied 7th, 咸阳 listed first
			tieNote = "2个地区同分并列第7名"
			if c.code == "6107" {
				row = sheet[c.rank+1]
			}
		}
		want := []any{c.rank, c.name, math.Round(c.score*100) / 100,
			c.coverage, 0.0, c.scans, 0.0, 100.0, report, 0.0, nil, nil, nil, nil, nil, nil, 0.0, nil,
			"—", c.interview, tieNote}
		for len(row) < cols {
			row = append(row, "")
		}
		for i, w := range want {
			cell := row[i]
			switch w := w.(type) {
			case nil:
				if cell != "" {
					t.Errorf("%s column %d: %q, want empty", c.name, i+1, cell)
				}
			case string:
				if cell != w {
					t.Errorf("%s column %d: %q, want %q", c.name, i+1, cell, w)
				}
			case int:
				if cell != strconv.Itoa(w) {
					t.Errorf("%s column %d: %q, want %d", c.name, i+1, cell, w)
				}
			case float64:
				v, err := strconv.ParseFloat(cell, 64)
				if err != nil || math.Abs(v-w) > 1e-6 {
					t.Errorf("%s column %d: %q, want %v", c.name, i+1, cell, w)
				}
			}
		}
	}
}
