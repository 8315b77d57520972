package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"healthcode"
	"healthcode/ranking"
)

// RankingReportPattern is the route of RankingReportHandler.
const RankingReportPattern = "GET /reports/rankings/{file}"

// RankingReportHandler serves a published ranking report (排名通报) for
// download: /reports/rankings/{id}.xlsx as a workbook, /reports/rankings/{id}.html
// as a printable page. The caller authenticates with a bearer token like any
// API call and needs ranking.read at the report's region (the query
// rankings has the same rule); each download is recorded in the audit log.
// Errors answer as JSON with extensions.code: 401 UNAUTHENTICATED,
// 403 FORBIDDEN, 404 NOT_FOUND (unknown id or suffix).
func RankingReportHandler(svc healthcode.RankingService) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, format, _ := strings.Cut(r.PathValue("file"), ".")
		id, err := strconv.ParseInt(name, 10, 64)
		if err != nil || id <= 0 || (format != "xlsx" && format != "html") {
			writeError(w, http.StatusNotFound, healthcode.ENOTFOUND, "排名通报不存在")
			return
		}
		rep, err := svc.ExportRankingReport(r.Context(), id, format)
		if err != nil {
			respondError(w, r, nil, "export ranking report", err)
			return
		}
		var buf bytes.Buffer
		h := w.Header()
		if format == "xlsx" {
			err = ranking.WriteXLSX(&buf, rep)
			h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			h.Set("Content-Disposition", `attachment; filename="`+reportFileName(rep)+`.xlsx"`)
		} else {
			err = ranking.WriteHTML(&buf, rep)
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", ranking.HTMLContentSecurityPolicy)
		}
		if err != nil {
			respondError(w, r, nil, "render ranking report "+r.PathValue("file"), err)
			return
		}
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	})
}

// reportFileName is an ASCII file name such as ranking-2026-11-16-CITY-61-r1.
func reportFileName(r *healthcode.RankingReport) string {
	return "ranking-" + r.Week.Format("2006-01-02") + "-" + string(r.Level) + "-" + r.Parent + "-r" + strconv.Itoa(r.Revision)
}
