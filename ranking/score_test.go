package ranking

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"healthcode"
)

// genPeers draws 1–12 regions with random roll-ups; about a third of the
// indicators of each region have no rows.
func genPeers(t *rapid.T) []Region {
	n := rapid.IntRange(1, 12).Draw(t, "n")
	peers := make([]Region, n)
	for i := range peers {
		peers[i] = Region{Code: fmt.Sprintf("61%02d", i+1), Name: fmt.Sprintf("市%d", i+1), Sums: map[string]Sums{}}
		for _, ind := range healthcode.Indicators {
			if rapid.IntRange(0, 2).Draw(t, "absent") == 0 {
				continue
			}
			den := float64(rapid.IntRange(0, 1000).Draw(t, "den"))
			num := float64(rapid.IntRange(0, 1200).Draw(t, "num"))
			peers[i].Sums[ind.ID] = Sums{Num: num, Den: den, LastNum: float64(rapid.IntRange(0, 50).Draw(t, "last"))}
		}
	}
	return peers
}

func genPolicy(t *rapid.T) healthcode.RankingPolicy {
	p := healthcode.RankingPolicy{Weights: map[string]float64{}, Floors: map[string]float64{}}
	for _, ind := range healthcode.Indicators {
		p.Weights[ind.ID] = float64(rapid.IntRange(0, 20).Draw(t, "w"))
		if rapid.Bool().Draw(t, "floor") {
			p.Floors[ind.ID] = float64(rapid.IntRange(0, 100).Draw(t, "f"))
		}
	}
	p.Weights[healthcode.IndCoverage]++ // a positive total
	p.Interviews = rapid.IntRange(0, 4).Draw(t, "N")
	return p
}

func scoreOf(rows []healthcode.RankingRow, code string) float64 {
	for _, r := range rows {
		if r.RegionCode == code {
			return r.Score
		}
	}
	panic("no row " + code)
}

// The regions with a weighted value are ranked first, ordered by score
// (ties by code), with standard competition ranks; the others have NoData,
// no rank and no score and come last; scores lie in 0–100; the interview
// flags are exactly the regions strictly among the bottom N (with every
// region scoring the same or less) plus the regions past a floor.
func TestRankLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPolicy(t)
		peers := genPeers(t)
		if rapid.Bool().Draw(t, "ties") {
			peers = genTiedPeers(t)
		}
		level := rapid.SampledFrom([]healthcode.Level{healthcode.LevelCity, healthcode.LevelCounty}).Draw(t, "level")
		rows := Rank(p, level, peers)
		if len(rows) != len(peers) {
			t.Fatalf("%d rows for %d peers", len(rows), len(peers))
		}
		for i, r := range rows {
			if r.Score < 0 || r.Score > 100 {
				t.Fatalf("score %v out of 0–100", r.Score)
			}
			scored := false
			for _, v := range r.Values {
				if v.Value != nil && v.Weight > 0 {
					scored = true
				}
			}
			if scored != (r.NoData == nil) {
				t.Fatalf("%s: a weighted value %v, no data %+v", r.RegionCode, scored, r.NoData)
			}
			if r.NoData != nil && (r.Rank != 0 || r.Score != 0 || bottomFlag(r)) {
				t.Fatalf("%s without data: rank %d score %v reasons %q", r.RegionCode, r.Rank, r.Score, r.InterviewReasons)
			}
			if i > 0 {
				prev := rows[i-1]
				switch {
				case prev.NoData != nil && r.NoData == nil:
					t.Fatalf("%s without data before ranked %s", prev.RegionCode, r.RegionCode)
				case prev.NoData == nil && r.NoData == nil && (prev.Score < r.Score || (prev.Score == r.Score && prev.RegionCode > r.RegionCode)):
					t.Fatalf("rank %d (%s %v) before rank %d (%s %v)", prev.Rank, prev.RegionCode, prev.Score, r.Rank, r.RegionCode, r.Score)
				}
			}
			higher, atOrBelow := 0, 0
			for _, o := range rows {
				if o.NoData != nil {
					continue
				}
				if o.Score > r.Score {
					higher++
				} else {
					atOrBelow++
				}
			}
			bottom := r.NoData == nil && atOrBelow <= p.Interviews
			if r.NoData == nil && r.Rank != higher+1 {
				t.Fatalf("%s scores %v with %d regions above: rank %d", r.RegionCode, r.Score, higher, r.Rank)
			}
			floorBreach := false
			for _, v := range r.Values {
				ind, _ := healthcode.IndicatorByID(v.Indicator)
				if ind.CityOnly && level == healthcode.LevelCounty && v.Value != nil {
					t.Fatalf("city-only %s has a county value", ind.ID)
				}
				if f, ok := p.Floors[ind.ID]; ok && v.Value != nil {
					raw, _ := Value(ind, peersByCode(peers, r.RegionCode).Sums[ind.ID], level)
					if (ind.HigherIsBetter && raw < f) || (!ind.HigherIsBetter && raw > f) {
						floorBreach = true
					}
				}
			}
			if r.Interview != (bottom || floorBreach) {
				t.Fatalf("rank %d of %d (N=%d, floor breach %v): interview %v, reasons %v", r.Rank, len(rows), p.Interviews, floorBreach, r.Interview, r.InterviewReasons)
			}
			if bottom != bottomFlag(r) {
				t.Fatalf("rank %d of %d (N=%d): reasons %v", r.Rank, len(rows), p.Interviews, r.InterviewReasons)
			}
		}
	})
}

func peersByCode(peers []Region, code string) Region {
	for _, r := range peers {
		if r.Code == code {
			return r
		}
	}
	panic(code)
}

// Improving one indicator of one region (raising a higher-is-better value,
// lowering a lower-is-better one) never lowers that region's score.
func TestImprovingNeverLowersScore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, peers := genPolicy(t), genPeers(t)
		level := rapid.SampledFrom([]healthcode.Level{healthcode.LevelCity, healthcode.LevelCounty}).Draw(t, "level")
		i := rapid.IntRange(0, len(peers)-1).Draw(t, "region")
		ind := rapid.SampledFrom(healthcode.Indicators).Draw(t, "indicator")
		before := scoreOf(Rank(p, level, peers), peers[i].Code)

		s, ok := peers[i].Sums[ind.ID]
		if !ok {
			t.Skip("the region has no rows for the indicator")
		}
		step := float64(rapid.IntRange(1, 500).Draw(t, "step"))
		better := peers[i]
		better.Sums = map[string]Sums{}
		for k, v := range peers[i].Sums {
			better.Sums[k] = v
		}
		if ind.HigherIsBetter {
			s.Num, s.LastNum = s.Num+step, s.LastNum+step
		} else {
			s.Num, s.LastNum = max(0, s.Num-step), max(0, s.LastNum-step)
		}
		better.Sums[ind.ID] = s
		changed := append([]Region(nil), peers...)
		changed[i] = better
		if after := scoreOf(Rank(p, level, changed), peers[i].Code); after < before {
			t.Fatalf("%s improved, score %v → %v", ind.ID, before, after)
		}
	})
}

// A weight on an indicator no region has changes no score: missing
// indicators have their weight renormalised away.
func TestMissingIndicatorsAreRenormalised(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, peers := genPolicy(t), genPeers(t)
		ind := rapid.SampledFrom(healthcode.Indicators).Draw(t, "indicator")
		for i := range peers {
			delete(peers[i].Sums, ind.ID)
		}
		base := Rank(p, healthcode.LevelCity, peers)
		heavier := Clone(p)
		heavier.Weights[ind.ID] += float64(rapid.IntRange(1, 50).Draw(t, "extra"))
		for _, r := range Rank(heavier, healthcode.LevelCity, peers) {
			if got := scoreOf(base, r.RegionCode); got != r.Score {
				t.Fatalf("%s: score %v → %v after weighting absent %s", r.RegionCode, got, r.Score, ind.ID)
			}
		}
	})
}

func TestNormalise(t *testing.T) {
	cov, _ := healthcode.IndicatorByID(healthcode.IndCoverage)
	ret, _ := healthcode.IndicatorByID(healthcode.IndHotlineReturn)
	overdue, _ := healthcode.IndicatorByID(healthcode.IndHotlineOverdue)
	scans, _ := healthcode.IndicatorByID(healthcode.IndScansPer1000)
	for _, c := range []struct {
		ind             healthcode.Indicator
		v, lo, hi, want float64
	}{
		{cov, 85, 0, 0, 85},
		{cov, 130, 0, 0, 100}, // capped
		{ret, 5, 0, 0, 95},    // lower is better
		{overdue, 2, 0, 8, 75},
		{overdue, 8, 0, 8, 0},
		{scans, 300, 100, 500, 50},
		{scans, 300, 300, 300, 100}, // all equal
	} {
		if got := normalise(c.ind, c.v, c.lo, c.hi); got != c.want {
			t.Errorf("normalise(%s, %v, %v, %v) = %v, want %v", c.ind.ID, c.v, c.lo, c.hi, got, c.want)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"interviews": 2, "floors": {"COVERAGE": 70}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Interviews != 2 || p.Floors[healthcode.IndCoverage] != 70 || len(p.Floors) != 1 || p.Weights[healthcode.IndCoverage] != 20 {
		t.Fatalf("policy %+v", p)
	}
	total := 0.0
	for _, w := range DefaultPolicy().Weights {
		total += w
	}
	if total != 100 {
		t.Fatalf("default weights sum to %v, want 100", total)
	}
	for _, c := range []struct{ in, want string }{
		{`{"weights": {"COVRAGE": 10}}`, `unknown indicator "COVRAGE"`},
		{`{"weights": {"COVERAGE": -1}}`, "weights.COVERAGE"},
		{`{"weights": {"COVERAGE": 0}}`, "positive weight"},
		{`{"interviews": -1}`, "interviews"},
		{`{"floors": {"NOPE": 1}}`, `unknown indicator "NOPE"`},
		{`{"weight": {}}`, "unknown field"},
		{`{`, "decode"},
	} {
		if _, err := ParsePolicy([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePolicy(%s) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// genTiedPeers draws 1–14 regions, each a copy of one of at most five drawn
// roll-ups (so that scores tie often), about one in six without any row.
func genTiedPeers(t *rapid.T) []Region {
	profiles := genPeers(t)
	if len(profiles) > 5 {
		profiles = profiles[:5]
	}
	n := rapid.IntRange(1, 14).Draw(t, "regions")
	peers := make([]Region, n)
	for i := range peers {
		src := profiles[rapid.IntRange(0, len(profiles)-1).Draw(t, "profile")]
		sums := map[string]Sums{}
		if rapid.IntRange(0, 5).Draw(t, "noData") > 0 {
			for k, v := range src.Sums {
				sums[k] = v
			}
		}
		peers[i] = Region{Code: fmt.Sprintf("61%02d", i+1), Name: fmt.Sprintf("市%d", i+1), Sums: sums}
	}
	return peers
}

// bottomFlag reports whether a row is flagged for its rank (the reason
// 得分排名后N位 leads the reasons).
func bottomFlag(r healthcode.RankingRow) bool {
	return len(r.InterviewReasons) > 0 && strings.HasPrefix(r.InterviewReasons[0], "得分排名后")
}

// Tied scores share a rank (standard competition ranking, 1, 2, 2, 4) and
// the bottom-N flag: a region is flagged for its rank exactly when it and
// every region at or below its score fit in the bottom N, so a tie that
// spans the cut flags none of its members.
func TestTiesShareRankAndFlag(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, peers := genPolicy(t), genTiedPeers(t)
		var rows []healthcode.RankingRow // the ranked ones
		for _, r := range Rank(p, healthcode.LevelCounty, peers) {
			if r.NoData == nil {
				rows = append(rows, r)
			}
		}
		for _, a := range rows {
			for _, b := range rows {
				if a.Score == b.Score && (a.Rank != b.Rank || bottomFlag(a) != bottomFlag(b)) {
					t.Fatalf("%s and %s both score %v: ranks %d and %d, bottom flags %v and %v",
						a.RegionCode, b.RegionCode, a.Score, a.Rank, b.Rank, bottomFlag(a), bottomFlag(b))
				}
			}
		}
		for _, a := range rows {
			higher, atOrBelow, tied := 0, 0, 0
			for _, b := range rows {
				if b.Score > a.Score {
					higher++
				} else {
					atOrBelow++
				}
				if b.Score == a.Score {
					tied++
				}
			}
			if a.Rank != higher+1 {
				t.Fatalf("%s scores %v with %d regions above: rank %d, want %d", a.RegionCode, a.Score, higher, a.Rank, higher+1)
			}
			if want := atOrBelow <= p.Interviews; bottomFlag(a) != want {
				t.Fatalf("%s scores %v, %d regions at or below it, N=%d: bottom flag %v, want %v",
					a.RegionCode, a.Score, atOrBelow, p.Interviews, bottomFlag(a), want)
			}
			// The tie spans the cut when it has members on both sides of it.
			spans := tied > 1 && atOrBelow > p.Interviews && atOrBelow-tied < p.Interviews
			if a.TieAtCut != spans || a.Tied != (tied > 1) {
				t.Fatalf("%s scores %v, %d tied, %d at or below, N=%d: tied %v, tie at cut %v",
					a.RegionCode, a.Score, tied, atOrBelow, p.Interviews, a.Tied, a.TieAtCut)
			}
		}
	})
}

// Who is flagged, and why, depends on the data alone: permuting the input
// and renaming the region codes (a bijection) changes no region's rank,
// score, flag or reasons.
func TestFlagsInvariantUnderPermutationAndRenaming(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, peers := genPolicy(t), genTiedPeers(t)
		level := rapid.SampledFrom([]healthcode.Level{healthcode.LevelCity, healthcode.LevelCounty}).Draw(t, "level")
		order := rapid.Permutation(rapidIndices(len(peers))).Draw(t, "order")
		codes := rapid.Permutation(rapidIndices(len(peers))).Draw(t, "codes")
		renamed := make([]Region, len(peers))
		original := map[string]string{} // new code → old code
		for i, j := range order {
			r := peers[j]
			code := fmt.Sprintf("61%02d", 50+codes[j])
			original[code] = r.Code
			renamed[i] = Region{Code: code, Name: r.Name, Sums: r.Sums}
		}
		before := map[string]healthcode.RankingRow{}
		for _, r := range Rank(p, level, peers) {
			before[r.RegionCode] = r
		}
		for _, r := range Rank(p, level, renamed) {
			b := before[original[r.RegionCode]]
			if r.Rank != b.Rank || r.Score != b.Score || r.Interview != b.Interview ||
				strings.Join(r.InterviewReasons, "；") != strings.Join(b.InterviewReasons, "；") {
				t.Fatalf("%s (was %s): rank %d score %v interview %v %q; before rank %d score %v interview %v %q",
					r.RegionCode, b.RegionCode, r.Rank, r.Score, r.Interview, r.InterviewReasons,
					b.Rank, b.Score, b.Interview, b.InterviewReasons)
			}
		}
	})
}

func rapidIndices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
