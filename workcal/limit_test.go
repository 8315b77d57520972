package workcal

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"healthcode"
	"pgregory.net/rapid"
)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Limit
	}{
		{"2h", Limit{2, ClockHours}},
		{"24h", Limit{24, ClockHours}},
		{"1wd", Limit{1, WorkingDays}},
		{"5wd", Limit{5, WorkingDays}},
		{"8wh", Limit{8, WorkingHours}},
		{"10000h", Limit{10000, ClockHours}},
	}
	for _, tt := range good {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLimit(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String = %q, want %q", got.String(), tt.in)
			}
		})
	}
	for _, in := range []string{"", "h", "wd", "0h", "-1h", "+1h", "01wd", "1.5h", "1d", "1 wd", " 1wd", "1WD",
		"2hh", "10001h", "99999999999999999999h", "1w", "wh1"} {
		t.Run("bad "+in, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseLimit(in); healthcode.ErrorCode(err) != healthcode.EINVALID {
				t.Fatalf("ParseLimit(%q) = %v, want INVALID", in, err)
			}
		})
	}
}

func TestLimitValidateAndText(t *testing.T) {
	t.Parallel()
	for _, l := range []Limit{{}, {0, WorkingDays}, {-1, ClockHours}, {1, "d"}, {MaxAmount + 1, WorkingHours}} {
		if healthcode.ErrorCode(l.Validate()) != healthcode.EINVALID {
			t.Errorf("Validate(%#v) passed", l)
		}
	}
	var v struct{ L Limit }
	if err := json.Unmarshal([]byte(`{"L":"5wd"}`), &v); err != nil || v.L != (Limit{5, WorkingDays}) {
		t.Errorf("unmarshal = %v, %v", v.L, err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"L":"5wd"}` {
		t.Errorf("marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"L":"5d"}`), &v); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("unmarshal of a bad limit = %v, want INVALID", err)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		name  string
		start string
		limit string
		want  string
	}{
		// Working days, plain weeks (March 2026 has no holiday).
		{"Friday afternoon over the weekend", "2026-03-13 15:00", "1wd", "2026-03-16 17:30"},
		{"Saturday counts from Monday", "2026-03-14 10:00", "1wd", "2026-03-16 17:30"},
		{"before opening counts the day", "2026-03-16 08:00", "1wd", "2026-03-16 17:30"},
		{"at opening counts the day", "2026-03-16 08:30", "1wd", "2026-03-16 17:30"},
		{"just after opening counts from tomorrow", "2026-03-16 08:31", "1wd", "2026-03-17 17:30"},
		{"lunch break counts from tomorrow", "2026-03-16 12:30", "1wd", "2026-03-17 17:30"},
		{"evening counts from tomorrow", "2026-03-16 18:00", "1wd", "2026-03-17 17:30"},
		{"at close counts from tomorrow", "2026-03-16 17:30", "1wd", "2026-03-17 17:30"},
		{"5wd over a weekend", "2026-03-13 15:00", "5wd", "2026-03-20 17:30"},
		{"5wd from before opening", "2026-03-16 07:00", "5wd", "2026-03-20 17:30"},
		// Working days across holidays and make-up days.
		{"across National Day 2026", "2026-09-30 16:00", "1wd", "2026-10-08 17:30"},
		{"5wd across National Day 2026 and its make-up Saturday", "2026-09-30 16:00", "5wd", "2026-10-13 17:30"},
		{"make-up Saturday counts", "2026-02-13 16:00", "1wd", "2026-02-14 17:30"},
		{"after the make-up Saturday, Spring Festival", "2026-02-14 18:00", "1wd", "2026-02-24 17:30"},
		{"5wd across Spring Festival 2026", "2026-02-12 10:00", "5wd", "2026-02-26 17:30"},
		{"make-up Saturday 2026-02-28", "2026-02-27 09:00", "1wd", "2026-02-28 17:30"},
		{"new year to the make-up Sunday", "2025-12-31 16:00", "1wd", "2026-01-04 17:30"},
		{"new year 2wd", "2025-12-31 16:00", "2wd", "2026-01-05 17:30"},
		{"Spring Festival 2020 extension", "2020-01-23 10:00", "1wd", "2020-02-03 17:30"},
		{"Spring Festival 2020: 1 February is no make-up day", "2020-01-30 10:00", "1wd", "2020-02-03 17:30"},
		{"make-up Sunday 2020-01-19", "2020-01-18 10:00", "1wd", "2020-01-19 17:30"},
		{"6wd after the 2020 extension", "2020-01-23 10:00", "6wd", "2020-02-10 17:30"},
		{"National Day 2020 (8 days)", "2020-09-30 10:00", "1wd", "2020-10-09 17:30"},
		{"2020 into 2021 data", "2020-12-31 10:00", "1wd", "2021-01-04 17:30"},
		{"year without data: weekdays work", "2025-09-30 16:00", "1wd", "2025-10-01 17:30"},
		// Working hours.
		{"over lunch", "2026-03-16 11:00", "4wh", "2026-03-16 17:00"},
		{"starting in the lunch break", "2026-03-16 12:30", "1wh", "2026-03-16 15:00"},
		{"ending exactly at noon", "2026-03-16 10:00", "2wh", "2026-03-16 12:00"},
		{"ending exactly at close", "2026-03-16 14:30", "3wh", "2026-03-16 17:30"},
		{"a full day from the afternoon ends at noon next day", "2026-03-16 14:00", "7wh", "2026-03-17 12:00"},
		{"overnight", "2026-03-16 16:00", "8wh", "2026-03-17 17:00"},
		{"from the evening", "2026-03-16 20:00", "1wh", "2026-03-17 09:30"},
		{"over a weekend to noon", "2026-03-13 17:00", "4wh", "2026-03-16 12:00"},
		{"over National Day", "2026-09-30 16:00", "8wh", "2026-10-08 17:00"},
		{"onto a make-up Saturday", "2026-02-13 17:00", "1wh", "2026-02-14 09:00"},
		{"seconds are kept", "2026-03-16 11:59:30", "1wh", "2026-03-16 14:59:30"},
		// Clock hours ignore the calendar.
		{"2h over midnight on a holiday weekend", "2026-10-03 23:00", "2h", "2026-10-04 01:00"},
		{"24h in Spring Festival", "2026-02-15 10:00", "24h", "2026-02-16 10:00"},
		{"2h at night", "2026-03-16 22:30", "2h", "2026-03-17 00:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseLimit(tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Deadline(at(t, tt.start), l)
			if !got.Equal(at(t, tt.want)) {
				t.Fatalf("Deadline(%s, %s) = %s, want %s", tt.start, tt.limit, got.Format(time.DateTime), tt.want)
			}
			if got.Location() != CST {
				t.Errorf("deadline not in CST: %s", got.Location())
			}
		})
	}
}

func TestDeadlineOtherZoneAndInvalidLimit(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	// 2026-03-13 07:00 UTC is Friday 15:00 CST.
	start := time.Date(2026, 3, 13, 7, 0, 0, 0, time.UTC)
	if got := c.Deadline(start, Limit{1, WorkingDays}); !got.Equal(at(t, "2026-03-16 17:30")) {
		t.Errorf("UTC start: %s", got)
	}
	// 2026-03-15 23:00 UTC is Monday 07:00 CST: before opening, the day counts.
	if got := c.Deadline(time.Date(2026, 3, 15, 23, 0, 0, 0, time.UTC), Limit{1, WorkingDays}); !got.Equal(at(t, "2026-03-16 17:30")) {
		t.Errorf("UTC start before opening: %s", got)
	}
	s := at(t, "2026-03-16 10:00")
	for _, l := range []Limit{{}, {0, WorkingDays}, {3, "d"}, {MaxAmount + 1, ClockHours}} {
		if got := c.Deadline(s, l); !got.Equal(s) {
			t.Errorf("Deadline with invalid %#v = %s, want start", l, got)
		}
		if got := c.WarnAt(s, l, 0.8); !got.Equal(s) {
			t.Errorf("WarnAt with invalid %#v = %s, want start", l, got)
		}
		if got := c.Elapsed(s, s.Add(time.Minute), l); got != 1 {
			t.Errorf("Elapsed with invalid %#v = %v, want 1", l, got)
		}
		if got := c.Elapsed(s, s.Add(-time.Minute), l); got != 0 {
			t.Errorf("Elapsed before start with invalid %#v = %v, want 0", l, got)
		}
	}
}

func TestWarnAt(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		name     string
		start    string
		limit    string
		fraction float64
		want     string
	}{
		{"1wd from Friday 15:00 (9.5 wh)", "2026-03-13 15:00", "1wd", 0.8, "2026-03-16 15:36"},
		{"1wd from before opening (7 wh)", "2026-03-16 08:00", "1wd", 0.8, "2026-03-16 16:06"},
		{"5wd from Monday morning (35 wh, 28 wh = 4 days)", "2026-03-16 08:00", "5wd", 0.8, "2026-03-19 17:30"},
		{"1wd across National Day (8.5 wh)", "2026-09-30 16:00", "1wd", 0.8, "2026-10-08 15:48"},
		{"4wh over lunch at half", "2026-03-16 11:00", "4wh", 0.5, "2026-03-16 15:00"},
		{"4wh urgent complaint sign", "2026-03-16 11:00", "4wh", 0.8, "2026-03-16 16:12"},
		{"2h code appeal", "2026-10-01 10:00", "2h", 0.8, "2026-10-01 11:36"},
		{"24h code appeal", "2026-10-01 10:00", "24h", 0.8, "2026-10-02 05:12"},
		{"fraction 0 is start", "2026-03-13 15:00", "1wd", 0, "2026-03-13 15:00"},
		{"negative fraction is start", "2026-03-13 15:00", "1wd", -1, "2026-03-13 15:00"},
		{"NaN fraction is start", "2026-03-13 15:00", "1wd", math.NaN(), "2026-03-13 15:00"},
		{"fraction 1 is deadline", "2026-03-13 15:00", "1wd", 1, "2026-03-16 17:30"},
		{"fraction above 1 is deadline", "2026-03-13 15:00", "1wd", 1.5, "2026-03-16 17:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseLimit(tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			start := at(t, tt.start)
			got := c.WarnAt(start, l, tt.fraction)
			if !got.Equal(at(t, tt.want)) {
				t.Fatalf("WarnAt = %s, want %s", got.Format(time.DateTime), tt.want)
			}
			if f := tt.fraction; f >= 0 && f <= 1 {
				if e := c.Elapsed(start, got, l); math.Abs(e-f) > 1e-9 {
					t.Errorf("Elapsed at WarnAt = %v, want %v", e, f)
				}
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		name  string
		start string
		limit string
		now   string
		want  float64
	}{
		{"before start", "2026-03-13 15:00", "1wd", "2026-03-13 14:00", 0},
		{"at start", "2026-03-13 15:00", "1wd", "2026-03-13 15:00", 0},
		{"Friday close", "2026-03-13 15:00", "1wd", "2026-03-13 17:30", 2.5 / 9.5},
		{"weekend adds nothing", "2026-03-13 15:00", "1wd", "2026-03-15 12:00", 2.5 / 9.5},
		{"at the warning", "2026-03-13 15:00", "1wd", "2026-03-16 15:36", 0.8},
		{"at the deadline", "2026-03-13 15:00", "1wd", "2026-03-16 17:30", 1},
		{"evening after the deadline", "2026-03-13 15:00", "1wd", "2026-03-16 20:00", 1},
		{"next morning after the deadline", "2026-03-13 15:00", "1wd", "2026-03-17 09:00", 10 / 9.5},
		{"working hours over lunch", "2026-03-16 11:00", "4wh", "2026-03-16 14:00", 0.25},
		{"working hours overdue", "2026-03-16 11:00", "4wh", "2026-03-17 09:30", 1.375},
		{"clock hours at night", "2026-10-01 22:00", "2h", "2026-10-01 23:00", 0.5},
		{"clock hours overdue", "2026-10-01 22:00", "2h", "2026-10-02 01:00", 1.5},
		{"holiday adds nothing", "2026-09-30 16:00", "1wd", "2026-10-07 23:00", 1.5 / 8.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseLimit(tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Elapsed(at(t, tt.start), at(t, tt.now), l); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("Elapsed = %v, want %v", got, tt.want)
			}
		})
	}
	// One nanosecond before the deadline is not overdue.
	l := Limit{1, WorkingDays}
	s := at(t, "2026-03-13 15:00")
	if e := c.Elapsed(s, c.Deadline(s, l).Add(-time.Nanosecond), l); e >= 1 {
		t.Errorf("Elapsed just before the deadline = %v", e)
	}
}

func TestWorkingTime(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		a, b string
		want time.Duration
	}{
		{"2026-03-16 08:00", "2026-03-16 18:00", 7 * time.Hour},
		{"2026-03-16 11:00", "2026-03-16 15:00", 2 * time.Hour},
		{"2026-03-13 15:00", "2026-03-16 17:30", 9*time.Hour + 30*time.Minute},
		{"2026-09-30 00:00", "2026-10-09 00:00", 14 * time.Hour},
		{"2026-03-16 15:00", "2026-03-16 11:00", 0},
	}
	for _, tt := range tests {
		if got := c.WorkingTime(at(t, tt.a), at(t, tt.b)); got != tt.want {
			t.Errorf("WorkingTime(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestDeadlineProperties checks, over random starts spanning years with and
// without data, that Deadline is monotone in start and in amount, that
// Elapsed is exactly 1 at the deadline and below 1 just before it, and that
// WarnAt lies between start and deadline.
func TestDeadlineProperties(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	lo := at(t, "2019-12-01 00:00").Unix()
	hi := at(t, "2027-01-31 00:00").Unix()
	units := []Unit{ClockHours, WorkingHours, WorkingDays}
	drawStart := func(t *rapid.T, label string) time.Time {
		s := rapid.Int64Range(lo, hi).Draw(t, label)
		if rapid.Bool().Draw(t, label+"-aligned") {
			s -= s % 1800 // hit the opening, lunch and closing boundaries
		}
		return time.Unix(s, 0).In(CST)
	}
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.SampledFrom(units).Draw(t, "unit")
		a1 := rapid.IntRange(1, 40).Draw(t, "a1")
		a2 := rapid.IntRange(a1, 40).Draw(t, "a2")
		s1 := drawStart(t, "s1")
		s2 := s1.Add(time.Duration(rapid.Int64Range(0, 10*24*3600).Draw(t, "gap")) * time.Second)
		l1, l2 := Limit{a1, u}, Limit{a2, u}

		d1 := c.Deadline(s1, l1)
		if d1.Before(s1) {
			t.Fatalf("Deadline(%s, %s) = %s before start", s1, l1, d1)
		}
		if d := c.Deadline(s2, l1); d.Before(d1) {
			t.Fatalf("not monotone in start: Deadline(%s, %s) = %s < Deadline(%s) = %s", s2, l1, d, s1, d1)
		}
		if d := c.Deadline(s1, l2); d.Before(d1) || (a2 > a1 && !d.After(d1)) {
			t.Fatalf("not monotone in amount: Deadline(%s, %s) = %s vs %s = %s", s1, l2, d, l1, d1)
		}
		if e := c.Elapsed(s1, d1, l1); math.Abs(e-1) > 1e-9 {
			t.Fatalf("Elapsed at deadline = %v", e)
		}
		if e := c.Elapsed(s1, d1.Add(-time.Nanosecond), l1); e >= 1 {
			t.Fatalf("Elapsed just before deadline = %v", e)
		}
		f := rapid.Float64Range(0, 1).Draw(t, "fraction")
		w := c.WarnAt(s1, l1, f)
		if w.Before(s1) || w.After(d1) {
			t.Fatalf("WarnAt(%s, %s, %v) = %s outside [start, deadline %s]", s1, l1, f, w, d1)
		}
		if e := c.Elapsed(s1, w, l1); math.Abs(e-f) > 1e-9 {
			t.Fatalf("Elapsed at WarnAt(%v) = %v", f, e)
		}
		if u == WorkingDays {
			if !c.IsWorkday(d1) || d1.Hour() != 17 || d1.Minute() != 30 {
				t.Fatalf("working-day deadline %s is not a close of a working day", d1)
			}
		}
		if u == WorkingHours && !c.IsWorkingTime(d1.Add(-time.Nanosecond)) {
			t.Fatalf("working-hours deadline %s does not end working time", d1)
		}
	})
}
