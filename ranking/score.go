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
// over the indicators the region has (weights renormalised), rounded to two
// decimals.
//
// A region with no value for any weighted indicator is not scored, ranked or
// flagged for its rank: it gets NoData (NO_REGION_DATA without any row,
// NO_SCORED_DATA otherwise). The others are ranked by standard competition
// ranking on the rounded score ("1, 2, 2, 4": one more than the number of
// regions with a higher score), so equal scores share a rank. With n ranked
// regions, a region is flagged for its rank when it is strictly among the
// bottom p.Interviews: when it and every region scoring the same or less fit
// in the bottom N, i.e. rank > n − N; a tie that spans that cut flags none of
// its members (TieAtCut). Any region with a value past its floor is flagged
// too, with the reason. Rows come back ranked regions first by rank, then the
// unscored ones, each by region code (the order only: no rank, flag or
// reason depends on codes or on the order of peers). PreviousRank and
// RankChange are left nil. Pure: any caller may use it.
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
	ranked := 0
	for i := range rows {
		switch {
		case weights[i] > 0:
			rows[i].Score = Round2(weighted[i] / weights[i])
			ranked++
		case len(peers[i].Sums) == 0:
			rows[i].NoData = NoData(healthcode.NoDataRegion)
		default:
			rows[i].NoData = NoData(healthcode.NoDataScored)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		if (rows[a].NoData == nil) != (rows[b].NoData == nil) {
			return rows[a].NoData == nil
		}
		if rows[a].Score != rows[b].Score {
			return rows[a].Score > rows[b].Score
		}
		return rows[a].RegionCode < rows[b].RegionCode
	})
	cut := ranked - p.Interviews // ranks above cut are the bottom N
	for start := 0; start < ranked; {
		end := start + 1 // rows[start:end] share a score
		for end < ranked && rows[end].Score == rows[start].Score {
			end++
		}
		rank, tied := start+1, end-start > 1
		for i := start; i < end; i++ {
			rows[i].Rank, rows[i].Tied = rank, tied
			rows[i].TieAtCut = tied && rank <= cut && end > cut
			if rank > cut {
				place := fmt.Sprintf("第%d名", rank)
				if tied {
					place = "并列" + place
				}
				reason := fmt.Sprintf("得分排名后%d位（%s）", p.Interviews, place)
				rows[i].InterviewReasons = append([]string{reason}, rows[i].InterviewReasons...)
			}
		}
		start = end
	}
	for i := range rows {
		rows[i].Interview = len(rows[i].InterviewReasons) > 0
	}
	return rows
}

// NoData returns the explanation of a reason: the Chinese message reports
// and the API show. Any caller may use it.
func NoData(reason healthcode.NoDataReason) *healthcode.NoData {
	msg := map[healthcode.NoDataReason]string{
		healthcode.NoDataWeekNotStarted: "该周尚未开始，没有数据",
		healthcode.NoDataNotComputed:    "该周的指标尚未计算，没有数据",
		healthcode.NoDataRegion:         "本地区该周没有任何指标数据（未产生或未上报数据）",
		healthcode.NoDataScored:         "本地区该周没有计分指标的数据",
	}[reason]
	return &healthcode.NoData{Reason: reason, Message: msg}
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

// WithPrevious sets PreviousRank from the ranking of the previous week (a
// region not ranked then gets none) and RankChange where both weeks rank the
// region. Any caller may use it.
func WithPrevious(rows, previous []healthcode.RankingRow) {
	prev := make(map[string]int, len(previous))
	for _, r := range previous {
		if r.NoData == nil {
			prev[r.RegionCode] = r.Rank
		}
	}
	for i := range rows {
		if pr, ok := prev[rows[i].RegionCode]; ok {
			rows[i].PreviousRank = &pr
			if rows[i].NoData == nil {
				change := pr - rows[i].Rank
				rows[i].RankChange = &change
			}
		}
	}
}
