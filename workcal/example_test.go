package workcal_test

import (
	"fmt"
	"time"

	"healthcode/workcal"
)

func Example() {
	cal, err := workcal.Load()
	if err != nil {
		panic(err)
	}
	l, err := workcal.DefaultPolicy().Limit(workcal.Complaint, workcal.Normal, workcal.Sign)
	if err != nil {
		panic(err)
	}
	// Dispatched on Wednesday 30 September 2026 at 16:00, the eve of National Day.
	start := time.Date(2026, 9, 30, 16, 0, 0, 0, workcal.CST)
	fmt.Println(l)
	fmt.Println(cal.Deadline(start, l).Format("2006-01-02 15:04"))
	fmt.Println(cal.WarnAt(start, l, 0.8).Format("2006-01-02 15:04"))
	fmt.Printf("%.2f\n", cal.Elapsed(start, time.Date(2026, 10, 8, 12, 0, 0, 0, workcal.CST), l))
	// Output:
	// 1wd
	// 2026-10-08 17:30
	// 2026-10-08 15:48
	// 0.59
}

func ExampleCalendar_Deadline() {
	cal, _ := workcal.Load()
	show := func(start string, limit string) {
		s, _ := time.ParseInLocation("2006-01-02 15:04", start, workcal.CST)
		l, _ := workcal.ParseLimit(limit)
		fmt.Printf("%s %s + %-4s → %s\n", start, s.Weekday().String()[:3], limit,
			cal.Deadline(s, l).Format("2006-01-02 15:04 Mon"))
	}
	show("2026-03-13 15:00", "1wd") // over a weekend
	show("2026-03-16 08:00", "1wd") // before opening: the day counts
	show("2026-02-13 16:00", "1wd") // make-up Saturday 2026-02-14
	show("2026-09-30 16:00", "1wd") // National Day holiday
	show("2020-01-23 10:00", "1wd") // Spring Festival 2020, extended
	show("2026-03-16 11:00", "4wh") // over lunch
	show("2026-10-03 23:00", "2h")  // clock hours ignore the calendar
	// Output:
	// 2026-03-13 15:00 Fri + 1wd  → 2026-03-16 17:30 Mon
	// 2026-03-16 08:00 Mon + 1wd  → 2026-03-16 17:30 Mon
	// 2026-02-13 16:00 Fri + 1wd  → 2026-02-14 17:30 Sat
	// 2026-09-30 16:00 Wed + 1wd  → 2026-10-08 17:30 Thu
	// 2020-01-23 10:00 Thu + 1wd  → 2020-02-03 17:30 Mon
	// 2026-03-16 11:00 Mon + 4wh  → 2026-03-16 17:00 Mon
	// 2026-10-03 23:00 Sat + 2h   → 2026-10-04 01:00 Sun
}
