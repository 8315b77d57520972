package rules

import (
	"math"
	"strings"
	"testing"
	"time"
)

// benchFacts is a person with 10 facts of every kind: two stays (the
// residence and a trip to a HIGH area), two area designations, a suspicion
// and its exclusion, three check-ins (the last one feverish) and an expired
// yellow designation. Under Default() at now it is RED [R1 Y2].
func benchFacts() *Facts {
	day := func(d int, h int) time.Time { return time.Date(2020, 11, d, h, 0, 0, 0, CST) }
	to := day(10, 0)
	t1, t2, t3 := 36.5, 36.6, 37.6
	return &Facts{
		Stays: []Stay{
			{ID: 1, Place: "610103001001", From: time.Date(2020, 1, 1, 0, 0, 0, 0, CST), Source: SourceResidence},
			{ID: 2, Place: "420106", From: day(8, 0), To: &to, Source: SourceTravel},
		},
		AreaRisks: []AreaRisk{{Region: "4201", Level: High, From: day(1, 0)}, {Region: "610113", Level: Medium, From: day(1, 0)}},
		Medical: []MedicalEvent{
			{ID: 3, Kind: Suspected, At: time.Date(2020, 10, 1, 0, 0, 0, 0, CST)},
			{ID: 4, Kind: SuspectExcluded, At: time.Date(2020, 10, 3, 0, 0, 0, 0, CST)},
		},
		Health: []HealthRecord{
			{ID: 5, At: day(13, 8), Temperature: &t1, Source: SourceCheckin},
			{ID: 6, At: day(14, 8), Temperature: &t2, Source: SourceCheckin},
			{ID: 7, At: day(15, 8), Temperature: &t3, Symptoms: []string{SymptomCough}, Source: SourceCheckin},
		},
		Designations: []Designation{{ID: 8, Colour: Yellow, From: time.Date(2020, 10, 1, 0, 0, 0, 0, CST),
			Until: time.Date(2020, 10, 15, 0, 0, 0, 0, CST), Reason: "流调"}},
	}
}

// baseline is the trivial hand-coded check the evaluator is compared with: it
// touches the same facts (stays against the area designations, medical events,
// temperatures, designations) with fixed rules and builds no explanation.
func baseline(f *Facts, now time.Time) int {
	const w = 14 * Day
	colour := 0
	for i := range f.Stays {
		s := &f.Stays[i]
		level := 0
		if strings.HasPrefix(s.Place, AbroadPrefix) {
			level = 3
		}
		for j := range f.AreaRisks {
			r := &f.AreaRisks[j]
			if strings.HasPrefix(s.Place, r.Region) && !r.From.After(now) && levelRank(r.Level) > level {
				level = levelRank(r.Level)
			}
		}
		if s.To == nil || now.Before(s.To.Add(w)) {
			colour = max(colour, level-1)
		}
	}
	for i := range f.Medical {
		m := &f.Medical[i]
		if m.Kind == Confirmed || (m.Kind == CloseContact && now.Before(m.At.Add(w))) {
			colour = 2
		}
	}
	for i := range f.Health {
		if t := f.Health[i].Temperature; t != nil && *t > 37.3 {
			colour = max(colour, 1)
		}
	}
	for i := range f.Designations {
		d := &f.Designations[i]
		if !d.From.After(now) && now.Before(d.Until) {
			colour = max(colour, severity(d.Colour))
		}
	}
	return colour
}

var (
	sinkResult Result
	sinkInt    int
)

// timeLoops runs Evaluate and the baseline n times each, interleaved in 20
// chunks after a warm-up, and returns the ns per call of the fastest chunk of
// each (the least disturbed by other load on the machine). It does not
// depend on -benchtime.
func timeLoops(f *Facts, rs *RuleSet, now time.Time, n int) (evalNs, baseNs float64) {
	const chunks = 20
	per := n / chunks
	run := func(fn func()) float64 {
		start := time.Now()
		for range per {
			fn()
		}
		return float64(time.Since(start)) / float64(per)
	}
	eval := func() { sinkResult = Evaluate(f, rs, now) }
	base := func() { sinkInt = baseline(f, now) }
	run(eval)
	run(base)
	evalNs, baseNs = math.Inf(1), math.Inf(1)
	for range chunks {
		evalNs = min(evalNs, run(eval))
		baseNs = min(baseNs, run(base))
	}
	return evalNs, baseNs
}

// BenchmarkEvaluate evaluates a person with 10 mixed facts under Default().
// evals/s and x_baseline come from a fixed 20,000-iteration timing of
// Evaluate and of the baseline inside the benchmark (see timeLoops), so they
// do not depend on -benchtime; ns/op is the usual per-iteration time of the b.Loop loop.
func BenchmarkEvaluate(b *testing.B) {
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	f, rs := benchFacts(), Default()
	if r := Evaluate(f, rs, now); r.Colour != Red || len(r.Clauses) != 2 {
		b.Fatalf("fixture: %+v", r)
	}
	evalNs, baseNs := timeLoops(f, rs, now, 20000)
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Evaluate(f, rs, now)
	}
	b.ReportMetric(1e9/evalNs, "evals/s")
	b.ReportMetric(evalNs/baseNs, "x_baseline")
}

// BenchmarkEvaluateBaseline runs the trivial hand-coded check over the same
// facts.
func BenchmarkEvaluateBaseline(b *testing.B) {
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	f := benchFacts()
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = baseline(f, now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkEvaluateGreen is the common case: nothing holds, nothing to explain.
func BenchmarkEvaluateGreen(b *testing.B) {
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	f, rs := benchFacts(), Default()
	f.Stays[1].Place = "610103"
	f.Health[2].Temperature, f.Health[2].Symptoms = f.Health[1].Temperature, nil
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Evaluate(f, rs, now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
