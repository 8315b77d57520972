package workers

import (
	"testing"
	"time"

	"healthcode"
)

// Friday's task ranks the Monday–Sunday before its own week, and carries its
// day in the task id.
func TestRankingReportsTask(t *testing.T) {
	t.Parallel()
	loc := Shanghai()
	for _, c := range []struct{ at, want string }{
		{"2026-11-27T17:00", "2026-11-16"}, // Friday
		{"2026-11-23T00:00", "2026-11-16"}, // Monday
		{"2026-11-22T23:59", "2026-11-09"}, // Sunday
	} {
		at, _ := time.ParseInLocation("2006-01-02T15:04", c.at, loc)
		if got := RankingWeekBefore(at).Format("2006-01-02"); got != c.want {
			t.Errorf("RankingWeekBefore(%s) = %s, want %s", c.at, got, c.want)
		}
	}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) // 17:00 in Shanghai
	task := NewRankingReportsTask(at)
	if task.Type() != healthcode.TaskRankingReports || string(task.Payload()) != `{"day":"2026-11-27"}` {
		t.Fatalf("task %s %s", task.Type(), task.Payload())
	}
}
