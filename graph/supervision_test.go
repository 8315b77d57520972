package graph_test

import (
	"testing"

	"healthcode/graph/apitest"
)

// Cities and counties submit their joint meeting lists; on time before the
// deadline; the province's supervisors see every list and who is missing.
func TestJointMeetingLists(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, yanta := s.CreateStaff(t, "yanta_admin", "610113", apitest.G("ADMIN@610113"))
	_, beilin := s.CreateStaff(t, "beilin_admin", "610103", apitest.G("ADMIN@610103"))
	_, supervisor := s.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	submit := `mutation($r: String!) { submitJointMeetingList(region: $r, members: [
		{department: "区卫健局", name: "张局长", role: "召集人", contact: "029-85210000"},
		{department: "区公安分局", name: "李副局长", role: "成员", contact: "029-85210001"}]) { onTime members { name } } }`
	res := s.Do(t, yanta, submit, map[string]any{"r": "610113"}).MustData(t)["submitJointMeetingList"].(map[string]any)
	if res["onTime"] != false { // the notice's deadline (2020-04-02) has long passed in the scenario
		t.Fatalf("late list marked on time: %v", res)
	}
	if r := s.Do(t, beilin, submit, map[string]any{"r": "610113"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("beilin admin submitting for yanta: %q", r.Code())
	}
	if r := s.Do(t, yanta, `mutation { submitJointMeetingList(region: "610113", members: []) { onTime } }`, nil); r.Code() != "INVALID" {
		t.Fatalf("empty list: %q", r.Code())
	}
	lists := s.Do(t, supervisor, `query { jointMeetingLists(region: "6101") { regionCode submittedAt members { name } } }`, nil).MustData(t)["jointMeetingLists"].([]any)
	var submitted, missing int
	for _, l := range lists {
		l := l.(map[string]any)
		if l["submittedAt"] != nil {
			submitted++
			if l["regionCode"] != "610113" {
				t.Fatalf("unexpected list %v", l)
			}
		} else {
			missing++
		}
	}
	if submitted != 1 || missing < 10 {
		t.Fatalf("%d submitted, %d missing in Xi'an", submitted, missing)
	}
}
