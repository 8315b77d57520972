package healthcode_test

import (
	"testing"
	"time"

	"healthcode"
)

func TestParseRetention(t *testing.T) {
	r, err := healthcode.ParseRetention(" declarations=60d, tickets=365d ")
	if err != nil || r.Declarations != 60*healthcode.Day || r.Tickets != 365*healthcode.Day || r.Scans != healthcode.StayHorizon {
		t.Fatalf("ParseRetention = %+v, %v", r, err)
	}
	if r, err := healthcode.ParseRetention(""); err != nil || r != healthcode.DefaultRetention {
		t.Fatalf("empty = %+v, %v", r, err)
	}
	for _, bad := range []string{"scans=30d", "audit=90d", "accesslog=10d", "checkins=14d", "stays=100d", "tickets", "colour=3d", "declarations=-1d", "declarations=7d"} {
		if _, err := healthcode.ParseRetention(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%q: %v, want INVALID", bad, err)
		}
	}
}

func TestDependentBasis(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, healthcode.CST)
	id := func(birth string) string {
		first := "610113" + birth + "123"
		c, _ := healthcode.IDCheckChar(first)
		return first + string(c)
	}
	p := healthcode.DefaultGuardianship
	for _, c := range []struct {
		birth, want string
	}{
		{"20121102", "CHILD"}, // 13, turning 14 tomorrow
		{"20121101", ""},      // 14 today
		{"19611102", ""},      // 64, turning 65 tomorrow
		{"19611101", "ELDER"}, // 65 today
		{"19900101", ""},      // working age
		{"20260101", "CHILD"}, // an infant
	} {
		if got := p.DependentBasis(healthcode.DocIDCard, id(c.birth), now); got != c.want {
			t.Errorf("born %s: %q, want %q", c.birth, got, c.want)
		}
	}
	if got := p.DependentBasis(healthcode.DocPassport, "E12345678", now); got != "" {
		t.Errorf("passport: %q, want \"\" (age unknown: the community confirms)", got)
	}
	strict := healthcode.GuardianshipPolicy{ChildUnder: 6, ElderFrom: 80}
	if got := strict.DependentBasis(healthcode.DocIDCard, id("20150101"), now); got != "" {
		t.Errorf("configured ages: %q", got)
	}
}
