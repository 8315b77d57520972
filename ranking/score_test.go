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

// Ranks are a permutation of 1..n in row order, ordered by score (ties by
// code), scores lie in 0–100, and the interview flags are exactly the
// bottom N plus the regions past a floor.
func TestRankLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, peers := genPolicy(t), genPeers(t)
		level := rapid.SampledFrom([]healthcode.Level{healthcode.LevelCity, healthcode.LevelCounty}).Draw(t, "level")
		rows := Rank(p, level, peers)
		if len(rows) != len(peers) {
			t.Fatalf("%d rows for %d peers", len(rows), len(peers))
		}
		n := len(rows)
		for i, r := range rows {
			if r.Rank != i+1 {
				t.Fatalf("row %d has rank %d", i, r.Rank)
			}
			if r.Score < 0 || r.Score > 100 {
				t.Fatalf("score %v out of 0–100", r.Score)
			}
			if i > 0 {
				prev := rows[i-1]
				if prev.Score < r.Score || (prev.Score == r.Score && prev.RegionCode > r.RegionCode) {
					t.Fatalf("rank %d (%s %v) before rank %d (%s %v)", prev.Rank, prev.RegionCode, prev.Score, r.Rank, r.RegionCode, r.Score)
				}
			}
			bottom := r.Rank > n-p.Interviews
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
				t.Fatalf("rank %d of %d (N=%d, floor breach %v): interview %v, reasons %v", r.Rank, n, p.Interviews, floorBreach, r.Interview, r.InterviewReasons)
			}
			if bottom != (len(r.InterviewReasons) > 0 && strings.HasPrefix(r.InterviewReasons[0], "得分排名后")) {
				t.Fatalf("rank %d of %d (N=%d): reasons %v", r.Rank, n, p.Interviews, r.InterviewReasons)
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
