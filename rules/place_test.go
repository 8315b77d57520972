package rules

import (
	"strings"
	"testing"
	"time"

	"healthcode/divisions"
)

// TestAbroadPlaceNamed: a clause reason names a place abroad by its country
// in Chinese, as facts and appeal subjects do (divisions.PlaceLabel), never
// by the stored code; a PlaceName given by storage wins.
func TestAbroadPlaceNamed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, CST)
	from, to := time.Date(2026, 11, 20, 0, 0, 0, 0, CST), time.Date(2026, 11, 24, 0, 0, 0, 0, CST)
	for _, c := range []struct {
		place, placeName, want string
	}{
		{"ABROAD:JP", "", "2026-11-20至2026-11-23在境外（日本）旅居，14天内有境外旅居史"},
		{"ABROAD:US", "", "在境外（美国）旅居"},
		{"ABROAD:BR", "", "在境外（BR）旅居"}, // no Chinese name in package divisions
		{"ABROAD:JP", "日本东京", "在日本东京旅居"},
	} {
		f := &Facts{Stays: []Stay{
			{ID: 1, Place: "610113001001", From: from.AddDate(0, -1, 0), Source: SourceResidence},
			{ID: 2, Place: c.place, PlaceName: c.placeName, From: from, To: &to, Source: SourceTravel},
		}}
		r := Evaluate(f, nil, now)
		if r.Colour != Red || len(r.Clauses) == 0 || r.Clauses[0].ID != "R1" {
			t.Fatalf("%s: result %+v", c.place, r)
		}
		reason := r.Clauses[0].Reason
		if !strings.Contains(reason, c.want) || strings.Contains(reason, "ABROAD") || strings.Contains(reason, "境外(") {
			t.Errorf("%s: reason %q, want it to contain %q", c.place, reason, c.want)
		}
		if c.placeName == "" && !strings.Contains(reason, "在"+divisions.PlaceLabel(c.place)+"旅居") {
			t.Errorf("%s: reason %q does not use divisions.PlaceLabel %q", c.place, reason, divisions.PlaceLabel(c.place))
		}
	}
}
