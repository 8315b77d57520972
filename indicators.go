package healthcode

import (
	"context"
	"time"
)

// IndicatorKind says how the daily (numerator, denominator) rows of an
// indicator roll up into the value of a region over a period.
type IndicatorKind string

const (
	// IndicatorRatio is Σnumerator ÷ Σdenominator over the period's days and
	// the region's rows (no value when Σdenominator is 0).
	IndicatorRatio IndicatorKind = "RATIO"
	// IndicatorCount is Σnumerator: events that happened in the period.
	IndicatorCount IndicatorKind = "COUNT"
	// IndicatorLevel is Σnumerator of the period's last day: a stock.
	IndicatorLevel IndicatorKind = "LEVEL"
)

// Indicator describes one supervision indicator of SPEC §6. Its daily rows
// live in indicator_daily under ID.
type Indicator struct {
	ID   string
	Name string // the Chinese name shown in rankings and reports
	Kind IndicatorKind
	// Scale multiplies a RATIO for display: 100 for a percentage, 1000 for
	// "per 1,000 residents".
	Scale float64
	// HigherIsBetter is false for overdue, return and reopen rates and open
	// deviations.
	HigherIsBetter bool
	// CityOnly indicators have no county value (weekly reports, data
	// timeliness of a city's pushes).
	CityOnly bool
}

// Indicator ids.
const (
	IndCoverage            = "COVERAGE"             // persons with a code living in the region ÷ census population
	IndCoverageGrowth      = "COVERAGE_GROWTH"      // persons who declared for the first time ÷ census population
	IndScansPer1000        = "SCANS_PER_1000"       // scans at the region's venues ÷ census population (×1000)
	IndCheckpointTypes     = "CHECKPOINT_TYPES"     // required venue types with an active venue ÷ required types
	IndDataTimeliness      = "DATA_TIMELINESS"      // days whose data reached the platform and the national push before 10:00 ÷ days
	IndWeeklyReport        = "WEEKLY_REPORT"        // weekly reports submitted before Friday 16:00 ÷ reports due
	IndJointMeeting        = "JOINT_MEETING"        // regions with a joint meeting list on time ÷ regions
	IndHotlineResponse     = "HOTLINE_RESPONSE"     // tickets signed for in time ÷ tickets dispatched
	IndHotlineResolution   = "HOTLINE_RESOLUTION"   // tickets closed ÷ tickets opened
	IndHotlineSatisfaction = "HOTLINE_SATISFACTION" // (满意 + 0.8 × 基本满意) ÷ valid callbacks
	IndHotlineOverdue      = "HOTLINE_OVERDUE"      // tickets that went overdue
	IndHotlineReturn       = "HOTLINE_RETURN"       // tickets returned by their unit ÷ tickets dispatched
	IndHotlineReopen       = "HOTLINE_REOPEN"       // tickets reopened after a callback ÷ callbacks
	IndDeviationsOpen      = "DEVIATIONS_OPEN"      // sub-system deviations not corrected yet
	IndDeviationsCorrected = "DEVIATIONS_CORRECTED" // sub-system deviations corrected
)

// Indicators lists every indicator in the order reports show them.
var Indicators = []Indicator{
	{ID: IndCoverage, Name: "健康码覆盖率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndCoverageGrowth, Name: "覆盖率增长", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndScansPer1000, Name: "每千人扫码查验数", Kind: IndicatorRatio, Scale: 1000, HigherIsBetter: true},
	{ID: IndCheckpointTypes, Name: "查验场所类型覆盖率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndDataTimeliness, Name: "数据推送及时率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true, CityOnly: true},
	{ID: IndWeeklyReport, Name: "周报按时报送率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true, CityOnly: true},
	{ID: IndJointMeeting, Name: "联席会议名单按时报送率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndHotlineResponse, Name: "12320响应率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndHotlineResolution, Name: "12320办结率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndHotlineSatisfaction, Name: "12320满意率", Kind: IndicatorRatio, Scale: 100, HigherIsBetter: true},
	{ID: IndHotlineOverdue, Name: "12320超期件数", Kind: IndicatorCount, Scale: 1},
	{ID: IndHotlineReturn, Name: "12320退回率", Kind: IndicatorRatio, Scale: 100},
	{ID: IndHotlineReopen, Name: "12320重办率", Kind: IndicatorRatio, Scale: 100},
	{ID: IndDeviationsOpen, Name: "未纠正偏差数", Kind: IndicatorLevel, Scale: 1},
	{ID: IndDeviationsCorrected, Name: "已纠正偏差数", Kind: IndicatorCount, Scale: 1, HigherIsBetter: true},
}

// IndicatorByID returns the indicator with that id.
func IndicatorByID(id string) (Indicator, bool) {
	for _, ind := range Indicators {
		if ind.ID == id {
			return ind, true
		}
	}
	return Indicator{}, false
}

// Value turns the sums of an indicator's (numerator, denominator) rows into
// its value: a RATIO is num ÷ den × Scale (no value when den is 0), a COUNT
// or LEVEL is num. The caller sums the right rows (for a LEVEL, those of the
// period's last day only). Any caller; it never fails.
func (ind Indicator) Value(num, den float64) (float64, bool) {
	if ind.Kind == IndicatorRatio {
		if den == 0 {
			return 0, false
		}
		return num / den * ind.Scale, true
	}
	return num, true
}

// IndicatorPoint is an indicator's value in a region on one day (China
// Standard Time): the sums of the day's rows inside the region's subtree.
type IndicatorPoint struct {
	Day         time.Time // 00:00 China Standard Time
	Numerator   float64
	Denominator float64
	// Value is nil when the indicator has no value that day (a RATIO whose
	// denominator sums to 0, e.g. a day not computed yet).
	Value *float64
}

// IndicatorTotal is an indicator's value in a region over a period: the sums
// of its rows over the period's days (for a LEVEL, the last day's).
type IndicatorTotal struct {
	RegionCode  string
	Indicator   string
	Numerator   float64
	Denominator float64
	Value       *float64 // nil when there is no value (see IndicatorPoint)
}

// IndicatorService reads the daily indicator aggregates (indicator_daily)
// that the workers compute. Callers need indicator.read at the region:
// supervisors (aggregates only, no personal data) and administrators inside
// their grants.
type IndicatorService interface {
	// IndicatorSeries returns one point per day from from to to (both
	// included, at most 366 days) of indicator in region (any level).
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (region, indicator, range).
	IndicatorSeries(ctx context.Context, region, indicator string, from, to time.Time) ([]*IndicatorPoint, error)
	// IndicatorValues returns, for every region of level (CITY or COUNTY)
	// inside parent ("" for the province) and every indicator with rows
	// there, the value over the days from from to to (both included).
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (level, parent, range).
	IndicatorValues(ctx context.Context, level Level, parent string, from, to time.Time) ([]*IndicatorTotal, error)
}

// IndicatorRecomputer computes the daily indicator aggregates: the work of
// indicators:recompute. It checks no grants: only the task handler (and the
// demo) call it. Errors: storage errors (the days not recomputed stay
// marked).
type IndicatorRecomputer interface {
	// MarkRecentDays marks today and yesterday dirty.
	MarkRecentDays(ctx context.Context) error
	// RecomputeDirty recomputes the dirty days and returns how many.
	RecomputeDirty(ctx context.Context) (int, error)
}
