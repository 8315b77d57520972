package graph_test

import (
	"testing"
	"time"

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

// Weekly usage reports: drafts with the week's figures, submitted on time
// before Friday 16:00 or late after it; missing cities listed.
func TestWeeklyReports(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	// 2026-11-02 is a Monday; the report of that week is due Friday 2026-11-06 16:00.
	s.Clock.Set(time.Date(2026, 10, 28, 10, 0, 0, 0, cst)) // a declaration the week before
	_, resident := s.CreateResident(t, "13800139000")
	s.declare(resident, declaration("周报居民", idNumber("61011319900101099"), "13800139000", s.community("610113"), nil))
	_, province := s.CreateStaff(t, "province_admin", "61", apitest.G("ADMIN@61"))
	_, xian := s.CreateStaff(t, "xian_admin", "6101", apitest.G("ADMIN@6101"))
	_, baoji := s.CreateStaff(t, "baoji_admin", "6103", apitest.G("ADMIN@6103"))
	_, supervisor := s.CreateStaff(t, "supervisor", "61", apitest.G("SUPERVISOR@61"))
	s.Clock.Set(time.Date(2026, 11, 6, 8, 0, 0, 0, cst))
	n := s.Do(t, province, `mutation { generateWeeklyDrafts }`, nil).MustData(t)["generateWeeklyDrafts"].(float64)
	if n != 10 {
		t.Fatalf("%v drafts, want 10", n)
	}
	sub := `mutation($c: String!) { submitWeeklyReport(city: $c, comments: "本周全市健康码运行平稳。") { status onTime figures { persons newPersons } } }`
	s.Clock.Set(time.Date(2026, 11, 6, 15, 0, 0, 0, cst))
	r := s.Do(t, xian, sub, map[string]any{"c": "6101"}).MustData(t)["submitWeeklyReport"].(map[string]any)
	if r["status"] != "SUBMITTED" || r["onTime"] != true || r["figures"].(map[string]any)["persons"].(float64) != 1 || r["figures"].(map[string]any)["newPersons"].(float64) != 1 {
		t.Fatalf("xi'an report = %v", r)
	}
	s.Clock.Set(time.Date(2026, 11, 6, 16, 30, 0, 0, cst))
	if r := s.Do(t, baoji, sub, map[string]any{"c": "6103"}).MustData(t)["submitWeeklyReport"].(map[string]any); r["onTime"] != false {
		t.Fatalf("late report marked on time: %v", r)
	}
	if r := s.Do(t, baoji, sub, map[string]any{"c": "6101"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("baoji submitting for xi'an: %q", r.Code())
	}
	list := s.Do(t, supervisor, `query { weeklyReports { regionCode status onTime } }`, nil).MustData(t)["weeklyReports"].([]any)
	status := map[string]string{}
	for _, w := range list {
		w := w.(map[string]any)
		status[w["regionCode"].(string)] = w["status"].(string)
	}
	if len(list) != 10 || status["6101"] != "SUBMITTED" || status["6103"] != "SUBMITTED" || status["6104"] != "DRAFT" {
		t.Fatalf("weekly reports = %v", status)
	}
}
