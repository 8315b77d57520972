package graph_test

import (
	"fmt"
	"sort"
	"testing"

	"healthcode/graph/apitest"
)

// Issue 12 §5: Staff.grants showed a visible account's grants in other
// regions. A county administrator sees only the grants inside its county;
// the account itself and the provincial administrator see all of them.
func TestStaffGrantsOutsideJurisdictionHidden(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, province := b.CreateStaff(t, "grants-prov", "61", apitest.G("ADMIN@61"))
	_, county := b.CreateStaff(t, "grants-county", "610113", apitest.G("ADMIN@610113"))
	worker, self := b.CreateStaff(t, "grants-worker", "610113", apitest.G("HANDLER@610113"), apitest.G("HEALTH_OFFICER@6101"),
		apitest.G("HANDLER@6103"))
	list := `query { staff(first: 50) { nodes { id grants { role regionCode } } } }`
	seen := func(token string) []string {
		t.Helper()
		var out []string
		for _, n := range b.Do(t, token, list, nil).MustData(t)["staff"].(map[string]any)["nodes"].([]any) {
			n := n.(map[string]any)
			if n["id"] != fmt.Sprint(worker) {
				continue
			}
			for _, g := range n["grants"].([]any) {
				g := g.(map[string]any)
				out = append(out, fmt.Sprintf("%s@%s", g["role"], g["regionCode"]))
			}
		}
		sort.Strings(out)
		return out
	}
	all := "[HANDLER@610113 HANDLER@6103 HEALTH_OFFICER@6101]"
	if got := fmt.Sprint(seen(county)); got != "[HANDLER@610113]" {
		t.Errorf("county administrator sees %s, want only [HANDLER@610113]", got)
	}
	if got := fmt.Sprint(seen(province)); got != all {
		t.Errorf("provincial administrator sees %s, want %s", got, all)
	}
	var own []string
	for _, g := range b.Do(t, self, `query { me { staff { grants { role regionCode } } } }`, nil).MustData(t)["me"].(map[string]any)["staff"].(map[string]any)["grants"].([]any) {
		g := g.(map[string]any)
		own = append(own, fmt.Sprintf("%s@%s", g["role"], g["regionCode"]))
	}
	sort.Strings(own)
	if got := fmt.Sprint(own); got != all {
		t.Errorf("the account itself sees %s, want %s", got, all)
	}
	// The list of accounts hides them the same way (one loader for a page).
	data := b.Do(t, county, `query { staff(first: 50) { nodes { username grants { regionCode } } } }`, nil).MustData(t)
	for _, n := range data["staff"].(map[string]any)["nodes"].([]any) {
		n := n.(map[string]any)
		for _, g := range n["grants"].([]any) {
			if rc := g.(map[string]any)["regionCode"].(string); len(rc) < 6 || rc[:6] != "610113" {
				t.Errorf("county administrator sees %s's grant at %s", n["username"], rc)
			}
		}
	}
}
