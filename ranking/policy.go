// Package ranking is the weighted score of SPEC §6 (排名通报) as a pure
// function: the policy (weights, floors, the interview count N) with its
// defaults and validation, the normalisation of each indicator to 0–100,
// the ranks and the interview flags; and the renderings of a published
// ranking report (XLSX and a printable HTML page). docs/supervision.md
// explains the score with a worked example.
package ranking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"sort"

	"healthcode"
)

// DefaultPolicy returns the documented default policy (docs/supervision.md,
// "Score and rankings"): weights summing to 100, floors on coverage, data
// timeliness, hotline response and satisfaction, and one interview (the last
// region). Any caller may use it; the result is a fresh copy.
func DefaultPolicy() healthcode.RankingPolicy {
	return healthcode.RankingPolicy{
		Weights: map[string]float64{
			healthcode.IndCoverage:            20,
			healthcode.IndScansPer1000:        10,
			healthcode.IndCheckpointTypes:     10,
			healthcode.IndDataTimeliness:      10,
			healthcode.IndWeeklyReport:        10,
			healthcode.IndJointMeeting:        5,
			healthcode.IndHotlineResponse:     10,
			healthcode.IndHotlineResolution:   10,
			healthcode.IndHotlineSatisfaction: 10,
			healthcode.IndHotlineOverdue:      1,
			healthcode.IndHotlineReturn:       1,
			healthcode.IndHotlineReopen:       1,
			healthcode.IndDeviationsOpen:      2,
		},
		Floors: map[string]float64{
			healthcode.IndCoverage:            60,
			healthcode.IndDataTimeliness:      80,
			healthcode.IndHotlineResponse:     90,
			healthcode.IndHotlineSatisfaction: 80,
		},
		Interviews: 1,
	}
}

// MaxInterviews bounds N.
const MaxInterviews = 100

// Validate checks a policy: known indicator ids, weights finite and not
// negative with a positive total, floors finite, 0 ≤ N ≤ MaxInterviews. It
// returns every problem joined, each naming the field. Any caller may use it.
func Validate(p healthcode.RankingPolicy) error {
	var errs []error
	total := 0.0
	for _, id := range sortedKeys(p.Weights) {
		w := p.Weights[id]
		if _, ok := healthcode.IndicatorByID(id); !ok {
			errs = append(errs, fmt.Errorf("weights: unknown indicator %q", id))
		}
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			errs = append(errs, fmt.Errorf("weights.%s: want a finite number ≥ 0, got %v", id, w))
			continue
		}
		total += w
	}
	if total <= 0 {
		errs = append(errs, errors.New("weights: at least one indicator needs a positive weight"))
	}
	for _, id := range sortedKeys(p.Floors) {
		if _, ok := healthcode.IndicatorByID(id); !ok {
			errs = append(errs, fmt.Errorf("floors: unknown indicator %q", id))
		}
		if f := p.Floors[id]; math.IsNaN(f) || math.IsInf(f, 0) {
			errs = append(errs, fmt.Errorf("floors.%s: want a finite number, got %v", id, f))
		}
	}
	if p.Interviews < 0 || p.Interviews > MaxInterviews {
		errs = append(errs, fmt.Errorf("interviews: want 0 to %d, got %d", MaxInterviews, p.Interviews))
	}
	return errors.Join(errs...)
}

// ParsePolicy reads a policy from JSON such as
// {"weights": {"COVERAGE": 30, …}, "floors": {"COVERAGE": 70}, "interviews": 2}.
// A key that is present replaces that part of DefaultPolicy as a whole (give
// every weight when giving weights); absent keys keep the defaults. Unknown
// keys are errors. The configuration loader (RANKING_POLICY) calls it.
// Errors: malformed JSON or a policy that Validate refuses.
func ParsePolicy(b []byte) (healthcode.RankingPolicy, error) {
	var in struct {
		Weights    map[string]float64 `json:"weights"`
		Floors     map[string]float64 `json:"floors"`
		Interviews *int               `json:"interviews"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return healthcode.RankingPolicy{}, fmt.Errorf("decode ranking policy: %w", err)
	}
	p := DefaultPolicy()
	if in.Weights != nil {
		p.Weights = in.Weights
	}
	if in.Floors != nil {
		p.Floors = in.Floors
	}
	if in.Interviews != nil {
		p.Interviews = *in.Interviews
	}
	if err := Validate(p); err != nil {
		return healthcode.RankingPolicy{}, fmt.Errorf("ranking policy: %w", err)
	}
	return p, nil
}

// Clone returns a deep copy of p, so a stored report cannot share maps with
// the live policy.
func Clone(p healthcode.RankingPolicy) healthcode.RankingPolicy {
	return healthcode.RankingPolicy{Weights: maps.Clone(p.Weights), Floors: maps.Clone(p.Floors), Interviews: p.Interviews}
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
