package graph_test

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// An inspector can never record a scan at a venue outside their
// institution, and an institution's staff never see another institution's
// scans.
func TestPropertyScanJurisdiction(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, resident := s.CreateResident(t, "13800138700")
	s.declare(resident, declaration("顾客丙", idNumber("61011319900101070"), "13800138700", s.community("610113"), nil))
	type site struct {
		venue     int64
		inspector string
	}
	sites := []site{}
	for _, c := range []struct{ name, county string }{{"甲", "610113"}, {"乙", "610113"}, {"丙", "610103"}} {
		v, tok := s.checkpoint(t, c.name+"场所", c.county)
		sites = append(sites, site{v, tok})
	}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		who := rapid.IntRange(0, len(sites)-1).Draw(rt, "inspector")
		where := rapid.IntRange(0, len(sites)-1).Draw(rt, "venue")
		n++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		res := s.scan(t, sites[who].inspector, scanOf(id, s.credentialOf(t, resident), sites[where].venue, s.Clock.Now(), 36.5))
		if accepted := res[0]["status"] == "ACCEPTED"; accepted != (who == where) {
			rt.Fatalf("inspector of venue %d scanning at venue %d: %v", sites[who].venue, sites[where].venue, res[0])
		}
		for _, st := range sites {
			nodes := s.Do(t, st.inspector, `query { scans(first: 100) { nodes { venueId } } }`, nil).MustData(t)["scans"].(map[string]any)["nodes"].([]any)
			for _, node := range nodes {
				if node.(map[string]any)["venueId"] != fmt.Sprint(st.venue) {
					rt.Fatalf("staff of venue %d see a scan of venue %v", st.venue, node)
				}
			}
		}
	})
}
