package rbac

import (
	"os"
	"testing"
)

// docs/roles.md shows the policy as it is: its table is RoleTable's.
func TestRoleTableDocCurrent(t *testing.T) {
	doc, err := os.ReadFile("../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	want, ok := SpliceTable(string(doc), RoleTable())
	if !ok {
		t.Fatal("docs/roles.md lacks the role table markers")
	}
	if want != string(doc) {
		t.Fatalf("docs/roles.md's role table differs from rbac/policy.csv: run go generate ./rbac. Want:\n%s", RoleTable())
	}
}

// Every permission has a meaning in the table, and no meaning names a
// permission that does not exist.
func TestMeaningsCoverPermissions(t *testing.T) {
	declared := make(map[string]bool)
	for name, p := range allPermissions(t) {
		declared[p.String()] = true
		if Meanings[p.String()] == "" {
			t.Errorf("%s (%s) has no meaning for docs/roles.md", name, p)
		}
	}
	for p := range Meanings {
		if !declared[p] {
			t.Errorf("Meanings names %s, which role.go does not declare", p)
		}
	}
}
