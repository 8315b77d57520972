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
	// Interviews is N: the regions strictly among the bottom N by score
	// are flagged (a tie that spans the cut flags none of its members).
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
	// Score is the weighted score, 0–100, two decimals; 0 when NoData is set
	// (the region is not scored).
	Score float64 `json:"score"`
	// Rank is the standard competition rank by score ("1, 2, 2, 4"): one
	// more than the number of ranked regions with a higher score, so equal
	// scores share a rank. 0 when NoData is set (the region is not ranked).
	Rank int `json:"rank"`
	// PreviousRank is the rank of the previous week under the same policy;
	// nil when the region was not ranked then (no data).
	PreviousRank *int `json:"previousRank"`
	// RankChange is PreviousRank − Rank: positive when the region moved up;
	// nil when either week has no rank.
	RankChange *int `json:"rankChange"`
	// Tied is set when another ranked region has the same score (and rank).
	Tied bool `json:"tied,omitempty"`
	// TieAtCut is set when the region's tie spans the interview cut (some
	// of the tied regions fall inside the bottom N and some outside): no
	// member of such a tie is flagged for its rank.
	TieAtCut bool `json:"tieAtCut,omitempty"`
	// NoData says why the region is neither scored nor ranked nor flagged;
	// nil for a ranked region.
	NoData           *NoData  `json:"noData,omitempty"`
	Interview        bool     `json:"interview"`
	InterviewReasons []string `json:"interviewReasons"`
}

// RankingState says how much data a ranking rests on.
type RankingState string

const (
	// RankingRanked: every day of the week has computed indicators.
	RankingRanked RankingState = "RANKED"
	// RankingPartial: some days of the week have none (the week is still
	// going on, or days were not computed); the ranking rests on the others.
	RankingPartial RankingState = "PARTIAL"
	// RankingNoData: no region has data to score: nothing is ranked and
	// nobody is flagged.
	RankingNoData RankingState = "NO_DATA"
)

// NoDataReason says why a region of a ranking has no score.
type NoDataReason string

const (
	// NoDataWeekNotStarted: the week lies in the future.
	NoDataWeekNotStarted NoDataReason = "WEEK_NOT_STARTED"
	// NoDataNotComputed: no day of the week has computed indicators.
	NoDataNotComputed NoDataReason = "NOT_COMPUTED"
	// NoDataRegion: other regions have indicators for the week, this one
	// has no row at all (nothing recorded or pushed for it).
	NoDataRegion NoDataReason = "NO_REGION_DATA"
	// NoDataScored: the region has rows, but no indicator that carries a
	// weight has a value (e.g. ratios without a denominator).
	NoDataScored NoDataReason = "NO_SCORED_DATA"
)

// NoData is the reason of a region without a score in a ranking, with its
// Chinese explanation.
type NoData struct {
	Reason  NoDataReason `json:"reason"`
	Message string       `json:"message"`
}

// Ranking is the ranking of one week and level: its rows (ranked regions in
// rank order, then the regions without data by code), how much data it
// rests on, and the notes a report prints with it (no data, a partial week,
// a tie across the interview cut).
type Ranking struct {
	Week   time.Time // the Monday (China Standard Time)
	Level  Level
	Parent string
	State  RankingState
	// DaysWithData is the number of days of the week (0–7) with indicator
	// rows in the ranked regions.
	DaysWithData int
	Notes        []string
	Rows         []RankingRow
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

	// State, DaysWithData and Notes are those of the Ranking when the
	// report was generated (reports stored before they existed read RANKED,
	// 7 and no notes).
	State        RankingState
	DaysWithData int
	Notes        []string
	// GeneratorText names the generator as the printed report does
	// (Attribution.Text); set by ExportRankingReport.
	GeneratorText string
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
	// Ranking is Rankings with the state of the ranking and its notes (no
	// data and why, a partial week, a tie across the interview cut).
	// Callers and errors: as Rankings.
	Ranking(ctx context.Context, week time.Time, level Level, parent string) (*Ranking, error)
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

// RankingGenerator stores the first ranking reports of a week: the work of
// supervision:ranking_reports. Callers: the system actor (the Friday task),
// province administrators and supervisors. Errors: those of
// GenerateRankingReport.
type RankingGenerator interface {
	// GenerateWeek stores the report of the cities and of every city's
	// counties for the week starting monday, unless one exists, and returns
	// how many it stored.
	GenerateWeek(ctx context.Context, monday time.Time) (int, error)
}
