package postgres

import (
	"time"

	"healthcode"
)

// travelStay turns a declared travel entry (dates) into a stay interval:
// from the start of the first day to the start of the day after the last.
func travelStay(t healthcode.TravelEntry) (time.Time, time.Time) {
	return healthcode.DayStart(t.From), healthcode.DayStart(t.To).AddDate(0, 0, 1)
}

// placePath returns the ltree path of a place inside Shaanxi, or nil.
func placePath(place string) *string {
	if _, ok := healthcode.LevelOfCode(place); !ok {
		return nil
	}
	p := ltreePath(place)
	return &p
}
