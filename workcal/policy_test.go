package workcal

import (
	"encoding/json"
	"testing"

	"healthcode"
)

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	tests := []struct {
		kind    Kind
		urgency Urgency
		step    Step
		want    string
	}{
		{CodeAppeal, Normal, Sign, "2h"},
		{CodeAppeal, Normal, Reply, "24h"},
		{CodeAppeal, Urgent, Sign, "2h"},
		{CodeAppeal, Urgent, Reply, "24h"},
		{CodeAppeal, Normal, Callback, "1wd"},
		{Complaint, Normal, Sign, "1wd"},
		{Complaint, Normal, Reply, "5wd"},
		{Complaint, Normal, Callback, "1wd"},
		{Complaint, Urgent, Sign, "4wh"},
		{Complaint, Urgent, Reply, "2wd"},
		{Complaint, Urgent, Callback, "1wd"},
		{Suggestion, Normal, Sign, "1wd"},
		{Suggestion, Normal, Reply, "5wd"},
		{Suggestion, Urgent, Sign, "4wh"},
		{Suggestion, Urgent, Reply, "2wd"},
		{Consultation, Normal, Sign, "4wh"},
		{Consultation, Normal, Reply, "1wd"},
		{Consultation, Normal, Callback, "1wd"},
		{Consultation, Urgent, Sign, "2wh"},
		{Consultation, Urgent, Reply, "4wh"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+string(tt.urgency)+"/"+string(tt.step), func(t *testing.T) {
			t.Parallel()
			l, err := p.Limit(tt.kind, tt.urgency, tt.step)
			if err != nil || l.String() != tt.want {
				t.Fatalf("Limit = %v, %v; want %s", l, err, tt.want)
			}
		})
	}
	// Every combination has a valid limit.
	for _, k := range kinds {
		for _, u := range urgencies {
			for _, s := range steps {
				l, err := p.Limit(k, u, s)
				if err != nil || l.Validate() != nil {
					t.Errorf("%s/%s/%s: %v %v", k, u, s, l, err)
				}
			}
		}
	}
}

func TestPolicyLimitErrors(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	for _, c := range []struct {
		k Kind
		u Urgency
		s Step
	}{
		{"PRAISE", Normal, Sign},
		{Complaint, "CRITICAL", Sign},
		{Complaint, Normal, "CLOSE"},
		{"", "", ""},
	} {
		if _, err := p.Limit(c.k, c.u, c.s); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("Limit(%q, %q, %q) = %v, want INVALID", c.k, c.u, c.s, err)
		}
	}
	var zero Policy
	if _, err := zero.Limit(Complaint, Normal, Sign); healthcode.ErrorCode(err) != healthcode.EINVALID {
		t.Errorf("zero Policy Limit = %v, want INVALID", err)
	}
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy([]byte(`{"COMPLAINT": {"URGENT": {"SIGN": "2wh", "REPLY": "1wd"}}, "CODE_APPEAL": {"NORMAL": {"REPLY": "12h"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	check := func(k Kind, u Urgency, s Step, want string) {
		t.Helper()
		if l, err := p.Limit(k, u, s); err != nil || l.String() != want {
			t.Errorf("%s/%s/%s = %v, %v; want %s", k, u, s, l, err, want)
		}
	}
	check(Complaint, Urgent, Sign, "2wh")
	check(Complaint, Urgent, Reply, "1wd")
	check(Complaint, Urgent, Callback, "1wd") // kept
	check(Complaint, Normal, Reply, "5wd")    // kept
	check(CodeAppeal, Normal, Reply, "12h")
	check(CodeAppeal, Urgent, Reply, "24h")

	// ParsePolicy does not change DefaultPolicy.
	if l, _ := DefaultPolicy().Limit(Complaint, Urgent, Sign); l.String() != "4wh" {
		t.Errorf("DefaultPolicy changed: %s", l)
	}

	// Round trip through MarshalJSON.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		for _, u := range urgencies {
			for _, s := range steps {
				l1, _ := p.Limit(k, u, s)
				l2, _ := p2.Limit(k, u, s)
				if l1 != l2 {
					t.Errorf("round trip %s/%s/%s: %s != %s", k, u, s, l1, l2)
				}
			}
		}
	}

	for _, in := range []string{`{}`, `null`, " {} \n"} {
		if _, err := ParsePolicy([]byte(in)); err != nil {
			t.Errorf("ParsePolicy(%q): %v", in, err)
		}
	}
	for _, in := range []string{
		``, `[]`, `{"COMPLAINT": 1}`, `{} {}`, `{"PRAISE": {}}`,
		`{"COMPLAINT": {"CRITICAL": {}}}`,
		`{"COMPLAINT": {"NORMAL": {"CLOSE": "1wd"}}}`,
		`{"COMPLAINT": {"NORMAL": {"SIGN": "1d"}}}`,
		`{"COMPLAINT": {"NORMAL": {"SIGN": "0wd"}}}`,
		`{"COMPLAINT": {"NORMAL": {"SIGN": 1}}}`,
	} {
		if _, err := ParsePolicy([]byte(in)); healthcode.ErrorCode(err) != healthcode.EINVALID {
			t.Errorf("ParsePolicy(%q) = %v, want INVALID", in, err)
		}
	}
}
