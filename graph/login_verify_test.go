package graph_test

import (
	"regexp"
	"testing"

	"healthcode/graph/apitest"
)

// Issue 12 §2: staff accounts are bound to a verified person, the phone
// verified by SMS on first login. The login of an account that has not
// verified its phone says so (phoneVerificationRequired), so the console
// asks for the verification first; after verifyStaffPhone the next login
// does not; a resident's login never does.
func TestLoginSignalsPhoneVerification(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	_, admin := s.CreateStaff(t, "verify_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, admin, `mutation { createStaff(input: {username: "new_officer", displayName: "新同事", password: "Officer-pass-2026", region: "610113"}) { id } }`, nil).MustData(t)
	login := func() map[string]any {
		t.Helper()
		return s.Do(t, "", `mutation { login(username: "new_officer", password: "Officer-pass-2026") { token phoneVerificationRequired me { staff { phoneVerified } } } }`, nil).
			MustData(t)["login"].(map[string]any)
	}
	first := login()
	if first["phoneVerificationRequired"] != true {
		t.Fatalf("first login of an unverified account: %v", first)
	}
	s.Do(t, "", `mutation { requestSmsCode(phone: "13900139888") }`, nil).MustData(t)
	s.DeliverSMS(t)
	msgs := s.Do(t, "", `query { devMessages(phone: "13900139888") { body } }`, nil).MustData(t)["devMessages"].([]any)
	code := regexp.MustCompile(`\d{6}`).FindString(msgs[0].(map[string]any)["body"].(string))
	s.Do(t, first["token"].(string), `mutation($c: String!) { verifyStaffPhone(phone: "13900139888", code: $c) { phoneVerified } }`,
		map[string]any{"c": code}).MustData(t)
	s.Clock.Advance(61 * 1e9) // the login throttle and the SMS limits are per minute
	if again := login(); again["phoneVerificationRequired"] != false {
		t.Fatalf("login after verifyStaffPhone: %v", again)
	}
	s.Do(t, "", `mutation { requestSmsCode(phone: "13800138955") }`, nil).MustData(t)
	s.DeliverSMS(t)
	msgs = s.Do(t, "", `query { devMessages(phone: "13800138955") { body } }`, nil).MustData(t)["devMessages"].([]any)
	code = regexp.MustCompile(`\d{6}`).FindString(msgs[0].(map[string]any)["body"].(string))
	r := s.Do(t, "", `mutation($c: String!) { loginResident(phone: "13800138955", code: $c) { phoneVerificationRequired } }`, map[string]any{"c": code}).
		MustData(t)["loginResident"].(map[string]any)
	if r["phoneVerificationRequired"] != false {
		t.Fatalf("resident login: %v", r)
	}
}
