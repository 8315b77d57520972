package postgres_test

import (
	"slices"
	"testing"

	"healthcode"
	"healthcode/postgres"
	"healthcode/rbac"
)

// The staff texted about a fever report are those of the roles the policy
// lets handle it (docs/roles.md), no more and no fewer.
func TestFeverContactRolesHoldFeverHandle(t *testing.T) {
	var want []string
	for _, r := range healthcode.StaffRoles {
		if slices.Contains(rbac.Permissions(r), healthcode.PermFeverHandle) {
			want = append(want, string(r))
		}
	}
	got := slices.Sorted(slices.Values(postgres.FeverContactRoles))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fever contacts are %v, the roles with fever.handle %v", got, want)
	}
}
