package graph

import (
	"strconv"

	"healthcode"
)

// reportURL is the download path of a ranking report, served by
// server.RankingReportHandler.
func reportURL(r *healthcode.RankingReport, format string) string {
	return "/reports/rankings/" + strconv.FormatInt(r.ID, 10) + "." + format
}

// policyMap renders a ranking policy as the JSON scalar.
func policyMap(p healthcode.RankingPolicy) map[string]any {
	weights := make(map[string]any, len(p.Weights))
	for k, v := range p.Weights {
		weights[k] = v
	}
	floors := make(map[string]any, len(p.Floors))
	for k, v := range p.Floors {
		floors[k] = v
	}
	return map[string]any{"weights": weights, "floors": floors, "interviews": p.Interviews}
}
