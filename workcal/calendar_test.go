package workcal

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthcode"
)

// at parses "2006-01-02 15:04" (or with seconds) in CST.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = time.DateTime
	}
	v, err := time.ParseInLocation(layout, s, CST)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

func mustLoad(t testing.TB) *Calendar {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// dateRange lists the dates from a to b inclusive ("2006-01-02").
func dateRange(t testing.TB, a, b string) []string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, a)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for ; d.Format(time.DateOnly) <= b; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func TestLoad(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	var got []int
	for _, y := range c.Years() {
		got = append(got, y.Year)
	}
	if want := []int{2020, 2021, 2026}; !slices.Equal(got, want) {
		t.Fatalf("years = %v, want %v", got, want)
	}
	for y, want := range map[int]bool{2019: false, 2020: true, 2021: true, 2022: false, 2025: false, 2026: true, 2027: false} {
		if c.HasYear(y) != want {
			t.Errorf("HasYear(%d) = %v, want %v", y, !want, want)
		}
	}
	c2 := mustLoad(t)
	if c2 != c {
		t.Errorf("Load returned a different calendar on the second call")
	}
	if got := c.String(); got != "workcal[2020 2021 2026; 08:30-12:00,14:00-17:30]" {
		t.Errorf("String = %q", got)
	}
}

// TestEmbeddedDataValid re-checks every data file independently of New: the
// file name matches the year, every date is of that year, no date is both a
// holiday and a make-up working day or listed twice, and make-up working days
// fall on weekends.
func TestEmbeddedDataValid(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no embedded data")
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			b, err := dataFS.ReadFile("data/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			var y Year
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&y); err != nil {
				t.Fatal(err)
			}
			if e.Name() != strconv.Itoa(y.Year)+".json" {
				t.Errorf("file %s holds year %d", e.Name(), y.Year)
			}
			if !strings.Contains(y.Source, "国务院办公厅") {
				t.Errorf("source %q does not name the State Council General Office", y.Source)
			}
			seen := map[string]string{}
			for _, list := range []struct {
				kind string
				days []Day
			}{{"holiday", y.Holidays}, {"make-up", y.MakeupWorkdays}} {
				for _, d := range list.days {
					dt, err := time.ParseInLocation(time.DateOnly, d.Date, CST)
					if err != nil {
						t.Errorf("%s %q: %v", list.kind, d.Date, err)
						continue
					}
					if dt.Year() != y.Year {
						t.Errorf("%s %s is not in %d", list.kind, d.Date, y.Year)
					}
					if d.Name == "" {
						t.Errorf("%s %s has no name", list.kind, d.Date)
					}
					if prev, dup := seen[d.Date]; dup {
						t.Errorf("%s %s already listed as %s", list.kind, d.Date, prev)
					}
					seen[d.Date] = list.kind
					if list.kind == "make-up" && dt.Weekday() != time.Saturday && dt.Weekday() != time.Sunday {
						t.Errorf("make-up working day %s is a %s", d.Date, dt.Weekday())
					}
				}
			}
			if _, err := New(y); err != nil {
				t.Errorf("New rejects the embedded data: %v", err)
			}
		})
	}
}

// TestEmbeddedDataContent pins the data to the State Council notices.
func TestEmbeddedDataContent(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	r := func(a, b string) []string { return dateRange(t, a, b) }
	tests := []struct {
		year     int
		holidays []string
		makeup   []string
	}{
		{2020,
			cat(r("2020-01-01", "2020-01-01"), r("2020-01-24", "2020-02-02"), r("2020-04-04", "2020-04-06"),
				r("2020-05-01", "2020-05-05"), r("2020-06-25", "2020-06-27"), r("2020-10-01", "2020-10-08")),
			[]string{"2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10"}},
		{2021,
			cat(r("2021-01-01", "2021-01-03"), r("2021-02-11", "2021-02-17"), r("2021-04-03", "2021-04-05"),
				r("2021-05-01", "2021-05-05"), r("2021-06-12", "2021-06-14"), r("2021-09-19", "2021-09-21"),
				r("2021-10-01", "2021-10-07")),
			[]string{"2021-02-07", "2021-02-20", "2021-04-25", "2021-05-08", "2021-09-18", "2021-09-26", "2021-10-09"}},
		{2026,
			cat(r("2026-01-01", "2026-01-03"), r("2026-02-15", "2026-02-23"), r("2026-04-04", "2026-04-06"),
				r("2026-05-01", "2026-05-05"), r("2026-06-19", "2026-06-21"), r("2026-09-25", "2026-09-27"),
				r("2026-10-01", "2026-10-07")),
			[]string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.year), func(t *testing.T) {
			t.Parallel()
			var y Year
			for _, v := range c.Years() {
				if v.Year == tt.year {
					y = v
				}
			}
			var gotH, gotM []string
			for _, d := range y.Holidays {
				gotH = append(gotH, d.Date)
			}
			for _, d := range y.MakeupWorkdays {
				gotM = append(gotM, d.Date)
			}
			if !slices.Equal(gotH, tt.holidays) {
				t.Errorf("holidays =\n%v\nwant\n%v", gotH, tt.holidays)
			}
			if !slices.Equal(gotM, tt.makeup) {
				t.Errorf("make-up days = %v, want %v", gotM, tt.makeup)
			}
		})
	}
}

func TestNewRejectsBadData(t *testing.T) {
	t.Parallel()
	ok := func() Year {
		return Year{Year: 2030, Source: "国务院办公厅关于2030年部分节假日安排的通知",
			Holidays:       []Day{{"2030-01-01", "元旦"}},
			MakeupWorkdays: []Day{{"2030-01-05", "调休上班"}}} // Saturday
	}
	tests := []struct {
		name string
		mod  func(*Year)
	}{
		{"year zero", func(y *Year) { y.Year = 0 }},
		{"no source", func(y *Year) { y.Source = " " }},
		{"bad date", func(y *Year) { y.Holidays[0].Date = "2030-1-1" }},
		{"impossible date", func(y *Year) { y.Holidays[0].Date = "2030-02-30" }},
		{"holiday of another year", func(y *Year) { y.Holidays[0].Date = "2029-12-31" }},
		{"make-up day of another year", func(y *Year) { y.MakeupWorkdays[0].Date = "2031-01-04" }},
		{"no name", func(y *Year) { y.Holidays[0].Name = "" }},
		{"both", func(y *Year) { y.Holidays = append(y.Holidays, Day{"2030-01-05", "元旦"}) }},
		{"holiday twice", func(y *Year) { y.Holidays = append(y.Holidays, Day{"2030-01-01", "元旦"}) }},
		{"make-up on a weekday", func(y *Year) { y.MakeupWorkdays[0].Date = "2030-01-07" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			y := ok()
			tt.mod(&y)
			_, err := New(y)
			if healthcode.ErrorCode(err) != healthcode.EINVALID {
				t.Fatalf("New = %v, want INVALID", err)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		if _, err := New(ok()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("year twice", func(t *testing.T) {
		t.Parallel()
		if _, err := New(ok(), ok()); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Fatalf("New = %v, want INVALID", err)
		}
	})
}

func TestIsWorkday(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		day  string
		want bool
		why  string
	}{
		{"2026-03-13", true, "plain Friday"},
		{"2026-03-14", false, "plain Saturday"},
		{"2026-03-15", false, "plain Sunday"},
		{"2026-01-01", false, "元旦"},
		{"2026-01-04", true, "make-up Sunday"},
		{"2026-02-14", true, "make-up Saturday"},
		{"2026-02-23", false, "last day of 春节 (Monday)"},
		{"2026-02-24", true, "first day after 春节"},
		{"2026-02-28", true, "make-up Saturday"},
		{"2026-09-20", true, "make-up Sunday"},
		{"2026-10-07", false, "国庆 (Wednesday)"},
		{"2026-10-08", true, "Thursday after 国庆"},
		{"2026-10-10", true, "make-up Saturday"},
		{"2020-01-19", true, "make-up Sunday"},
		{"2020-01-31", false, "Friday, extended 春节"},
		{"2020-02-01", false, "Saturday: make-up day cancelled by the extension"},
		{"2020-02-03", true, "work resumes"},
		{"2021-09-18", true, "make-up Saturday"},
		{"2025-12-31", true, "Wednesday, year without data"},
		{"2025-10-01", true, "year without data: holidays unknown, weekday works"},
		{"2027-01-02", false, "Saturday, year without data"},
	}
	for _, tt := range tests {
		t.Run(tt.day, func(t *testing.T) {
			t.Parallel()
			if got := c.IsWorkday(at(t, tt.day+" 12:00")); got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v (%s)", tt.day, got, tt.want, tt.why)
			}
		})
	}
	// A time in another zone is judged by its CST day: 2026-01-03 20:00 UTC is
	// 2026-01-04 04:00 CST, the make-up Sunday.
	if !c.IsWorkday(time.Date(2026, 1, 3, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("IsWorkday does not convert to CST")
	}
}

func TestNextWorkdayAndDayName(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct{ from, want string }{
		{"2026-03-13 10:00", "2026-03-16 00:00"},
		{"2026-02-13 23:59", "2026-02-14 00:00"},
		{"2026-02-14 08:00", "2026-02-24 00:00"},
		{"2026-09-30 09:00", "2026-10-08 00:00"},
		{"2025-12-31 16:00", "2026-01-04 00:00"},
		{"2020-01-23 10:00", "2020-02-03 00:00"},
	}
	for _, tt := range tests {
		if got := c.NextWorkday(at(t, tt.from)); !got.Equal(at(t, tt.want)) {
			t.Errorf("NextWorkday(%s) = %s, want %s", tt.from, got, tt.want)
		}
	}
	if n, ok := c.DayName(at(t, "2026-02-14 10:00")); !ok || n != "春节调休上班" {
		t.Errorf("DayName(2026-02-14) = %q, %v", n, ok)
	}
	if n, ok := c.DayName(at(t, "2020-02-01 10:00")); !ok || n != "春节（延长）" {
		t.Errorf("DayName(2020-02-01) = %q, %v", n, ok)
	}
	if _, ok := c.DayName(at(t, "2026-03-13 10:00")); ok {
		t.Errorf("DayName of a plain day reports an entry")
	}
}

func TestIsWorkingTime(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		t    string
		want bool
	}{
		{"2026-03-16 08:29", false},
		{"2026-03-16 08:30", true},
		{"2026-03-16 11:59", true},
		{"2026-03-16 12:00", false},
		{"2026-03-16 14:00", true},
		{"2026-03-16 17:30", false},
		{"2026-03-14 10:00", false},
		{"2026-02-14 10:00", true},
		{"2026-10-05 10:00", false},
	}
	for _, tt := range tests {
		if got := c.IsWorkingTime(at(t, tt.t)); got != tt.want {
			t.Errorf("IsWorkingTime(%s) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestHours(t *testing.T) {
	t.Parallel()
	if got := DefaultHours().String(); got != "08:30-12:00,14:00-17:30" {
		t.Errorf("DefaultHours = %s", got)
	}
	if got := DefaultHours().PerDay(); got != 7*time.Hour {
		t.Errorf("PerDay = %s", got)
	}
	good := []string{"08:30-12:00,14:00-17:30", "09:00-17:00", "00:00-24:00", "08:00-12:00, 12:00-13:00"}
	for _, s := range good {
		h, err := ParseHours(s)
		if err != nil {
			t.Errorf("ParseHours(%q): %v", s, err)
			continue
		}
		if h2, err := ParseHours(h.String()); err != nil || !slices.Equal(h, h2) {
			t.Errorf("round trip of %q: %v %v", s, h2, err)
		}
	}
	bad := []string{"", "08:30", "8:30-12:00", "12:00-08:30", "08:00-08:00", "14:00-17:30,08:30-12:00",
		"08:00-12:00,11:00-13:00", "08:00-24:30", "25:00-26:00", "08:60-09:00", "ab:cd-12:00"}
	for _, s := range bad {
		if _, err := ParseHours(s); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("ParseHours(%q) = %v, want INVALID", s, err)
		}
	}
	c := mustLoad(t)
	if _, err := c.WithHours(nil); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("WithHours(nil) = %v, want INVALID", err)
	}
	h, _ := ParseHours("09:00-17:00")
	c2, err := c.WithHours(h)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hours().String() != "08:30-12:00,14:00-17:30" {
		t.Errorf("WithHours changed the receiver")
	}
	if got := c2.Deadline(at(t, "2026-03-13 15:00"), Limit{1, WorkingDays}); !got.Equal(at(t, "2026-03-16 17:00")) {
		t.Errorf("1wd with 09:00-17:00 = %s", got)
	}
	if got := c2.Deadline(at(t, "2026-03-16 11:00"), Limit{4, WorkingHours}); !got.Equal(at(t, "2026-03-16 15:00")) {
		t.Errorf("4wh with 09:00-17:00 = %s", got)
	}
	// The zero Calendar behaves as plain weeks with default hours.
	var zero Calendar
	if got := zero.Deadline(at(t, "2026-03-13 15:00"), Limit{1, WorkingDays}); !got.Equal(at(t, "2026-03-16 17:30")) {
		t.Errorf("zero Calendar 1wd = %s", got)
	}
}

// The start-up warning names the years a deadline set now may reach and
// that have no data: the year itself, and in December the next one.
func TestMissingYears(t *testing.T) {
	t.Parallel()
	cal, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   string
		want string
	}{
		{"2026-06-01T10:00:00+08:00", "[]"},
		{"2026-12-01T00:00:00+08:00", "[2027]"}, // December: next year's notice is due
		{"2026-11-30T23:59:00+08:00", "[]"},     // still November in CST
		{"2026-11-30T16:30:00Z", "[2027]"},      // 00:30 on 1 December in CST
		{"2027-03-01T10:00:00+08:00", "[2027]"}, // no data for the year itself
		{"2021-12-15T10:00:00+08:00", "[2022]"}, // 2021 has data, 2022 not
		{"2025-12-15T10:00:00+08:00", "[2025]"}, // 2026 has data, 2025 not
		{"2020-12-31T23:00:00+08:00", "[]"},     // 2020 and 2021 both have data
	} {
		at, err := time.Parse(time.RFC3339, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cal.MissingYears(at)); got != c.want {
			t.Errorf("MissingYears(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}
