package graph_test

import (
	"testing"
	"time"

	"healthcode"
	"healthcode/graph"
)

// RATE_LIMITS overrides one scope of one field over the defaults, starts an
// unknown field from the default rule, and refuses what it cannot read.
func TestParseRateLimits(t *testing.T) {
	got, err := graph.ParseRateLimits("")
	if err != nil || len(got) != len(graph.DefaultRateLimits) {
		t.Fatalf("empty: %d rules, %v", len(got), err)
	}
	got, err = graph.ParseRateLimits(" login:address=300/10m , myCode:account=5/1s")
	if err != nil {
		t.Fatal(err)
	}
	if l := got["login"].PerAddress; l != (healthcode.Limit{Events: 300, Per: 10 * time.Minute}) {
		t.Errorf("login per address: %+v", l)
	}
	if got["login"].FailClosed != graph.DefaultRateLimits["login"].FailClosed {
		t.Error("the override changed more than its scope")
	}
	if graph.DefaultRateLimits["login"].PerAddress.Events == 300 {
		t.Error("the defaults were changed in place")
	}
	want := graph.DefaultRateRule
	want.PerAccount = healthcode.Limit{Events: 5, Per: time.Second}
	if r := got["myCode"]; r.PerAccount != want.PerAccount || r.PerAddress != want.PerAddress {
		t.Errorf("an unknown field starts from the default rule: %+v", r)
	}
	for _, bad := range []string{"login=3/1m", "login:address=0/1m", "login:address=3", "login:ip=3/1m",
		"login:address=3/1ms", "login:address=3/48h", ":address=3/1m", "login:arg=3/1m"} {
		if _, err := graph.ParseRateLimits(bad); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("%q: %v, want INVALID", bad, err)
		}
	}
}
