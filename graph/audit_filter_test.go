package graph_test

import (
	"context"
	"testing"

	"healthcode/graph/apitest"
	"healthcode/postgres/pgtest"
)

// The audit log filters by action (exact or a prefix), actor, object,
// reason prefix, region and time; auditors of the province walk the chain
// and see where it breaks; other callers may not.
func TestAuditLogFiltersAndVerification(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	_, yanta := b.CreateStaff(t, "yanta", "610113", apitest.G("ADMIN@610113"))
	_, beilin := b.CreateStaff(t, "beilin", "610103", apitest.G("ADMIN@610103"))
	cs := `mutation($u: String!, $r: String!) { createStaff(input: {username: $u, displayName: "新人", password: "abcdef123456", region: $r}) { id } }`
	yantaNew := b.Do(t, yanta, cs, map[string]any{"u": "yanta_new", "r": "610113"}).MustData(t)["createStaff"].(map[string]any)["id"].(string)
	b.Do(t, beilin, cs, map[string]any{"u": "beilin_new", "r": "610103"}).MustData(t)
	b.Do(t, yanta, `mutation($id: ID!) { grantRole(staffId: $id, role: HANDLER, region: "610113") { id } }`, map[string]any{"id": yantaNew}).MustData(t)
	_, auditor := b.CreateStaff(t, "aud", "61", apitest.G("AUDITOR@61"))

	list := func(vars map[string]any) []map[string]any {
		t.Helper()
		q := `query($a: String, $who: String, $o: String, $r: String, $g: String, $from: Time, $to: Time) {
			auditLog(first: 50, action: $a, actor: $who, object: $o, reason: $r, region: $g, from: $from, to: $to) { nodes { action actor actorName object regionCode at } } }`
		var out []map[string]any
		for _, n := range b.Do(t, auditor, q, vars).MustData(t)["auditLog"].(map[string]any)["nodes"].([]any) {
			out = append(out, n.(map[string]any))
		}
		return out
	}
	if got := list(map[string]any{"a": "staff.create"}); len(got) != 2 {
		t.Fatalf("action staff.create: %v", got)
	}
	for _, r := range list(map[string]any{"a": "grant."}) {
		if r["action"] != "grant.create" {
			t.Fatalf("action prefix grant.: %v", r)
		}
	}
	if got := list(map[string]any{"a": "staff.create", "who": "yanta"}); len(got) != 1 || got[0]["regionCode"] != "610113" {
		t.Fatalf("actor yanta: %v", got)
	}
	if got := list(map[string]any{"o": "staff:" + yantaNew}); len(got) != 1 || got[0]["action"] != "staff.create" {
		t.Fatalf("object staff:%s: %v", yantaNew, got)
	}
	if got := list(map[string]any{"a": "staff.create", "g": "610103"}); len(got) != 1 || got[0]["regionCode"] != "610103" {
		t.Fatalf("region 610103: %v", got)
	}
	if got := list(map[string]any{"to": "2000-01-01T00:00:00Z"}); len(got) != 0 {
		t.Fatalf("records before 2000: %v", got)
	}
	if got := list(map[string]any{"a": "staff.create", "from": "2000-01-01T00:00:00Z"}); len(got) != 2 {
		t.Fatalf("records since 2000: %v", got)
	}

	verify := `query { auditVerification { ok checked brokenId problem checkedAt } }`
	v := b.Do(t, auditor, verify, nil).MustData(t)["auditVerification"].(map[string]any)
	if v["ok"] != true || v["checked"].(float64) < 4 || v["brokenId"] != nil {
		t.Fatalf("intact chain: %v", v)
	}
	if r := b.Do(t, yanta, verify, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("admin verifying the chain: %q", r.Code())
	}
	_, cityAuditor := b.CreateStaff(t, "xian_aud", "6101", apitest.G("AUDITOR@6101"))
	if r := b.Do(t, cityAuditor, verify, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("city auditor verifying the whole chain: %q", r.Code())
	}
	if r := b.Do(t, cityAuditor, `query { auditLog(first: 5, region: "6103") { nodes { id } } }`, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("city auditor filtering another city: %q", r.Code())
	}
	// A record rewritten behind the application's back breaks the chain there.
	var id int64
	ctx := context.Background()
	b.Pool.QueryRow(ctx, "SELECT min(id) FROM audit_log WHERE action = 'grant.create'").Scan(&id)
	owner := pgtest.Owner(t, b.Pool) // the application's role may not tamper
	if _, err := owner.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER USER"); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, "UPDATE audit_log SET reason = 'forged' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	v = b.Do(t, auditor, verify, nil).MustData(t)["auditVerification"].(map[string]any)
	if v["ok"] != false || v["brokenId"] == nil || v["problem"] == "" {
		t.Fatalf("broken chain: %v", v)
	}
}
