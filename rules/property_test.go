package rules

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var propBase = time.Date(2020, 11, 15, 0, 0, 0, 0, CST)

// genTime draws instants around propBase, biased to whole days and hours so
// that window boundaries (end + W exactly) are hit often.
func genTime(t *rapid.T, label string) time.Time {
	d := rapid.IntRange(-40, 20).Draw(t, label+"Day")
	h := rapid.SampledFrom([]int{0, 0, 8, 12, 23}).Draw(t, label+"Hour")
	m := rapid.SampledFrom([]int{0, 0, 30, 59}).Draw(t, label+"Min")
	return propBase.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

var (
	propPlaces  = []string{"610103001001", "610113", "610113001", "610113001001", "420106", "ABROAD:US", "ABROAD:JP"}
	propRegions = []string{"61", "6101", "610113", "610113001", "4201", "420106", "610103"}
	propTemps   = []float64{36.2, 36.8, 37.3, 37.4, 37.5, 38.6}
	propSymps   = []string{SymptomFever, SymptomCough, SymptomDryCough, SymptomDiarrhea, "fatigue"}
)

// genFacts draws a person's facts with unique ids.
func genFacts(t *rapid.T) *Facts {
	f := &Facts{}
	id := int64(0)
	next := func() int64 { id++; return id }
	for i := range rapid.IntRange(0, 4).Draw(t, "stays") {
		_ = i
		s := Stay{ID: next(), Place: rapid.SampledFrom(propPlaces).Draw(t, "place"), From: genTime(t, "stayFrom"), Source: SourceTravel}
		if rapid.IntRange(0, 3).Draw(t, "ongoing") > 0 {
			to := s.From.Add(time.Duration(rapid.IntRange(0, 10*24).Draw(t, "stayHours")) * time.Hour)
			s.To = &to
		}
		f.Stays = append(f.Stays, s)
	}
	for range rapid.IntRange(0, 3).Draw(t, "risks") {
		f.AreaRisks = append(f.AreaRisks, AreaRisk{Region: rapid.SampledFrom(propRegions).Draw(t, "region"),
			Level: rapid.SampledFrom([]string{High, Medium, Low}).Draw(t, "level"), From: genTime(t, "riskFrom")})
	}
	for range rapid.IntRange(0, 5).Draw(t, "medical") {
		f.Medical = append(f.Medical, MedicalEvent{ID: next(), Kind: rapid.SampledFrom(MedicalKinds).Draw(t, "kind"), At: genTime(t, "medAt")})
	}
	for range rapid.IntRange(0, 20).Draw(t, "health") {
		r := HealthRecord{ID: next(), At: genTime(t, "recAt"), Source: rapid.SampledFrom([]string{SourceCheckin, SourceCheckin, SourceDeclaration, SourceScan}).Draw(t, "recSource")}
		if rapid.Bool().Draw(t, "hasTemp") {
			v := rapid.SampledFrom(propTemps).Draw(t, "temp")
			r.Temperature = &v
		}
		if rapid.IntRange(0, 4).Draw(t, "hasSymptom") == 0 {
			r.Symptoms = []string{rapid.SampledFrom(propSymps).Draw(t, "symptom")}
		}
		f.Health = append(f.Health, r)
	}
	for range rapid.IntRange(0, 2).Draw(t, "designations") {
		from := genTime(t, "desFrom")
		f.Designations = append(f.Designations, Designation{ID: next(), Colour: rapid.SampledFrom([]string{Red, Yellow}).Draw(t, "desColour"),
			From: from, Until: from.AddDate(0, 0, rapid.IntRange(0, 20).Draw(t, "desDays")), Approved: rapid.Bool().Draw(t, "approved")})
	}
	return f
}

// genRuleSet draws Default() or a valid adjustment of it.
func genRuleSet(t *rapid.T) *RuleSet {
	rs := Default()
	if rapid.Bool().Draw(t, "adjusted") {
		rs.Version = "adjusted"
		rs.Window = Duration(time.Duration(rapid.SampledFrom([]int{1, 7, 14, 21}).Draw(t, "windowDays")) * Day)
		thr := rapid.SampledFrom([]float64{37.0, 37.3, 37.5}).Draw(t, "threshold")
		nd := rapid.IntRange(1, 14).Draw(t, "normalDays")
		rs.Clauses[8].Params.Threshold, rs.Clauses[8].Params.NormalDays = &thr, &nd
		if rapid.Bool().Draw(t, "mediumRed") {
			rs.Clauses[7].Colour = Red
		}
		if rapid.Bool().Draw(t, "contactWindow") {
			w := Duration(21 * Day)
			rs.Clauses[4].Params.Window = &w
		}
	}
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	return rs
}

func genNow(t *rapid.T) time.Time {
	return propBase.Add(time.Duration(rapid.IntRange(-5*24*60, 20*24*60).Draw(t, "nowMin")) * time.Minute)
}

func copyFacts(f *Facts) *Facts {
	c := &Facts{
		Stays:        slices.Clone(f.Stays),
		AreaRisks:    slices.Clone(f.AreaRisks),
		Medical:      slices.Clone(f.Medical),
		Health:       slices.Clone(f.Health),
		Designations: slices.Clone(f.Designations),
	}
	for i := range c.Stays {
		if c.Stays[i].To != nil {
			to := *c.Stays[i].To
			c.Stays[i].To = &to
		}
	}
	for i := range c.Health {
		if c.Health[i].Temperature != nil {
			v := *c.Health[i].Temperature
			c.Health[i].Temperature = &v
		}
		c.Health[i].Symptoms = slices.Clone(c.Health[i].Symptoms)
	}
	return c
}

// cloneRuleSet deep-copies a rule set through its JSON form.
func cloneRuleSet(t *rapid.T, rs *RuleSet) *RuleSet {
	data, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func factIDs(f *Facts) map[int64]bool {
	ids := map[int64]bool{}
	for _, s := range f.Stays {
		ids[s.ID] = true
	}
	for _, m := range f.Medical {
		ids[m.ID] = true
	}
	for _, h := range f.Health {
		ids[h.ID] = true
	}
	for _, d := range f.Designations {
		ids[d.ID] = true
	}
	return ids
}

func TestPropertyDeterministicAndPure(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f, rs, now := genFacts(t), genRuleSet(t), genNow(t)
		fCopy, rsCopy := copyFacts(f), cloneRuleSet(t, rs)
		r1 := Evaluate(f, rs, now)
		r2 := Evaluate(f, rs, now)
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("two evaluations differ:\n%+v\n%+v", r1, r2)
		}
		if !reflect.DeepEqual(f, fCopy) {
			t.Fatal("Evaluate mutated the facts")
		}
		if !reflect.DeepEqual(rs, rsCopy) {
			t.Fatal("Evaluate mutated the rule set")
		}
		// Re-evaluating with the same facts, in another order, gives the same
		// colour, clauses and reevaluateAt.
		shuffled := copyFacts(f)
		slices.Reverse(shuffled.Stays)
		slices.Reverse(shuffled.Medical)
		slices.Reverse(shuffled.Health)
		slices.Reverse(shuffled.Designations)
		r3 := Evaluate(shuffled, rs, now)
		if r3.Colour != r1.Colour || !sameClauses(r1, r3) || !sameTime(r1.ReevaluateAt, r3.ReevaluateAt) {
			t.Fatalf("fact order changed the result:\n%+v\n%+v", r1, r3)
		}
	})
}

func sameClauses(a, b Result) bool {
	if len(a.Clauses) != len(b.Clauses) {
		return false
	}
	for i := range a.Clauses {
		x, y := slices.Clone(a.Clauses[i].FactIDs), slices.Clone(b.Clauses[i].FactIDs)
		slices.Sort(x)
		slices.Sort(y)
		if a.Clauses[i].ID != b.Clauses[i].ID || !slices.Equal(x, y) || !sameTime(a.Clauses[i].Until, b.Clauses[i].Until) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

func TestPropertyResultIsExplained(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f, rs, now := genFacts(t), genRuleSet(t), genNow(t)
		r := Evaluate(f, rs, now)
		if r.Colour != Green && len(r.Clauses) == 0 {
			t.Fatalf("%s without a clause", r.Colour)
		}
		ids := factIDs(f)
		worst, last := Green, -1
		for _, cr := range r.Clauses {
			if len(cr.FactIDs) == 0 || cr.Reason == "" {
				t.Fatalf("clause %s names no fact or reason", cr.ID)
			}
			for _, id := range cr.FactIDs {
				if !ids[id] {
					t.Fatalf("clause %s cites fact %d which does not exist", cr.ID, id)
				}
			}
			if Severity(cr.Colour) > Severity(worst) {
				worst = cr.Colour
			}
			pos := slices.IndexFunc(rs.Clauses, func(c Clause) bool { return c.ID == cr.ID })
			if pos <= last {
				t.Fatalf("clauses not in rule-set order: %s", cr.ID)
			}
			last = pos
			if cr.Until != nil && !cr.Until.After(now) {
				t.Fatalf("clause %s until %v is not after now", cr.ID, cr.Until)
			}
		}
		if worst != r.Colour {
			t.Fatalf("colour %s, most severe clause %s", r.Colour, worst)
		}
		if r.ReevaluateAt != nil && !r.ReevaluateAt.After(now) {
			t.Fatalf("reevaluateAt %v is not after now %v", r.ReevaluateAt, now)
		}
	})
}

func TestPropertyConfirmedIsMonotone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f, rs, now := genFacts(t), genRuleSet(t), genNow(t)
		before := Evaluate(f, rs, now)
		// A diagnosis after everything the health authority has recorded so
		// far (四(三)/四(四): 如被诊断为新冠肺炎确诊病例……调整为红码). An
		// earlier-dated CONFIRMED may legitimately close a SUSPECTED or
		// ASYMPTOMATIC episode that a later DISCHARGED then follows.
		latest := time.Time{}
		for _, m := range f.Medical {
			if !m.At.After(now) && m.At.After(latest) {
				latest = m.At
			}
		}
		if !latest.Before(now) {
			return
		}
		gap := int64(now.Sub(latest))
		at := now.Add(-time.Duration(rapid.Int64Range(0, min(gap-1, int64(60*Day))).Draw(t, "confirmedBefore")))
		g := copyFacts(f)
		g.Medical = append(g.Medical, MedicalEvent{ID: 1 << 40, Kind: Confirmed, At: at})
		after := Evaluate(g, rs, now)
		if Severity(after.Colour) < Severity(before.Colour) {
			t.Fatalf("adding CONFIRMED at %v lowered %s to %s", at, before.Colour, after.Colour)
		}
		if after.Colour != Red {
			t.Fatalf("a person with an open CONFIRMED is %s", after.Colour)
		}
	})
}

func TestPropertyNothingChangesBeforeReevaluateAt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f, rs, now := genFacts(t), genRuleSet(t), genNow(t)
		r := Evaluate(f, rs, now)
		if r.ReevaluateAt == nil {
			later := now.AddDate(1, 0, 0)
			if got := Evaluate(f, rs, later); !reflect.DeepEqual(got, r) {
				t.Fatalf("reevaluateAt is nil but the result changed by %v:\n%+v\n%+v", later, r, got)
			}
			return
		}
		end := r.ReevaluateAt.Add(-time.Nanosecond)
		if got := Evaluate(f, rs, end); !reflect.DeepEqual(got, r) {
			t.Fatalf("result changed before reevaluateAt %v:\n%+v\n%+v", r.ReevaluateAt, r, got)
		}
		span := int64(end.Sub(now))
		if span > 0 {
			mid := now.Add(time.Duration(rapid.Int64Range(0, span).Draw(t, "mid")))
			if got := Evaluate(f, rs, mid); !reflect.DeepEqual(got, r) {
				t.Fatalf("result changed at %v before reevaluateAt %v:\n%+v\n%+v", mid, r.ReevaluateAt, r, got)
			}
		}
	})
}
