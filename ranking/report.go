package ranking

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"healthcode"
)

// Header returns the header row of a report table: 排名, 地区, 得分, every
// indicator's name (with its unit), 名次变化, 约谈, 说明.
func Header() []string {
	h := []string{"排名", "地区", "得分"}
	for _, ind := range healthcode.Indicators {
		h = append(h, ColumnName(ind))
	}
	return append(h, "名次变化", "约谈", "说明")
}

// ColumnName is an indicator's column heading: its name, with (%) for
// percentages.
func ColumnName(ind healthcode.Indicator) string {
	if ind.Kind == healthcode.IndicatorRatio && ind.Scale == 100 {
		return ind.Name + "(%)"
	}
	return ind.Name
}

// Change renders a rank change: +2 (up two places), -1, 0, or — when the
// region was not ranked the week before.
func Change(r healthcode.RankingRow) string {
	switch {
	case r.RankChange == nil:
		return "—"
	case *r.RankChange > 0:
		return "+" + strconv.Itoa(*r.RankChange)
	}
	return strconv.Itoa(*r.RankChange)
}

// Interview renders the interview column: 是：reasons, or empty.
func Interview(r healthcode.RankingRow) string {
	if !r.Interview {
		return ""
	}
	return "是：" + strings.Join(r.InterviewReasons, "；")
}

// RowNote renders the 说明 column of rows[i]: 无数据：why for a region
// without a score; for a tie, 并列第k名 (with the number of regions sharing
// the score) and, when the tie spans the interview cut, that none of them is
// flagged for the rank.
func RowNote(rows []healthcode.RankingRow, i int) string {
	r := rows[i]
	if r.NoData != nil {
		return "无数据：" + r.NoData.Message
	}
	if !r.Tied {
		return ""
	}
	n := 0
	for _, o := range rows {
		if o.NoData == nil && o.Rank == r.Rank {
			n++
		}
	}
	note := fmt.Sprintf("%d个地区同分并列第%d名", n, r.Rank)
	if r.TieAtCut {
		note += "，跨越约谈线，均不因得分排名约谈"
	}
	return note
}

// Title is the report's Chinese title, e.g. 全省各市健康码工作排名通报
// （2026年11月16日—11月22日，第1版）.
func Title(r *healthcode.RankingReport) string {
	scope := "全省各市"
	if r.Level == healthcode.LevelCounty {
		scope = r.ParentName + "各县（市、区）"
	}
	end := r.Week.AddDate(0, 0, 6)
	return fmt.Sprintf("%s健康码工作排名通报（%s—%s，第%d版）", scope, r.Week.Format("2006年1月2日"), end.Format("1月2日"), r.Revision)
}

// WriteXLSX writes the report as a workbook with one sheet, 排名通报: the
// header row, then one row per region in the report's order (values as
// numbers, empty where a region has no value; rank and score empty for a
// region without data), then, after an empty row, the report's notes (注1：…)
// in column A. The sheet's dimension is the range actually used, so readers
// that trust it (read-only modes) see every row. Errors: write failures.
func WriteXLSX(w io.Writer, r *healthcode.RankingReport) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "排名通报"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: Title(r), Creator: "陕西健康码平台",
		Created: r.GeneratedAt.UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	header := make([]any, 0, len(Header()))
	for _, h := range Header() {
		header = append(header, h)
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	last := 1 // the last row written
	for i, row := range r.Rows {
		var rank, score any = row.Rank, row.Score
		if row.NoData != nil {
			rank, score = nil, nil
		}
		cells := []any{rank, row.RegionName, score}
		for _, v := range row.Values {
			if v.Value == nil {
				cells = append(cells, nil)
			} else {
				cells = append(cells, *v.Value)
			}
		}
		cells = append(cells, Change(row), Interview(row), RowNote(r.Rows, i))
		last = i + 2
		if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(last), &cells); err != nil {
			return err
		}
	}
	if len(r.Notes) > 0 {
		last++ // an empty row between the table and the notes
		for i, note := range r.Notes {
			last++
			if err := f.SetCellStr(sheet, "A"+strconv.Itoa(last), fmt.Sprintf("注%d：%s", i+1, note)); err != nil {
				return err
			}
		}
	}
	lastCol, err := excelize.ColumnNumberToName(len(header))
	if err != nil {
		return err
	}
	// excelize leaves a new sheet's dimension at A1 whatever is written.
	if err := f.SetSheetDimension(sheet, "A1:"+lastCol+strconv.Itoa(last)); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// reportStyle is the page's only style sheet, inline; HTMLContentSecurityPolicy
// allows exactly it.
const reportStyle = `
body { font-family: "Noto Serif CJK SC", "SimSun", serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; text-align: center; }
p.meta { text-align: center; color: #444; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #000; padding: 0.25em 0.4em; text-align: center; }
th { background: #eee; }
tr.interview td { background: #fde8e8; font-weight: bold; }
tr.nodata td { color: #666; }
td.reasons { text-align: left; font-weight: normal; }
ol.notes li { margin: 0.2em 0; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr { page-break-inside: avoid; }
  thead { display: table-header-group; }
}
`

// HTMLContentSecurityPolicy is the Content-Security-Policy header to send
// with WriteHTML's page: nothing but its inline style sheet.
var HTMLContentSecurityPolicy = func() string {
	sum := sha256.Sum256([]byte(reportStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">生成时间：{{.GeneratedAt}}　生成者：{{or .Report.GeneratorText .Report.GeneratedBy}}</p>
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Interview}} class="interview"{{else if .NoData}} class="nodata"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}<td>{{.Change}}</td><td class="reasons">{{.Reasons}}</td><td class="reasons">{{.Note}}</td></tr>
{{end}}</tbody>
</table>
{{if .Report.Notes}}<h2>说明</h2>
<ol class="notes">
{{range .Report.Notes}}<li>{{.}}</li>
{{end}}</ol>
{{end}}<h2>评分办法</h2>
<p>各指标折算为 0–100 分（比率按百分数计，封顶 100，越低越好的取 100 减其值；其余指标在参评地区间按最小值—最大值线性折算），
按权重加权平均；地区缺少的指标不计，其权重按比例分摊。没有任何计分指标数据的地区不计分、不排名、不因排名约谈，注明“无数据”及原因。
得分相同者名次并列，其后名次顺延（如 1、2、2、4）。与之同分及得分更低的地区合计不超过 {{.Report.Policy.Interviews}} 个的地区（得分排名后 {{.Report.Policy.Interviews}} 位），
以及任一指标越过底线的地区，列入约谈；同分并列而跨越约谈线的地区均不因得分排名约谈。</p>
<table>
<thead><tr><th>指标</th><th>权重</th><th>底线</th></tr></thead>
<tbody>
{{range .Policy}}<tr><td>{{.Name}}</td><td>{{.Weight}}</td><td>{{.Floor}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// WriteHTML writes the report as a printable Chinese HTML page (A4
// landscape): the table of WriteXLSX with the interview rows highlighted and
// the rows without data greyed, the report's notes, and the policy it was
// scored under. Send it with
// HTMLContentSecurityPolicy. Errors: write failures.
func WriteHTML(w io.Writer, r *healthcode.RankingReport) error {
	type row struct {
		Interview, NoData     bool
		Cells                 []string
		Change, Reasons, Note string
	}
	type policyRow struct{ Name, Weight, Floor string }
	data := struct {
		Title, GeneratedAt string
		Style              template.CSS
		Report             *healthcode.RankingReport
		Header             []string
		Rows               []row
		Policy             []policyRow
	}{Title: Title(r), GeneratedAt: r.GeneratedAt.In(healthcode.CST).Format("2006-01-02 15:04"),
		Style: template.CSS(reportStyle), Report: r, Header: Header()}
	for i, rr := range r.Rows {
		cells := []string{strconv.Itoa(rr.Rank), rr.RegionName, strconv.FormatFloat(rr.Score, 'f', 2, 64)}
		if rr.NoData != nil {
			cells[0], cells[2] = "—", "无数据"
		}
		for _, v := range rr.Values {
			if v.Value == nil {
				cells = append(cells, "—")
			} else {
				cells = append(cells, strconv.FormatFloat(*v.Value, 'f', 2, 64))
			}
		}
		data.Rows = append(data.Rows, row{Interview: rr.Interview, NoData: rr.NoData != nil, Cells: cells, Change: Change(rr),
			Reasons: Interview(rr), Note: RowNote(r.Rows, i)})
	}
	for _, ind := range healthcode.Indicators {
		pr := policyRow{Name: ind.Name, Weight: strconv.FormatFloat(r.Policy.Weights[ind.ID], 'f', -1, 64), Floor: "—"}
		if f, ok := r.Policy.Floors[ind.ID]; ok {
			pr.Floor = Format(ind, f)
			if !ind.HigherIsBetter {
				pr.Floor = "不高于 " + pr.Floor
			}
		}
		data.Policy = append(data.Policy, pr)
	}
	return pageTemplate.Execute(w, data)
}
