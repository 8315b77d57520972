package healthcode

import (
	"context"
	"time"
)

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
