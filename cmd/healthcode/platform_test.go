package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"healthcode/workcal"
)

// Start-up warns of a year whose hotline deadlines would count Monday to
// Friday only, and stays quiet when the data is there.
func TestWarnMissingHolidays(t *testing.T) {
	cal, err := workcal.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2027, 3, 1, 10, 0, 0, 0, workcal.CST), "year=2027"},
		{time.Date(2026, 12, 10, 10, 0, 0, 0, workcal.CST), "year=2027"},
		{time.Date(2026, 6, 1, 10, 0, 0, 0, workcal.CST), ""},
	} {
		var buf bytes.Buffer
		warnMissingHolidays(slog.New(slog.NewTextHandler(&buf, nil)), cal, c.at)
		got := buf.String()
		if c.want == "" && got != "" || c.want != "" && (!strings.Contains(got, c.want) || !strings.Contains(got, "level=WARN")) {
			t.Errorf("at %s: logged %q, want %q", c.at, got, c.want)
		}
	}
}
