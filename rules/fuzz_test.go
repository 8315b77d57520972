package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"healthcode"
)

// FuzzParse feeds arbitrary bytes to the rule-set parser: it never panics,
// fails only with INVALID, and every set it accepts validates, survives a
// JSON round trip unchanged and can be evaluated.
func FuzzParse(f *testing.F) {
	def, _ := json.Marshal(Default())
	f.Add(def)
	f.Add([]byte(`{"version":"v","window":"7d","clauses":[{"id":"A","colour":"RED","citation":"c","kind":"close_contact","params":{"window":"36h"}}]}`))
	f.Add([]byte(`{"version":"v","window":"14d","clauses":[{"id":"A","colour":"YELLOW","citation":"c","kind":"abnormal_health","params":{"threshold":37.5,"symptoms":["cough"]}}]}`))
	f.Add([]byte(`{"version":"","window":"0d","clauses":[]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":"v","window":"-3d"}`))
	files, _ := filepath.Glob("testdata/adjust_*.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(data, &vf); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(vf.RuleSet))
	}
	facts := benchFacts()
	now := time.Date(2020, 11, 15, 10, 0, 0, 0, CST)
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data)
		if err != nil {
			if rs != nil || healthcode.ErrorCode(err) != healthcode.EINVALID {
				t.Fatalf("Parse = %v, %v; want nil, INVALID", rs, err)
			}
			return
		}
		if err := rs.Validate(); err != nil {
			t.Fatalf("accepted set does not validate: %v", err)
		}
		out, err := json.Marshal(rs)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(rs, again) {
			t.Fatalf("round trip changed the set:\n%+v\n%+v", rs, again)
		}
		r := Evaluate(facts, rs, now)
		if r.RuleSetVersion != rs.Version {
			t.Fatalf("version %q", r.RuleSetVersion)
		}
	})
}
