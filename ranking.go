package healthcode

import (
	"context"
	"time"
)

// RankingPolicy is the configuration of the weighted score that ranks cities
// and counties (SPEC §6, 排名通报): a weight per indicator, optional floors
// and the number of regions at the bottom flagged for an interview (约谈).
// Package ranking holds its defaults, validation and the score itself.
type RankingPolicy struct {
	// Weights by indicator id. An indicator without a weight (or with 0) is
	// shown but not scored.
	Weights map[string]float64 `json:"weights"`
	// Floors by indicator id, on the displayed value (a percentage for
	// ratios shown as one): a higher-is-better indicator under its floor, or
	// a lower-is-better one over it, flags the region for an interview.
	Floors map[string]float64 `json:"floors,omitempty"`
	// Interviews is N: the bottom N regions by score are flagged.
	Interviews int `json:"interviews"`
}

// IndicatorValue is one indicator of a region in a ranking.
type IndicatorValue struct {
	Indicator string   `json:"indicator"` // the id in Indicators
	Name      string   `json:"name"`
	Value     *float64 `json:"value"` // the displayed value (ratio × scale); nil when there is no data
	Score     *float64 `json:"score"` // the value mapped to 0–100; nil when there is no data
	Weight    float64  `json:"weight"`
}

// RankingRow is one region of a ranking.
type RankingRow struct {
	RegionCode string           `json:"regionCode"`
	RegionName string           `json:"regionName"`
	Values     []IndicatorValue `json:"values"` // in the order of Indicators
	Score      float64          `json:"score"`  // 0–100, two decimals
	Rank       int              `json:"rank"`   // 1..n, ties broken by region code
	// PreviousRank is the rank of the previous week under the same policy;
	// nil when the region was not ranked then (no data).
	PreviousRank *int `json:"previousRank"`
	// RankChange is PreviousRank − Rank: positive when the region moved up.
	RankChange       *int     `json:"rankChange"`
	Interview        bool     `json:"interview"`
	InterviewReasons []string `json:"interviewReasons"`
}

// RankingReport is a published weekly ranking report (排名通报): the ranking
// of one week frozen when it was generated, with the policy used, so later
// recomputation of the indicators does not change it.
type RankingReport struct {
	ID          int64
	Week        time.Time // the Monday (China Standard Time) of the ranked week
	Level       Level     // CITY or COUNTY
	Parent      string    // 61 for the cities, the city for its counties
	ParentName  string
	Revision    int // 1 for the first report of (week, level, parent), then 2, …
	Rows        []RankingRow
	Policy      RankingPolicy
	GeneratedAt time.Time
	GeneratedBy string // the actor's subject, "system" for the Friday task
}

// RankingService ranks cities and counties by the weighted score and keeps
// the weekly ranking reports. Supervisors and province administrators see
// every ranking; a city's administrators and supervisors see the county
// ranking of their own city (permission ranking.read at the parent region).
// Rankings are aggregates: they never carry personal data.
type RankingService interface {
	// Rankings ranks the cities (level CITY, parent 61) or the counties of a
	// city (level COUNTY, parent the city) for the week that starts on the
	// Monday week, from indicator_daily, with the change from the previous
	// week. Errors: UNAUTHENTICATED, FORBIDDEN (ranking.read at parent),
	// INVALID (week not a Monday, bad level or parent).
	Rankings(ctx context.Context, week time.Time, level Level, parent string) ([]RankingRow, error)
	// GenerateRankingReport computes and stores the report of that week and
	// level: a new revision on every call. The Friday task (the system
	// actor) calls it with onlyFirst set, which stores nothing when a report
	// exists, so it is idempotent. Callers: the system, province
	// administrators and supervisors (ranking.generate at 61). Errors:
	// UNAUTHENTICATED, FORBIDDEN, INVALID.
	GenerateRankingReport(ctx context.Context, week time.Time, level Level, parent string, onlyFirst bool) (*RankingReport, error)
	// RankingReports lists the reports the caller may read (ranking.read at
	// the report's parent), newest week first, of one week when week is not
	// zero, at most 100. Errors: UNAUTHENTICATED, FORBIDDEN, INVALID.
	RankingReports(ctx context.Context, week time.Time) ([]*RankingReport, error)
	// ExportRankingReport returns a report for download in format ("xlsx" or
	// "html") and records the export in the audit log. Callers: those who
	// may read it. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID.
	ExportRankingReport(ctx context.Context, id int64, format string) (*RankingReport, error)
}
