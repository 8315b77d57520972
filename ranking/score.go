package ranking

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"healthcode"
)

// Sums is the roll-up of one indicator of one region over a period: the sums
// of its daily numerators and denominators over the region's subtree and the
// period's days, and the summed numerator of the period's last day with rows
// (the value of a LEVEL indicator).
type Sums struct {
	Num, Den, LastNum float64
}

// Region is one peer of a ranking with its roll-ups by indicator id; an
// indicator without rows is absent from Sums.
type Region struct {
	Code, Name string
	Sums       map[string]Sums
}

// Value returns the displayed value of ind from s at level: RATIO
// Σnum ÷ Σden × scale (none when Σden = 0), COUNT Σnum, LEVEL the last day's
// Σnum; none for a CityOnly indicator below the city level. Any caller may
// use it.
func Value(ind healthcode.Indicator, s Sums, level healthcode.Level) (float64, bool) {
	if ind.CityOnly && level != healthcode.LevelCity {
		return 0, false
	}
	if ind.Kind == healthcode.IndicatorLevel {
		return ind.Value(s.LastNum, s.Den)
	}
	return ind.Value(s.Num, s.Den)
}

// IsPercentage reports whether ind is normalised as a percentage (its value
// is a share shown in %, so 0–100 already) rather than against its peers:
// RATIO indicators with scale 100, except coverage growth, whose weekly
// values are a few percent and are compared among peers.
func IsPercentage(ind healthcode.Indicator) bool {
	return ind.Kind == healthcode.IndicatorRatio && ind.Scale == 100 && ind.ID != healthcode.IndCoverageGrowth
}

// Round2 rounds to two decimals, as scores and values are shown.
func Round2(x float64) float64 { return math.Round(x*100) / 100 }

// Rank ranks the peers under policy p: every indicator's value is mapped to
// 0–100 (percentages capped at 0 and 100, reversed when lower is better;
// other indicators min–max across the peers that have a value, 100 for all
// when they are equal), the score is the weighted mean of the mapped values
// over the indicators the region has (weights renormalised; 0 when it has
// none), rounded to two decimals; ranks are 1..n by score, ties by region
// code; the bottom p.Interviews and every region with an indicator past its
// floor are flagged for an interview with the reasons. Rows come back in
// rank order; PreviousRank and RankChange are left nil. Pure: any caller may
// use it.
func Rank(p healthcode.RankingPolicy, level healthcode.Level, peers []Region) []healthcode.RankingRow {
	n := len(peers)
	values := make([][]*float64, n) // [region][indicator]
	for i, r := range peers {
		values[i] = make([]*float64, len(healthcode.Indicators))
		for j, ind := range healthcode.Indicators {
			if s, ok := r.Sums[ind.ID]; ok {
				if v, ok := Value(ind, s, level); ok {
					values[i][j] = &v
				}
			}
		}
	}
	rows := make([]healthcode.RankingRow, n)
	for i, r := range peers {
		rows[i] = healthcode.RankingRow{RegionCode: r.Code, RegionName: r.Name,
			Values: make([]healthcode.IndicatorValue, len(healthcode.Indicators)), InterviewReasons: []string{}}
	}
	weighted, weights := make([]float64, n), make([]float64, n)
	for j, ind := range healthcode.Indicators {
		w := p.Weights[ind.ID]
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range peers {
			if v := values[i][j]; v != nil {
				lo, hi = math.Min(lo, *v), math.Max(hi, *v)
			}
		}
		for i := range peers {
			iv := healthcode.IndicatorValue{Indicator: ind.ID, Name: ind.Name, Weight: w}
			if v := values[i][j]; v != nil {
				s := normalise(ind, *v, lo, hi)
				dv, ds := Round2(*v), Round2(s)
				iv.Value, iv.Score = &dv, &ds
				if w > 0 {
					weighted[i] += w * s
					weights[i] += w
				}
				if reason, bad := pastFloor(p, ind, *v); bad {
					rows[i].InterviewReasons = append(rows[i].InterviewReasons, reason)
				}
			}
			rows[i].Values[j] = iv
		}
	}
	for i := range rows {
		if weights[i] > 0 {
			rows[i].Score = Round2(weighted[i] / weights[i])
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		if rows[a].Score != rows[b].Score {
			return rows[a].Score > rows[b].Score
		}
		return rows[a].RegionCode < rows[b].RegionCode
	})
	for i := range rows {
		rows[i].Rank = i + 1
		if i >= n-p.Interviews {
			reason := fmt.Sprintf("得分排名后%d位（第%d名）", p.Interviews, i+1)
			rows[i].InterviewReasons = append([]string{reason}, rows[i].InterviewReasons...)
		}
		rows[i].Interview = len(rows[i].InterviewReasons) > 0
	}
	return rows
}

// normalise maps v to 0–100; lo and hi are the smallest and largest values
// among the peers (v included).
func normalise(ind healthcode.Indicator, v, lo, hi float64) float64 {
	if IsPercentage(ind) {
		s := math.Max(0, math.Min(100, v))
		if !ind.HigherIsBetter {
			s = 100 - s
		}
		return s
	}
	if hi == lo {
		return 100
	}
	if ind.HigherIsBetter {
		return 100 * (v - lo) / (hi - lo)
	}
	return 100 * (hi - v) / (hi - lo)
}

// pastFloor reports whether v is past ind's floor in p (under it when higher
// is better, over it otherwise) and the reason shown.
func pastFloor(p healthcode.RankingPolicy, ind healthcode.Indicator, v float64) (string, bool) {
	f, ok := p.Floors[ind.ID]
	if !ok {
		return "", false
	}
	if ind.HigherIsBetter && v < f {
		return fmt.Sprintf("%s %s 低于底线 %s", ind.Name, Format(ind, v), Format(ind, f)), true
	}
	if !ind.HigherIsBetter && v > f {
		return fmt.Sprintf("%s %s 高于上限 %s", ind.Name, Format(ind, v), Format(ind, f)), true
	}
	return "", false
}

// Format renders a displayed value of ind: two decimals, with % for
// percentages. Reports and interview reasons use it.
func Format(ind healthcode.Indicator, v float64) string {
	s := strconv.FormatFloat(Round2(v), 'f', 2, 64)
	if ind.Kind == healthcode.IndicatorRatio && ind.Scale == 100 {
		s += "%"
	}
	return s
}

// WithPrevious sets PreviousRank and RankChange of rows from the ranking of
// the previous week; a region that had no data then (hadData false) gets
// none. Any caller may use it.
func WithPrevious(rows, previous []healthcode.RankingRow, hadData func(code string) bool) {
	prev := make(map[string]int, len(previous))
	for _, r := range previous {
		if hadData(r.RegionCode) {
			prev[r.RegionCode] = r.Rank
		}
	}
	for i := range rows {
		if pr, ok := prev[rows[i].RegionCode]; ok {
			change := pr - rows[i].Rank
			rows[i].PreviousRank, rows[i].RankChange = &pr, &change
		}
	}
}
