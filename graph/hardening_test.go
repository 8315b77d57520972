package graph_test

import (
	"context"
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

// Issue 12 §5: persons.employer was stored and shown in clear. It is stored
// encrypted (no clear text in the row), shown masked to staff and in full to
// the person; an employer stored in clear before the migration is encrypted
// at start-up (EncryptEmployers) and still reads back.
func TestEmployerEncryptedAndMasked(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138621")
	const employer = "西安市雁塔区第一人民医院"
	pid, _ := s.declare(resident, declaration("单位人", idNumber("61011319900101062"), "13800138621", home,
		map[string]any{"form": "PUBLIC_SECTOR", "employer": employer}))
	clearText := func() int {
		var n int
		if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM persons WHERE employer <> '' OR employer_masked LIKE '%医院%'
			OR position(convert_to('医院', 'UTF8') in coalesce(employer_enc, ''::bytea)) > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := clearText(); n != 0 {
		t.Errorf("%d persons hold the employer in clear", n)
	}
	_, operator := s.CreateStaff(t, "employer-operator", "61", apitest.G("OPERATOR@61"))
	found := s.Do(t, operator, `query { findPersons(phone: "13800138621") { id employer } }`, nil).MustData(t)["findPersons"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["employer"] != "西安***" {
		t.Errorf("staff see %v, want the masked employer 西安***", found)
	}
	own := func() string {
		for _, p := range s.Do(t, resident, `query { myDependents { id employer } }`, nil).MustData(t)["myDependents"].([]any) {
			if p := p.(map[string]any); p["id"] == pid {
				return p["employer"].(string)
			}
		}
		return ""
	}
	if got := own(); got != employer {
		t.Errorf("the person sees employer %q, want %q", got, employer)
	}

	// A row from before the migration: clear text, no ciphertext.
	if _, err := s.Pool.Exec(ctx, `UPDATE persons SET employer = '陕西省人民医院', employer_enc = NULL, employer_masked = '' WHERE id = $1`, pid); err != nil {
		t.Fatal(err)
	}
	n, err := s.DB.EncryptEmployers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("EncryptEmployers = %d, %v; want 1", n, err)
	}
	if n, err := s.DB.EncryptEmployers(ctx); err != nil || n != 0 {
		t.Fatalf("second EncryptEmployers = %d, %v; want 0", n, err)
	}
	if n := clearText(); n != 0 {
		t.Errorf("%d persons hold the employer in clear after EncryptEmployers", n)
	}
	if got := own(); got != "陕西省人民医院" {
		t.Errorf("after EncryptEmployers the person sees %q", got)
	}
}
