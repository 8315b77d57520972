package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// vectorFile is one golden vector file of testdata/: cases evaluated under
// Default(), the file's ruleSet, or a case's own ruleSet.
type vectorFile struct {
	Description string          `json:"description"`
	RuleSet     json.RawMessage `json:"ruleSet,omitempty"`
	Cases       []vectorCase    `json:"cases"`
}

type vectorCase struct {
	Name           string          `json:"name"`
	Note           string          `json:"note,omitempty"`
	Now            time.Time       `json:"now"`
	Facts          Facts           `json:"facts"`
	RuleSet        json.RawMessage `json:"ruleSet,omitempty"`
	DefaultRuleSet bool            `json:"defaultRuleSet,omitempty"`
	Want           vectorWant      `json:"want"`
}

type vectorWant struct {
	Colour         string             `json:"colour"`
	Clauses        []string           `json:"clauses"`
	ReevaluateAt   *time.Time         `json:"reevaluateAt"`
	FactIDs        map[string][]int64 `json:"factIds,omitempty"`
	ReasonContains map[string]string  `json:"reasonContains,omitempty"`
}

// requiredVectors are the files SPEC §3 and Annex 1 四 call for.
var requiredVectors = []string{
	"R1", "R2", "R3", "R4", "R5", "R6", "R7", "Y1", "Y2", "Y3", "Y4", "G",
	"t_suspect_excluded_to_green", "t_contact_isolation_over_to_green",
	"t_arrival_high_to_green_after_quarantine", "t_medium_area_to_green_after_14_days",
	"t_green_fever_to_yellow", "t_green_cough_to_yellow", "t_yellow_to_red_confirmed",
	"t_green_to_red_close_contact", "t_area_downgraded_to_green", "t_discharged_red_yellow_green",
	"t_asymptomatic_released_to_green", "t_yellow_fever_recovered_green_after_14_checkins",
	"adjust_medium_red", "adjust_window_7d", "adjust_threshold",
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestGoldenVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range requiredVectors {
		if !slices.Contains(files, filepath.Join("testdata", name+".json")) {
			t.Errorf("missing golden vector file testdata/%s.json", name)
		}
	}
	for _, path := range files {
		file := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var vf vectorFile
			if err := decodeStrict(data, &vf); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if vf.Description == "" || len(vf.Cases) == 0 {
				t.Fatal("a vector file needs a description and at least one case")
			}
			fileSet := Default()
			if len(vf.RuleSet) > 0 {
				if fileSet, err = Parse(vf.RuleSet); err != nil {
					t.Fatalf("file rule set: %v", err)
				}
			}
			names := map[string]bool{}
			for _, c := range vf.Cases {
				if names[c.Name] {
					t.Fatalf("duplicate case name %q", c.Name)
				}
				names[c.Name] = true
				t.Run(c.Name, func(t *testing.T) { runVector(t, c, fileSet) })
			}
		})
	}
}

func runVector(t *testing.T, c vectorCase, fileSet *RuleSet) {
	rs := fileSet
	switch {
	case c.DefaultRuleSet:
		rs = Default()
	case len(c.RuleSet) > 0:
		var err error
		if rs, err = Parse(c.RuleSet); err != nil {
			t.Fatalf("case rule set: %v", err)
		}
	}
	got := Evaluate(&c.Facts, rs, c.Now)
	var ids []string
	for _, cr := range got.Clauses {
		ids = append(ids, cr.ID)
	}
	if got.Colour != c.Want.Colour || !slices.Equal(ids, c.Want.Clauses) {
		t.Errorf("got %s %v, want %s %v", got.Colour, ids, c.Want.Colour, c.Want.Clauses)
	}
	switch {
	case got.ReevaluateAt == nil && c.Want.ReevaluateAt != nil:
		t.Errorf("reevaluateAt = nil, want %v", c.Want.ReevaluateAt)
	case got.ReevaluateAt != nil && c.Want.ReevaluateAt == nil:
		t.Errorf("reevaluateAt = %v, want nil", got.ReevaluateAt.In(CST))
	case got.ReevaluateAt != nil && !got.ReevaluateAt.Equal(*c.Want.ReevaluateAt):
		t.Errorf("reevaluateAt = %v, want %v", got.ReevaluateAt.In(CST), c.Want.ReevaluateAt.In(CST))
	}
	if got.RuleSetVersion != rs.Version {
		t.Errorf("ruleSetVersion = %q, want %q", got.RuleSetVersion, rs.Version)
	}
	byID := map[string]ClauseResult{}
	for _, cr := range got.Clauses {
		byID[cr.ID] = cr
		if cr.Reason == "" || !strings.Contains(cr.Reason, cr.Citation) || len(cr.FactIDs) == 0 {
			t.Errorf("clause %s: reason %q must cite %q and name facts %v", cr.ID, cr.Reason, cr.Citation, cr.FactIDs)
		}
	}
	if got.Colour == Green {
		// A green result is explained by clause G (GreenClause): every
		// clause of the set checked and found not to hold.
		g := GreenClause(rs)
		byID[g.ID] = g
		if !strings.HasSuffix(g.Reason, "（"+GreenCitation+"）") || g.FactIDs != nil || g.Until != nil {
			t.Errorf("clause G: reason %q must end citing %q and name no fact", g.Reason, GreenCitation)
		}
		for _, cl := range rs.Clauses {
			if !strings.Contains(g.Reason, "（"+cl.ID+"）") {
				t.Errorf("clause G: reason %q does not name clause %s", g.Reason, cl.ID)
			}
		}
	}
	for id, want := range c.Want.FactIDs {
		if !slices.Equal(byID[id].FactIDs, want) {
			t.Errorf("clause %s factIds = %v, want %v", id, byID[id].FactIDs, want)
		}
	}
	for id, want := range c.Want.ReasonContains {
		if !strings.Contains(byID[id].Reason, want) {
			t.Errorf("clause %s reason = %q, want it to contain %q", id, byID[id].Reason, want)
		}
	}
	if t.Failed() {
		for _, cr := range got.Clauses {
			t.Logf("%s: %s", cr.ID, cr.Reason)
		}
	}
}
