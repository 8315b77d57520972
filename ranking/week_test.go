package ranking

import (
	"fmt"
	"testing"
	"time"

	"healthcode"
)

// Build's state and notes on the dates that matter: before the week, during
// it, after it with days missing, and after it complete.
func TestBuildStates(t *testing.T) {
	monday := time.Date(2026, 11, 16, 0, 0, 0, 0, healthcode.CST)
	day := func(d int) time.Time { return monday.AddDate(0, 0, d).Add(3 * time.Hour) }
	peers := []Region{
		{Code: "6101", Name: "西安市", Sums: map[string]Sums{healthcode.IndCoverage: {Num: 90, Den: 100}}},
		{Code: "6102", Name: "铜川市", Sums: map[string]Sums{healthcode.IndCoverage: {Num: 70, Den: 100}}},
	}
	p := DefaultPolicy()
	for _, c := range []struct {
		name  string
		today time.Time
		days  []time.Time
		state healthcode.RankingState
		ndays int
		notes string
	}{
		{"Sunday before", day(-1), []time.Time{day(0)}, healthcode.RankingNoData, 0,
			"[该周（11月16日—11月22日）尚未开始，没有数据：不排名，不列入约谈。]"},
		{"Wednesday", day(2), []time.Time{day(0), day(1), day(1)}, healthcode.RankingPartial, 2,
			"[该周尚未结束（截至11月18日），排名依据已有指标数据的 2 天，仅供参考。]"},
		{"Wednesday, Tuesday missing", day(2), []time.Time{day(0), day(2)}, healthcode.RankingPartial, 2,
			"[该周尚未结束（截至11月18日），排名依据已有指标数据的 2 天，仅供参考。其中11月17日的指标尚未计算。]"},
		{"after, two days missing", day(9), []time.Time{day(0), day(1), day(2), day(3), day(6), day(-1), day(7)}, healthcode.RankingPartial, 5,
			"[该周有 2 天的指标尚未计算（11月20日、11月21日），排名依据其余 5 天的数据。]"},
		{"after, complete", day(9), []time.Time{day(0), day(1), day(2), day(3), day(4), day(5), day(6)}, healthcode.RankingRanked, 7, "[]"},
	} {
		got := Build(p, healthcode.LevelCity, peers, Week{Monday: monday, Today: c.today, Days: c.days})
		if got.State != c.state || got.DaysWithData != c.ndays || fmt.Sprint(got.Notes) != c.notes {
			t.Errorf("%s: %s, %d days, notes %q; want %s, %d, %s", c.name, got.State, got.DaysWithData, got.Notes, c.state, c.ndays, c.notes)
		}
		ranked := got.State != healthcode.RankingNoData
		for _, r := range got.Rows {
			if (r.NoData == nil) != ranked || (ranked && r.Rank == 0) {
				t.Errorf("%s: row %+v", c.name, r)
			}
		}
	}
}
