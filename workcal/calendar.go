package workcal

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"healthcode"
)

// CST is China Standard Time (UTC+8, no daylight saving), the zone in which
// every calendar day, working hour and deadline of this package is reckoned.
// Any caller may use it.
var CST = healthcode.CST

//go:embed data/*.json
var dataFS embed.FS

// Day is one dated entry of a year's calendar data: a holiday (放假日) or a
// make-up working day (调休上班日). Date is "YYYY-MM-DD" in CST; Name is the
// Chinese name of the holiday it belongs to. Any caller may build one.
type Day struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// Year is the holiday arrangement of one calendar year as published by the
// State Council General Office. Holidays lists every rest day of the
// arrangement, weekends included; MakeupWorkdays lists the weekend days that
// are working days (调休上班). Any caller may build one and pass it to New.
type Year struct {
	Year           int    `json:"year"`
	Source         string `json:"source"`
	Note           string `json:"note,omitempty"`
	Holidays       []Day  `json:"holidays"`
	MakeupWorkdays []Day  `json:"makeup_workdays"`
}

// date is a calendar day in CST.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.In(CST).Date()
	return date{y, m, d}
}

// midnight returns 00:00 CST of the day.
func (d date) midnight() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, CST) }

// next returns the following calendar day.
func (d date) next() date { return dateOf(time.Date(d.y, d.m, d.d+1, 12, 0, 0, 0, CST)) }

func (d date) weekday() time.Weekday { return d.midnight().Weekday() }

func parseDate(s string) (date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, CST)
	if err != nil {
		return date{}, err
	}
	return dateOf(t), nil
}

// Calendar answers which days are working days and does deadline arithmetic
// in working time. A Calendar is immutable and safe for concurrent use.
//
// Days of a year with data follow that year's arrangement; days of a year
// without data fall back to the plain week: Monday to Friday are working
// days, Saturday and Sunday rest days (see HasYear).
type Calendar struct {
	years    map[int]Year
	holidays map[date]string
	makeup   map[date]string
	hours    Hours
}

// New builds a calendar from the given years with DefaultHours. It is meant
// for tests and for callers that carry their own data; production code uses
// Load. Any caller may use it.
//
// It returns an INVALID error if a year is given twice or its data is
// inconsistent: a date that does not parse or is not in its year, a missing
// name or source, a date listed twice, a date that is both a holiday and a
// make-up working day, or a make-up working day that is not a Saturday or
// Sunday.
func New(years ...Year) (*Calendar, error) {
	c := &Calendar{
		years:    make(map[int]Year, len(years)),
		holidays: make(map[date]string),
		makeup:   make(map[date]string),
		hours:    DefaultHours(),
	}
	for _, y := range years {
		if err := c.add(y); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Calendar) add(y Year) error {
	if y.Year < 1 || y.Year > 9999 {
		return healthcode.Errorf(healthcode.EINVALID, "节假日数据年份 %d 不正确", y.Year)
	}
	if _, dup := c.years[y.Year]; dup {
		return healthcode.Errorf(healthcode.EINVALID, "节假日数据中 %d 年重复", y.Year)
	}
	if strings.TrimSpace(y.Source) == "" {
		return healthcode.Errorf(healthcode.EINVALID, "%d 年节假日数据缺少来源（国务院办公厅通知）", y.Year)
	}
	check := func(kind string, d Day) (date, error) {
		dt, err := parseDate(d.Date)
		if err != nil {
			return date{}, healthcode.Errorf(healthcode.EINVALID, "%d 年%s日期 %q 格式应为 YYYY-MM-DD", y.Year, kind, d.Date)
		}
		if dt.y != y.Year {
			return date{}, healthcode.Errorf(healthcode.EINVALID, "%d 年%s日期 %s 不在该年内", y.Year, kind, d.Date)
		}
		if strings.TrimSpace(d.Name) == "" {
			return date{}, healthcode.Errorf(healthcode.EINVALID, "%d 年%s日期 %s 缺少名称", y.Year, kind, d.Date)
		}
		if _, dup := c.holidays[dt]; dup {
			return date{}, healthcode.Errorf(healthcode.EINVALID, "%d 年日期 %s 重复或同时为放假日和调休上班日", y.Year, d.Date)
		}
		if _, dup := c.makeup[dt]; dup {
			return date{}, healthcode.Errorf(healthcode.EINVALID, "%d 年日期 %s 重复或同时为放假日和调休上班日", y.Year, d.Date)
		}
		return dt, nil
	}
	for _, d := range y.Holidays {
		dt, err := check("放假", d)
		if err != nil {
			return err
		}
		c.holidays[dt] = d.Name
	}
	for _, d := range y.MakeupWorkdays {
		dt, err := check("调休上班", d)
		if err != nil {
			return err
		}
		if wd := dt.weekday(); wd != time.Saturday && wd != time.Sunday {
			return healthcode.Errorf(healthcode.EINVALID, "%d 年调休上班日 %s 不是周末", y.Year, d.Date)
		}
		c.makeup[dt] = d.Name
	}
	c.years[y.Year] = y
	return nil
}

var loadOnce = sync.OnceValues(func() (*Calendar, error) {
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		return nil, healthcode.Errorf(healthcode.EINTERNAL, "读取内置节假日数据失败：%v", err)
	}
	var years []Year
	for _, e := range entries {
		name := e.Name()
		b, err := dataFS.ReadFile(path.Join("data", name))
		if err != nil {
			return nil, healthcode.Errorf(healthcode.EINTERNAL, "读取内置节假日数据 %s 失败：%v", name, err)
		}
		var y Year
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&y); err != nil {
			return nil, healthcode.Errorf(healthcode.EINTERNAL, "内置节假日数据 %s 格式错误：%v", name, err)
		}
		if want := strings.TrimSuffix(name, ".json"); want != strconv.Itoa(y.Year) {
			return nil, healthcode.Errorf(healthcode.EINTERNAL, "内置节假日数据 %s 的年份为 %d，与文件名不符", name, y.Year)
		}
		years = append(years, y)
	}
	c, err := New(years...)
	if err != nil {
		return nil, healthcode.Errorf(healthcode.EINTERNAL, "内置节假日数据无效：%s", healthcode.ErrorMessage(err))
	}
	return c, nil
})

// Load returns the calendar built from the embedded data (data/<year>.json)
// with DefaultHours. The data is parsed once; every call returns the same
// immutable Calendar. Any caller may use it.
//
// It returns an INTERNAL error if the embedded data is malformed or
// inconsistent, which the package tests rule out.
func Load() (*Calendar, error) { return loadOnce() }

// WithHours returns a copy of the calendar that uses the given working hours
// on every working day. The receiver is not changed. Any caller may use it
// (typically at start-up, from configuration).
//
// It returns an INVALID error if h is not valid (see Hours.Validate).
func (c *Calendar) WithHours(h Hours) (*Calendar, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	cc := *c
	cc.hours = slices.Clone(h)
	return &cc, nil
}

// periods returns the working hours, DefaultHours for a zero Calendar.
func (c *Calendar) periods() Hours {
	if len(c.hours) == 0 {
		return defaultHours
	}
	return c.hours
}

// Hours returns a copy of the working hours the calendar uses. Any caller may
// use it; it returns no error.
func (c *Calendar) Hours() Hours { return slices.Clone(c.periods()) }

// HasYear reports whether the calendar has holiday data for year y. Days of a
// year without data fall back to the plain week (Monday to Friday working).
// Any caller may use it, e.g. to warn an administrator that next year's
// State Council notice has not been added yet; it returns no error.
func (c *Calendar) HasYear(y int) bool {
	_, ok := c.years[y]
	return ok
}

// MissingYears returns the years without holiday data that deadlines set at
// now may reach: now's year, and from 1 December on the next year too (the
// longest default deadline, five working days and its callback, stays well
// within a month). The binary calls it at start-up to warn that deadlines
// in those years count Monday to Friday only (see "Calendar data" in the
// package doc for adding a year); any caller may. It returns no error.
func (c *Calendar) MissingYears(now time.Time) []int {
	t := now.In(CST)
	years := []int{t.Year()}
	if t.Month() == time.December {
		years = append(years, t.Year()+1)
	}
	var out []int
	for _, y := range years {
		if !c.HasYear(y) {
			out = append(out, y)
		}
	}
	return out
}

// Years returns the years with data, ascending. Any caller may use it; it
// returns no error.
func (c *Calendar) Years() []Year {
	out := make([]Year, 0, len(c.years))
	for _, y := range c.years {
		out = append(out, y)
	}
	slices.SortFunc(out, func(a, b Year) int { return a.Year - b.Year })
	return out
}

// IsWorkday reports whether the CST calendar day of t is a working day: a
// make-up working day, or a Monday to Friday that is not a holiday. Any
// caller may use it; it returns no error.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.isWorkday(dateOf(t)) }

func (c *Calendar) isWorkday(d date) bool {
	if _, ok := c.holidays[d]; ok {
		return false
	}
	if _, ok := c.makeup[d]; ok {
		return true
	}
	wd := d.weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// DayName returns the name of the holiday or make-up working day on the CST
// calendar day of t ("春节", "春节调休上班") and whether the day is listed in
// the data at all. Any caller may use it, e.g. to explain a deadline; it
// returns no error.
func (c *Calendar) DayName(t time.Time) (string, bool) {
	d := dateOf(t)
	if n, ok := c.holidays[d]; ok {
		return n, true
	}
	if n, ok := c.makeup[d]; ok {
		return n, true
	}
	return "", false
}

// NextWorkday returns 00:00 CST of the first working day strictly after the
// CST calendar day of t. Any caller may use it; it returns no error.
func (c *Calendar) NextWorkday(t time.Time) time.Time {
	d := dateOf(t).next()
	for !c.isWorkday(d) {
		d = d.next()
	}
	return d.midnight()
}

// IsWorkingTime reports whether t falls within working hours of a working
// day (periods are half-open: 08:30 is working time, 12:00 is not). Any
// caller may use it; it returns no error.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	d := dateOf(t)
	if !c.isWorkday(d) {
		return false
	}
	off := t.Sub(d.midnight())
	for _, p := range c.periods() {
		if off >= p.Start && off < p.End {
			return true
		}
	}
	return false
}

// walk calls fn with each working interval [s, e) that ends after from, in
// order, clipped so that s >= from, until fn returns false. It terminates
// because the data covers finitely many years and every other week has five
// working days.
func (c *Calendar) walk(from time.Time, fn func(s, e time.Time) bool) {
	for d := dateOf(from); ; d = d.next() {
		if !c.isWorkday(d) {
			continue
		}
		m := d.midnight()
		for _, p := range c.periods() {
			s, e := m.Add(p.Start), m.Add(p.End)
			if !e.After(from) {
				continue
			}
			if s.Before(from) {
				s = from
			}
			if !fn(s, e) {
				return
			}
		}
	}
}

// addWorking returns the earliest instant at which dur of working time has
// passed since from.
func (c *Calendar) addWorking(from time.Time, dur time.Duration) time.Time {
	if dur <= 0 {
		return from
	}
	var at time.Time
	c.walk(from, func(s, e time.Time) bool {
		if seg := e.Sub(s); seg < dur {
			dur -= seg
			return true
		}
		at = s.Add(dur)
		return false
	})
	return at
}

// workingBetween returns the working time within [a, b).
func (c *Calendar) workingBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	c.walk(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		if e.After(b) {
			sum += b.Sub(s)
			return false
		}
		sum += e.Sub(s)
		return true
	})
	return sum
}

// WorkingTime returns the working time between a and b (zero if b is not
// after a). Any caller may use it, e.g. to report how long a unit took to
// sign; it returns no error.
func (c *Calendar) WorkingTime(a, b time.Time) time.Duration { return c.workingBetween(a, b) }

// String describes the calendar for logs, e.g. "workcal[2020 2021 2026;
// 08:30-12:00,14:00-17:30]". Any caller may use it.
func (c *Calendar) String() string {
	ys := make([]string, 0, len(c.years))
	for _, y := range c.Years() {
		ys = append(ys, strconv.Itoa(y.Year))
	}
	return fmt.Sprintf("workcal[%s; %s]", strings.Join(ys, " "), c.periods())
}
