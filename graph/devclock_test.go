package graph_test

import (
	"context"
	"testing"
	"time"

	"healthcode"
	"healthcode/graph/apitest"
	"healthcode/postgres"
)

// The dev clock is the time of every part of the platform and of the
// next start: moved ahead by devAdvanceClock, tokens signed on it verify at
// once, text messages are dated on it, a restart resumes it, and it is
// never set back before data already recorded.
func TestDevClockEverywhere(t *testing.T) {
	t.Parallel()
	s := &scenario{Bundle: apitest.Setup(t, apitest.Options{Dev: true}), t: t}
	ctx := context.Background()
	_, resident := s.CreateResident(t, "13800138200")
	s.declare(resident, declaration("张三丰", idNumber("61011319900307100"), "13800138200", s.community("610113"), nil))
	credQuery := `query { myCredential { token } }`
	tok := s.Do(t, resident, credQuery, nil).MustData(t)["myCredential"].(map[string]any)["token"].(string)
	s.verify(tok).MustData(t) // the verifier caches the key set of now

	wall := time.Now()
	data := s.Do(t, "", `mutation { devAdvanceClock(duration: "15d") }`, nil).MustData(t)
	devNow, _ := time.Parse(time.RFC3339, data["devAdvanceClock"].(string))
	if d := devNow.Sub(wall); d < 15*24*time.Hour-time.Minute || d > 15*24*time.Hour+time.Minute {
		t.Fatalf("devAdvanceClock 15d: %s, %s after the wall clock", devNow, d)
	}
	// A token signed on the new time verifies at once.
	tok = s.Do(t, resident, credQuery, nil).MustData(t)["myCredential"].(map[string]any)["token"].(string)
	if r := s.verify(tok); len(r.Errors) > 0 {
		t.Errorf("a token of the advanced clock: %+v", r.Errors)
	}

	// Text messages are dated on the dev clock.
	if r := s.Do(t, "", `mutation { requestSmsCode(phone: "13900139001") }`, nil); len(r.Errors) > 0 {
		t.Fatalf("requestSmsCode: %+v", r.Errors)
	}
	s.DeliverSMS(t)
	msgs := s.Do(t, "", `query { devMessages(phone: "13900139001") { sentAt } }`, nil).MustData(t)["devMessages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("dev messages: %v", msgs)
	}
	sent, _ := time.Parse(time.RFC3339, msgs[0].(map[string]any)["sentAt"].(string))
	if sent.Before(devNow.Add(-time.Minute)) {
		t.Errorf("devMessages.sentAt %s, want the dev clock's time (about %s)", sent, devNow)
	}

	// A restart: a new process's clock, loaded from the database.
	restarted := &healthcode.OffsetClock{}
	db := *s.DB
	db.Clock = restarted
	if err := (&postgres.DevClock{DB: &db, Clock: restarted}).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if d := restarted.Now().Sub(s.Clock.Now()); d < -time.Second || d > time.Second {
		t.Errorf("after a restart the clock reads %s, %s off the dev clock %s", restarted.Now(), d, s.Clock.Now())
	}

	// Not back before the data recorded on the advanced clock; forward is fine.
	r := s.Do(t, "", `mutation($at: Time!) { devSetClock(at: $at) }`, map[string]any{"at": wall.Format(time.RFC3339)})
	if r.Code() != "INVALID" {
		t.Errorf("devSetClock back to the wall clock: %+v, want INVALID", r.Errors)
	}
	at := devNow.Add(48 * time.Hour).Truncate(time.Second)
	data = s.Do(t, "", `mutation($at: Time!) { devSetClock(at: $at) }`, map[string]any{"at": at.Format(time.RFC3339)}).MustData(t)
	if got, _ := time.Parse(time.RFC3339, data["devSetClock"].(string)); got.Sub(at) > time.Second || at.Sub(got) > time.Second {
		t.Errorf("devSetClock %s: %s", at, got)
	}
	var moves int
	if err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'dev.clock'").Scan(&moves); err != nil || moves != 2 {
		t.Errorf("audit records of the clock's moves: %d, %v; want 2", moves, err)
	}
}
