package rules

import (
	"strings"
	"testing"
	"time"
)

// A period that ends at midnight is told by its last day: a close contact's
// observation from 11-01 00:00 for 14 days ends at 11-15 00:00 and runs
// "至2026-11-14"; a designation until 12-10 00:00 is valid "至2026-12-09".
// An end at another time of day is told with that time.
func TestReasonsTellEndsByTheirLastDay(t *testing.T) {
	now := time.Date(2026, 11, 5, 9, 0, 0, 0, CST)
	for _, c := range []struct {
		name  string
		facts Facts
		want  string
		not   string
	}{
		{"close contact at midnight", Facts{Medical: []MedicalEvent{{ID: 1, Kind: CloseContact, At: time.Date(2026, 11, 1, 0, 0, 0, 0, CST)}}},
			"医学观察期14天至2026-11-14", "至2026-11-15"},
		{"close contact in the afternoon", Facts{Medical: []MedicalEvent{{ID: 1, Kind: CloseContact, At: time.Date(2026, 11, 1, 15, 30, 0, 0, CST)}}},
			"医学观察期14天至2026-11-15 15:30", ""},
		{"designation until midnight", Facts{Designations: []Designation{{ID: 2, Colour: Yellow, Approved: true,
			From: time.Date(2026, 11, 3, 0, 0, 0, 0, CST), Until: time.Date(2026, 12, 10, 0, 0, 0, 0, CST)}}},
			"有效期至2026-12-09", "至2026-12-10"},
		{"discharge at midnight", Facts{Medical: []MedicalEvent{{ID: 3, Kind: Discharged, At: time.Date(2026, 11, 1, 0, 0, 0, 0, CST)}}},
			"集中隔离医学观察至2026-11-14", "至2026-11-15"},
	} {
		r := Evaluate(&c.facts, nil, now)
		if len(r.Clauses) == 0 {
			t.Errorf("%s: no clause holds", c.name)
			continue
		}
		reason := r.Clauses[0].Reason
		if !strings.Contains(reason, c.want) || (c.not != "" && strings.Contains(reason, c.not)) {
			t.Errorf("%s: reason %q, want %q", c.name, reason, c.want)
		}
	}
}
