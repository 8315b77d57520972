package ranking

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"healthcode"
)

// Week is what is known of a ranked week's data besides its roll-ups.
type Week struct {
	Monday time.Time // the ranked week's Monday, China Standard Time
	// Today is the current day (any time of it); a week whose Monday is
	// after it has not started.
	Today time.Time
	// Days are the days of the week with indicator rows in the ranked
	// regions, in any order (duplicates allowed).
	Days []time.Time
}

func cstDay(t time.Time) time.Time {
	t = t.In(healthcode.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, healthcode.CST)
}

func dayLabel(t time.Time) string { return t.In(healthcode.CST).Format("1月2日") }

// WeekLabel renders a week as 11月16日—11月22日.
func WeekLabel(monday time.Time) string {
	return dayLabel(monday) + "—" + dayLabel(monday.AddDate(0, 0, 6))
}

// Build ranks the peers of one week (Rank) and describes the ranking:
//
//   - a week that has not started ranks nobody: every region has NoData
//     WEEK_NOT_STARTED (its roll-ups are ignored) and the state is NO_DATA;
//   - when no region can be scored the state is NO_DATA: with no day of the
//     week computed every region has NoData NOT_COMPUTED, otherwise each
//     keeps its own reason; nobody is flagged for a rank;
//   - when some regions are scored the state is RANKED, or PARTIAL when fewer
//     than seven days have rows (the week is still going on, or days were not
//     computed).
//
// The notes say so in Chinese, list the regions without data, and describe
// every tie that spans the interview cut. Pure: any caller may use it.
func Build(p healthcode.RankingPolicy, level healthcode.Level, peers []Region, w Week) healthcode.Ranking {
	monday := cstDay(w.Monday)
	out := healthcode.Ranking{Week: monday, Level: level, Notes: []string{}}
	if monday.After(cstDay(w.Today)) {
		empty := make([]Region, len(peers))
		for i, r := range peers {
			empty[i] = Region{Code: r.Code, Name: r.Name}
		}
		out.Rows = Rank(p, level, empty)
		for i := range out.Rows {
			out.Rows[i].NoData = NoData(healthcode.NoDataWeekNotStarted)
		}
		out.State = healthcode.RankingNoData
		out.Notes = append(out.Notes, fmt.Sprintf("该周（%s）尚未开始，没有数据：不排名，不列入约谈。", WeekLabel(monday)))
		return out
	}
	days := map[time.Time]bool{}
	for _, d := range w.Days {
		if d := cstDay(d); !d.Before(monday) && d.Before(monday.AddDate(0, 0, 7)) {
			days[d] = true
		}
	}
	out.DaysWithData = len(days)
	out.Rows = Rank(p, level, peers)
	ranked := 0
	for _, r := range out.Rows {
		if r.NoData == nil {
			ranked++
		}
	}
	switch {
	case ranked == 0 && len(days) == 0:
		for i := range out.Rows {
			out.Rows[i].NoData = NoData(healthcode.NoDataNotComputed)
		}
		out.State = healthcode.RankingNoData
		out.Notes = append(out.Notes, fmt.Sprintf("该周（%s）的指标尚未计算，没有数据：不排名，不列入约谈。", WeekLabel(monday)))
		return out
	case ranked == 0:
		out.State = healthcode.RankingNoData
		out.Notes = append(out.Notes, fmt.Sprintf("该周（%s）没有任何地区有计分指标的数据：不排名，不因排名列入约谈。", WeekLabel(monday)))
	case len(days) < 7:
		out.State = healthcode.RankingPartial
		out.Notes = append(out.Notes, partialNote(monday, cstDay(w.Today), days))
	default:
		out.State = healthcode.RankingRanked
	}
	for _, reason := range []healthcode.NoDataReason{healthcode.NoDataRegion, healthcode.NoDataScored} {
		var names []string
		for _, r := range out.Rows {
			if r.NoData != nil && r.NoData.Reason == reason {
				names = append(names, r.RegionName)
			}
		}
		if len(names) > 0 && ranked > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("%s：%s，不排名，不因排名列入约谈。", strings.Join(names, "、"), NoData(reason).Message))
		}
	}
	out.Notes = append(out.Notes, TieNotes(p, out.Rows)...)
	return out
}

// partialNote explains a ranking resting on fewer than seven days.
func partialNote(monday, today time.Time, days map[time.Time]bool) string {
	var missing []string
	for d := monday; d.Before(monday.AddDate(0, 0, 7)); d = d.AddDate(0, 0, 1) {
		if !days[d] && d.Before(today) { // today is still going on
			missing = append(missing, dayLabel(d))
		}
	}
	if end := monday.AddDate(0, 0, 6); today.Before(end) || today.Equal(end) {
		note := fmt.Sprintf("该周尚未结束（截至%s），排名依据已有指标数据的 %d 天，仅供参考。", dayLabel(today), len(days))
		if len(missing) > 0 {
			note += "其中" + strings.Join(missing, "、") + "的指标尚未计算。"
		}
		return note
	}
	return fmt.Sprintf("该周有 %d 天的指标尚未计算（%s），排名依据其余 %d 天的数据。", len(missing), strings.Join(missing, "、"), len(days))
}

// TieNotes describes every tie among the ranked rows that spans the
// interview cut: its members share the rank and none is flagged for it.
// Any caller may use it.
func TieNotes(p healthcode.RankingPolicy, rows []healthcode.RankingRow) []string {
	groups := map[int][]healthcode.RankingRow{}
	for _, r := range rows {
		if r.NoData == nil && r.TieAtCut {
			groups[r.Rank] = append(groups[r.Rank], r)
		}
	}
	ranks := make([]int, 0, len(groups))
	for rank := range groups {
		ranks = append(ranks, rank)
	}
	sort.Ints(ranks)
	notes := make([]string, 0, len(ranks))
	for _, rank := range ranks {
		g := groups[rank]
		names := make([]string, len(g))
		for i, r := range g {
			names[i] = r.RegionName
		}
		notes = append(notes, fmt.Sprintf("%s共 %d 个地区得分同为 %.2f，并列第%d名，跨越约谈线（得分排名后%d位）：均不因得分排名列入约谈。",
			strings.Join(names, "、"), len(g), g[0].Score, rank, p.Interviews))
	}
	return notes
}
