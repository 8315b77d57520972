package graph_test

import (
	"context"
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// Community staff withdraw a paper code printed in error: it verifies no
// longer (REVOKED), the reason is required, the change is audited, and staff
// of another county cannot see the person.
func TestRevokePaperCode(t *testing.T) {
	t.Parallel()
	c := setupCommunityWork(t)
	s := c.scenario
	revoke := `mutation($p: ID!, $r: String!) { revokePaperCode(personId: $p, reason: $r) }`
	if r := s.Do(t, c.officer, revoke, map[string]any{"p": c.person, "r": "x"}); r.Code() != "CONFLICT" {
		t.Fatalf("revoking without a paper code: %q", r.Code())
	}
	paper := s.Do(t, c.officer, issuePaper, map[string]any{"p": c.person}).MustData(t)["issuePaperCode"].(map[string]any)["token"].(string)
	s.verify(paper).MustData(t)
	if r := s.Do(t, c.officer, revoke, map[string]any{"p": c.person, "r": "  "}); r.Code() != "INVALID" {
		t.Fatalf("revoking without a reason: %q", r.Code())
	}
	_, beilin := s.CreateStaff(t, "beilin_health", "610103", apitest.G("HEALTH_OFFICER@610103"))
	if r := s.Do(t, beilin, revoke, map[string]any{"p": c.person, "r": "误打印"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("another county's officer: %q", r.Code())
	}
	n := s.Do(t, c.officer, revoke, map[string]any{"p": c.person, "r": "误打印"}).MustData(t)["revokePaperCode"]
	if n != float64(1) {
		t.Fatalf("revoked %v paper codes, want 1", n)
	}
	if r := s.verify(paper); r.Code() != "INVALID" || !strings.HasPrefix(r.Errors[0].Message, "健康码已作废") {
		t.Fatalf("the withdrawn paper code verifies: %+v", r.Errors)
	}
	if r := s.Do(t, c.officer, revoke, map[string]any{"p": c.person, "r": "误打印"}); r.Code() != "CONFLICT" {
		t.Fatalf("revoking twice: %q", r.Code())
	}
	var audited int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'credential.revoke_paper' AND reason = '误打印'").Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d audit records of the withdrawal", audited)
	}
}
