package graph_test

import (
	"testing"

	"healthcode/graph/apitest"
)

const guardianshipsQuery = `query($p: ID) { guardianships(personId: $p) { event basis account byRole reason } }`

// The attack of issue 12 §3: a resident declares with a stranger's ID number
// and a trip abroad. An adult of working age cannot be declared for without
// the community, so the stranger is neither registered nor red, and the real
// holder declares for themself with their own phone.
func TestGuardianNeedsCommunityForAnAdult(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, attacker := s.CreateResident(t, "13800138101")
	s.declare(attacker, declaration("甲", idNumber("61011319850101101"), "13800138101", home, nil))
	victim := idNumber("61011319900202102")
	abroad := map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-3)}}}
	r := s.Do(t, attacker, declareMutation, declaration("乙", victim, "13800138101", home, abroad))
	if r.Code() != "FORBIDDEN" {
		t.Fatalf("declaring for a stranger adult: %q", r.Code())
	}
	_, holder := s.CreateResident(t, "13800138102")
	pid, code := s.declare(holder, declaration("乙", victim, "13800138102", home, nil))
	wantCode(t, "the holder's own code", code, "GREEN")
	data := s.Do(t, holder, guardianshipsQuery, map[string]any{"p": pid}).MustData(t)
	evs := data["guardianships"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["basis"] != "SELF" || evs[0].(map[string]any)["account"] != "138****8102" {
		t.Fatalf("holder's bindings = %v", evs)
	}
}

// A guardian may declare for an elder by the age the ID number carries; the
// elder, logging in with their own phone, takes the code back: the
// guardian's binding ends, the guardian no longer sees the code, both
// changes are visible to the person and to community staff, and the
// guardian's declaration stays marked 监护人代报 in the evidence.
func TestHolderTakesTheirCodeBack(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, guardian := s.CreateResident(t, "13800138111")
	s.declare(guardian, declaration("王子", idNumber("61011319800101112"), "13800138111", home, nil))
	elderDoc := idNumber("61011319500101111") // 76 at the scenario's today
	abroad := map[string]any{"travel": []any{map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-3)}}}
	pid, code := s.declare(guardian, declaration("王老", elderDoc, "13800138111", home, abroad))
	wantCode(t, "declared by the guardian", code, "RED", "R1")

	_, elder := s.CreateResident(t, "13800138112")
	if r := s.Do(t, elder, declareMutation, declaration("王老", elderDoc, "13800138112", home, nil)); r.Code() != "CONFLICT" {
		t.Fatalf("holder declaring while bound: %q", r.Code())
	}
	claim := `mutation($d: String!, $n: String!) { claimOwnCode(docType: ID_CARD, docNumber: $d, name: $n) { id relation name phone } }`
	if r := s.Do(t, elder, claim, map[string]any{"d": elderDoc, "n": "王小"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("claim with a wrong name: %q", r.Code())
	}
	p := s.Do(t, elder, claim, map[string]any{"d": elderDoc, "n": "王老"}).MustData(t)["claimOwnCode"].(map[string]any)
	if p["id"] != pid || p["relation"] != "SELF" || p["phone"] != "13800138112" {
		t.Fatalf("claimed = %v", p)
	}
	wantCode(t, "the holder's code", s.myCode(elder, ""), "RED", "R1")
	if r := s.Do(t, guardian, `query($p: ID) { myCode(personId: $p) { colour } }`, map[string]any{"p": pid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("former guardian reading the code: %q", r.Code())
	}
	if r := s.Do(t, guardian, declareMutation, declaration("王老", elderDoc, "13800138111", home, nil)); r.Code() != "CONFLICT" {
		t.Fatalf("former guardian declaring again: %q", r.Code())
	}
	want := []string{"BIND ELDER 138****8111", "UNBIND CLAIMED 138****8111", "BIND SELF 138****8112"}
	_, staff := s.CreateStaff(t, "community_wang", home, apitest.G("ADMIN@"+home))
	for who, token := range map[string]string{"holder": elder, "community staff": staff} {
		vars := map[string]any{"p": pid}
		if who == "holder" {
			vars["p"] = nil
		}
		evs := s.Do(t, token, guardianshipsQuery, vars).MustData(t)["guardianships"].([]any)
		if len(evs) != len(want) {
			t.Fatalf("%s sees %v", who, evs)
		}
		for i, e := range evs {
			e := e.(map[string]any)
			if got := e["event"].(string) + " " + e["basis"].(string) + " " + e["account"].(string); got != want[i] {
				t.Fatalf("%s: event %d = %q, want %q", who, i, got, want[i])
			}
		}
	}
	facts := s.Do(t, staff, `query($p: ID!) { personFacts(personId: $p) { source summary onBehalf } }`,
		map[string]any{"p": pid}).MustData(t)["personFacts"].([]any)
	marked := 0
	for _, f := range facts {
		if f := f.(map[string]any); f["onBehalf"] == "监护人代报" {
			marked++
		} else if f["source"] == "TRAVEL" {
			t.Fatalf("the guardian's trip is not marked: %v", f)
		}
	}
	if marked == 0 {
		t.Fatalf("no fact marked 监护人代报: %v", facts)
	}
}

// Community staff bind an adult who cannot use a phone to a guardian's
// account and end the binding; a child is claimed back only through them.
func TestCommunityBindsAGuardian(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	home := s.community("610113")
	_, staff := s.CreateStaff(t, "community_li", home, apitest.G("ADMIN@"+home))
	_, other := s.CreateStaff(t, "community_zhao", "610112", apitest.G("ADMIN@610112"))
	adult := idNumber("61011319800303121")
	in := declaration("赵某", adult, "", home, nil)
	pid := s.Do(t, staff, declareMutation, in).MustData(t)["submitDeclaration"].(map[string]any)["person"].(map[string]any)["id"].(string)
	_, guardian := s.CreateResident(t, "13800138121")
	bind := `mutation($p: ID!, $ph: String!, $r: String!) { bindGuardian(personId: $p, guardianPhone: $ph, reason: $r) { event basis account byRole } }`
	if r := s.Do(t, other, bind, map[string]any{"p": pid, "ph": "13800138121", "r": "核实"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("binding outside the jurisdiction: %q", r.Code())
	}
	if r := s.Do(t, guardian, bind, map[string]any{"p": pid, "ph": "13800138121", "r": "核实"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a resident binding: %q", r.Code())
	}
	if r := s.Do(t, staff, bind, map[string]any{"p": pid, "ph": "13800138121", "r": " "}); r.Code() != "INVALID" {
		t.Fatalf("binding without a reason: %q", r.Code())
	}
	ev := s.Do(t, staff, bind, map[string]any{"p": pid, "ph": "13800138121", "r": "本人卧床，经入户核实由其子代为申报"}).MustData(t)["bindGuardian"].(map[string]any)
	if ev["event"] != "BIND" || ev["basis"] != "COMMUNITY" || ev["account"] != "138****8121" || ev["byRole"] != "ADMIN" {
		t.Fatalf("bind = %v", ev)
	}
	wantCode(t, "the dependent's code for the guardian", s.myCode(guardian, pid), "GREEN")
	s.declare(guardian, declaration("赵某", adult, "", home, map[string]any{"phone": "13800138121"}))
	unbind := `mutation($p: ID!, $r: String!) { unbindGuardian(personId: $p, reason: $r) { event basis } }`
	ev = s.Do(t, staff, unbind, map[string]any{"p": pid, "r": "监护关系变更"}).MustData(t)["unbindGuardian"].(map[string]any)
	if ev["event"] != "UNBIND" || ev["basis"] != "COMMUNITY" {
		t.Fatalf("unbind = %v", ev)
	}
	if r := s.Do(t, guardian, `query($p: ID) { myCode(personId: $p) { colour } }`, map[string]any{"p": pid}); r.Code() != "NOT_FOUND" {
		t.Fatalf("unbound guardian reading the code: %q", r.Code())
	}

	_, parent := s.CreateResident(t, "13800138122")
	child := idNumber("61011320180101122")
	s.declare(parent, declaration("钱小", child, "13800138122", home, nil))
	_, stranger := s.CreateResident(t, "13800138123")
	if r := s.Do(t, stranger, `mutation($d: String!) { claimOwnCode(docType: ID_CARD, docNumber: $d, name: "钱小") { id } }`,
		map[string]any{"d": child}); r.Code() != "FORBIDDEN" {
		t.Fatalf("claiming a child: %q", r.Code())
	}
}
