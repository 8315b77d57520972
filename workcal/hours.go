package workcal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthcode"
)

// Period is one span of working time within a working day, as offsets from
// 00:00 CST: [Start, End). Any caller may build one.
type Period struct {
	Start time.Duration
	End   time.Duration
}

// Hours is the working hours of every working day: one or more periods in
// ascending order that do not overlap. The same hours apply to Monday to
// Friday and to make-up working days. Any caller may build one; check it
// with Validate or build it with ParseHours.
type Hours []Period

var defaultHours = Hours{
	{Start: 8*time.Hour + 30*time.Minute, End: 12 * time.Hour},
	{Start: 14 * time.Hour, End: 17*time.Hour + 30*time.Minute},
}

// DefaultHours returns the default working hours, 08:30–12:00 and
// 14:00–17:30 (7 working hours a day). Any caller may use it; it returns no
// error.
func DefaultHours() Hours { return slices.Clone(defaultHours) }

// ParseHours parses working hours written as comma-separated HH:MM-HH:MM
// periods, e.g. "08:30-12:00,14:00-17:30"; "24:00" is allowed as an end.
// Any caller may use it (typically on configuration).
//
// It returns an INVALID error if the text does not parse or the result is
// not valid (see Validate).
func ParseHours(s string) (Hours, error) {
	var h Hours
	for part := range strings.SplitSeq(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, healthcode.Errorf(healthcode.EINVALID, "工作时间 %q 格式应为 08:30-12:00,14:00-17:30", s)
		}
		start, err1 := parseClock(a)
		end, err2 := parseClock(b)
		if err1 != nil || err2 != nil {
			return nil, healthcode.Errorf(healthcode.EINVALID, "工作时间 %q 格式应为 08:30-12:00,14:00-17:30", s)
		}
		h = append(h, Period{Start: start, End: end})
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Validate checks that h has at least one period, that every period lies
// within the day (0 ≤ Start < End ≤ 24h), and that the periods are in
// ascending order without overlap (one may end where the next starts). Any
// caller may use it.
//
// It returns an INVALID error describing the first problem found.
func (h Hours) Validate() error {
	if len(h) == 0 {
		return healthcode.Errorf(healthcode.EINVALID, "工作时间至少应有一个时段")
	}
	for i, p := range h {
		if p.Start < 0 || p.End > 24*time.Hour || p.Start >= p.End {
			return healthcode.Errorf(healthcode.EINVALID, "工作时段 %s 不正确：开始应早于结束且在当日之内", p)
		}
		if i > 0 && p.Start < h[i-1].End {
			return healthcode.Errorf(healthcode.EINVALID, "工作时段 %s 与前一时段重叠或顺序不对", p)
		}
	}
	return nil
}

// PerDay returns the working time of one working day (7h by default). Any
// caller may use it; it returns no error.
func (h Hours) PerDay() time.Duration {
	var sum time.Duration
	for _, p := range h {
		sum += p.End - p.Start
	}
	return sum
}

// String formats the hours as ParseHours reads them. Any caller may use it.
func (h Hours) String() string {
	parts := make([]string, len(h))
	for i, p := range h {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// String formats the period as "HH:MM-HH:MM". Any caller may use it.
func (p Period) String() string { return clock(p.Start) + "-" + clock(p.End) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
