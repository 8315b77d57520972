package workcal

import (
	"math"
	"strconv"
	"strings"
	"time"

	"healthcode"
)

// Unit is the unit of a time limit. Its value is the suffix ParseLimit reads.
type Unit string

// The units of a time limit.
const (
	// ClockHours are natural hours (自然小时): the calendar is ignored, the
	// limit runs through nights, weekends and holidays. "24h" is 24 hours.
	ClockHours Unit = "h"
	// WorkingHours (工作小时) count only time within working hours of working
	// days. With default hours "8wh" from Friday 16:00 ends Monday 17:00
	// (1.5 h on Friday, 6.5 h on Monday).
	WorkingHours Unit = "wh"
	// WorkingDays (工作日) end at the close of the n-th working day; see
	// Calendar.Deadline for which day counts first.
	WorkingDays Unit = "wd"
)

// MaxAmount is the largest amount a Limit may have.
const MaxAmount = 10000

// Limit is a time limit such as "2h", "1wd" or "8wh". Build it with
// ParseLimit or take it from a Policy; a Limit built by hand should pass
// Validate. Any caller may use it.
type Limit struct {
	Amount int
	Unit   Unit
}

// ParseLimit parses a limit written as a positive whole number followed by
// a unit: "2h" and "24h" (clock hours), "8wh" (working hours), "1wd" and
// "5wd" (working days). Any caller may use it (typically on configuration).
//
// It returns an INVALID error if the text is not of that form or the amount
// exceeds MaxAmount.
func ParseLimit(s string) (Limit, error) {
	var u Unit
	var num string
	switch {
	case strings.HasSuffix(s, string(WorkingHours)):
		u, num = WorkingHours, strings.TrimSuffix(s, string(WorkingHours))
	case strings.HasSuffix(s, string(WorkingDays)):
		u, num = WorkingDays, strings.TrimSuffix(s, string(WorkingDays))
	case strings.HasSuffix(s, string(ClockHours)):
		u, num = ClockHours, strings.TrimSuffix(s, string(ClockHours))
	default:
		return Limit{}, errLimitFormat(s)
	}
	if num == "" || num[0] < '1' || num[0] > '9' {
		return Limit{}, errLimitFormat(s)
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return Limit{}, errLimitFormat(s)
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return Limit{}, errLimitFormat(s)
	}
	l := Limit{Amount: n, Unit: u}
	if err := l.Validate(); err != nil {
		return Limit{}, err
	}
	return l, nil
}

func errLimitFormat(s string) error {
	return healthcode.Errorf(healthcode.EINVALID, "时限 %q 格式应为正整数加单位，如 2h（自然小时）、8wh（工作小时）、1wd（工作日）", s)
}

// Validate checks that the unit is one of ClockHours, WorkingHours and
// WorkingDays and that 1 ≤ Amount ≤ MaxAmount. Any caller may use it.
//
// It returns an INVALID error otherwise.
func (l Limit) Validate() error {
	switch l.Unit {
	case ClockHours, WorkingHours, WorkingDays:
	default:
		return healthcode.Errorf(healthcode.EINVALID, "时限单位 %q 不正确，应为 h、wh 或 wd", string(l.Unit))
	}
	if l.Amount < 1 || l.Amount > MaxAmount {
		return healthcode.Errorf(healthcode.EINVALID, "时限数值 %d 应在 1 至 %d 之间", l.Amount, MaxAmount)
	}
	return nil
}

// String formats the limit as ParseLimit reads it, e.g. "5wd". Any caller
// may use it.
func (l Limit) String() string { return strconv.Itoa(l.Amount) + string(l.Unit) }

// MarshalText implements encoding.TextMarshaler (the String form). It
// returns no error.
func (l Limit) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLimit, so a
// Limit can sit in JSON configuration as "5wd". It returns ParseLimit's
// INVALID error.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Deadline returns the instant at which limit l, started at start, expires.
// Any caller may use it; the result is in CST. It returns no error: an
// invalid limit (see Limit.Validate) expires at start, so a configuration
// mistake shows up as "overdue" rather than as a silently lenient deadline.
//
//   - ClockHours: start + Amount hours.
//   - WorkingHours: the earliest instant by which Amount hours of working
//     time have passed since start. Ending exactly at a close (12:00, 17:30)
//     gives that close, not the next opening.
//   - WorkingDays: the close (end of the last working period) of the
//     Amount-th working day. If start is on a working day at or before its
//     opening (08:30), that day is the first; otherwise (start during or
//     after that day's working hours, lunch included, or on a rest day) the
//     first working day after the start day is the first. So with default
//     hours 1wd from Friday 15:00 or from Saturday ends Monday 17:30, and 1wd
//     from Monday 08:00 ends Monday 17:30.
func (c *Calendar) Deadline(start time.Time, l Limit) time.Time {
	start = start.In(CST)
	if l.Validate() != nil {
		return start
	}
	switch l.Unit {
	case ClockHours:
		return start.Add(time.Duration(l.Amount) * time.Hour)
	case WorkingHours:
		return c.addWorking(start, time.Duration(l.Amount)*time.Hour)
	default: // WorkingDays
		h := c.periods()
		d := dateOf(start)
		n := l.Amount
		if c.isWorkday(d) && !start.After(d.midnight().Add(h[0].Start)) {
			n-- // the start day counts as the first working day
		}
		for n > 0 {
			d = d.next()
			if c.isWorkday(d) {
				n--
			}
		}
		return d.midnight().Add(h[len(h)-1].End)
	}
}

// total returns the length of limit l started at start, measured in its own
// unit: clock time for ClockHours, working time otherwise.
func (c *Calendar) total(start time.Time, l Limit) time.Duration {
	switch l.Unit {
	case ClockHours:
		return time.Duration(l.Amount) * time.Hour
	case WorkingHours:
		return time.Duration(l.Amount) * time.Hour
	default:
		return c.workingBetween(start, c.Deadline(start, l))
	}
}

// WarnAt returns the instant at which fraction (0.8 for the hotline's
// warning) of limit l, started at start, has elapsed, measured like the
// limit: clock time for ClockHours, working time for WorkingHours and
// WorkingDays. It is the earliest instant at which Elapsed reaches fraction
// (to the nanosecond), so start ≤ WarnAt ≤ Deadline. fraction is clamped to [0, 1] (NaN counts as
// 0). Any caller may use it; it returns no error, and an invalid limit warns
// at start.
//
// Example: 1wd from Friday 15:00 lasts 9.5 working hours (2.5 on Friday, 7
// on Monday); 80 % is 7.6 h, reached Monday 15:36.
func (c *Calendar) WarnAt(start time.Time, l Limit, fraction float64) time.Time {
	start = start.In(CST)
	if l.Validate() != nil {
		return start
	}
	if !(fraction > 0) {
		fraction = 0
	}
	if fraction >= 1 {
		return c.Deadline(start, l)
	}
	part := time.Duration(math.Round(fraction * float64(c.total(start, l))))
	if l.Unit == ClockHours {
		return start.Add(part)
	}
	return c.addWorking(start, part)
}

// Elapsed returns the fraction of limit l, started at start, used up at now,
// measured like the limit (see WarnAt). It is 0 at or before start, exactly
// 1 at the deadline, and ≥ 1 from the deadline on, so Elapsed ≥ 1 means
// overdue (for working-time units it stays at 1 while no working time passes
// after the deadline, e.g. overnight). Any caller may use it; it returns no
// error, and an invalid limit gives 1 at or after start.
func (c *Calendar) Elapsed(start, now time.Time, l Limit) float64 {
	if l.Validate() != nil {
		if now.Before(start) {
			return 0
		}
		return 1
	}
	if !now.After(start) {
		return 0
	}
	tot := c.total(start, l)
	var used time.Duration
	if l.Unit == ClockHours {
		used = now.Sub(start)
	} else {
		used = c.workingBetween(start, now)
	}
	return float64(used) / float64(tot)
}
