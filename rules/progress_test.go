package rules

import (
	"testing"
	"time"
)

// A clause that closes by consecutive daily normal check-ins states how far
// the latest run has come (Y2 after an abnormal record, Y1 after a medium-risk
// stay's window); other clauses state none. Every clause names the kind of the
// facts it cites.
func TestClauseCheckInProgressAndFactKind(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, CST) }
	temp := func(v float64) *float64 { return &v }
	checkins := func(ids int64, days ...int) []HealthRecord {
		var out []HealthRecord
		for i, d := range days {
			out = append(out, HealthRecord{ID: ids + int64(i), At: day(d, 8), Temperature: temp(36.5), Source: SourceCheckin})
		}
		return out
	}
	clause := func(r Result, id string) *ClauseResult {
		for i := range r.Clauses {
			if r.Clauses[i].ID == id {
				return &r.Clauses[i]
			}
		}
		return nil
	}

	// Fever on 11-01, normal check-ins on 11-02, 11-04, 11-05, 11-06: the
	// latest run is 3 days of 14.
	f := Facts{Health: append([]HealthRecord{{ID: 7, At: day(1, 9), Temperature: temp(38.6), Source: SourceCheckin}},
		checkins(10, 2, 4, 5, 6)...)}
	r := Evaluate(&f, nil, day(6, 20))
	y2 := clause(r, "Y2")
	if y2 == nil || y2.CheckIns == nil || *y2.CheckIns != (CheckInProgress{Needed: 14, Done: 3}) {
		t.Fatalf("Y2 = %+v, want check-ins 3 of 14", y2)
	}
	if y2.FactKind != FactHealth || len(y2.FactIDs) != 1 || y2.FactIDs[0] != 7 {
		t.Errorf("Y2 cites %s %v, want HEALTH [7]", y2.FactKind, y2.FactIDs)
	}

	// A medium-risk stay that ended on 10-10: its 14-day window is over, the
	// clause waits for 14 normal days after it; 2 so far (11-05, 11-06).
	to := day(10, 12).AddDate(0, -1, 0)
	f = Facts{Stays: []Stay{{ID: 4, Place: "420106", From: to.AddDate(0, 0, -3), To: &to, Source: "TRAVEL"}},
		AreaRisks: []AreaRisk{{Region: "4201", Level: Medium, From: day(1, 0).AddDate(0, -2, 0)}},
		Health:    checkins(20, 5, 6)}
	r = Evaluate(&f, nil, day(6, 20))
	y1 := clause(r, "Y1")
	if y1 == nil || y1.CheckIns == nil || *y1.CheckIns != (CheckInProgress{Needed: 14, Done: 2}) {
		t.Fatalf("Y1 = %+v, want check-ins 2 of 14", y1)
	}
	if y1.FactKind != FactStay || len(y1.FactIDs) != 1 || y1.FactIDs[0] != 4 {
		t.Errorf("Y1 cites %s %v, want STAY [4]", y1.FactKind, y1.FactIDs)
	}

	// Inside the stay's window with the 14 check-ins done, the clause closes
	// by time, not check-ins.
	f.Health = nil
	for i := 1; i <= 14; i++ {
		d := to.AddDate(0, 0, i)
		f.Health = append(f.Health, HealthRecord{ID: int64(30 + i), At: time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, CST),
			Temperature: temp(36.5), Source: SourceCheckin})
	}
	r = Evaluate(&f, nil, to.AddDate(0, 0, 14).Add(-2*time.Hour))
	if y1 = clause(r, "Y1"); y1 == nil || y1.CheckIns != nil {
		t.Errorf("Y1 inside the window = %+v, want no check-in progress", y1)
	}

	// A close contact closes by time: no progress, MEDICAL facts.
	f = Facts{Medical: []MedicalEvent{{ID: 3, Kind: CloseContact, At: day(1, 0)}}}
	r = Evaluate(&f, nil, day(5, 9))
	if len(r.Clauses) != 1 || r.Clauses[0].CheckIns != nil || r.Clauses[0].FactKind != FactMedical {
		t.Errorf("close contact = %+v, want MEDICAL facts and no check-in progress", r.Clauses)
	}

	// A designation cites DESIGNATION facts.
	f = Facts{Designations: []Designation{{ID: 2, Colour: Yellow, Approved: true, From: day(1, 0), Until: day(20, 0)}}}
	if r = Evaluate(&f, nil, day(5, 9)); len(r.Clauses) != 1 || r.Clauses[0].FactKind != FactDesignation {
		t.Errorf("designation = %+v, want DESIGNATION facts", r.Clauses)
	}

	// The green explanation names stays, or nothing.
	if g := ExplainGreen(&Facts{Stays: []Stay{{ID: 9, Place: "610113", From: day(1, 0), To: &to}}}, nil, day(5, 9)); g.FactKind != "" && g.FactKind != FactStay {
		t.Errorf("green clause cites %q", g.FactKind)
	}
	if g := GreenClause(nil); g.FactKind != "" || g.CheckIns != nil {
		t.Errorf("GreenClause = %+v, want no facts", g)
	}
}
