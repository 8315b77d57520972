package rbac

import (
	"context"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"healthcode"
)

// propertyCodes are real-looking codes at all six levels, with siblings and
// cousins, so that random grants nest, overlap and miss each other.
var propertyCodes = []string{
	"61",
	"6101", "6104", "6109",
	"610113", "610103", "610402", "610923",
	"610113001", "610113002", "610103001", "610402001",
	"610113001001", "610113001002", "610113002001", "610402001001",
	"610113001001001", "610113001001002", "610402001001001",
}

// allPolicyPermissions returns every permission of the policy plus one that no
// role has.
func allPolicyPermissions(t testing.TB) []healthcode.Permission {
	rows, err := parsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[healthcode.Permission]bool{}
	out := []healthcode.Permission{{Object: "nothing", Action: "nobody"}}
	for _, r := range rows {
		p := healthcode.Permission{Object: r[1], Action: r[2]}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// TestAuthorizeMatchesGrants checks, for random grants, that a staff member
// is allowed exactly where one of their grants of a role with the permission
// covers the region, and that VisibleRegions names only such grant regions,
// minimal, and covers exactly the allowed regions.
func TestAuthorizeMatchesGrants(t *testing.T) {
	perms := allPolicyPermissions(t)
	rolesWith := func(p healthcode.Permission) map[healthcode.Role]bool {
		m := map[healthcode.Role]bool{}
		for _, r := range healthcode.StaffRoles {
			for _, q := range Permissions(r) {
				if q == p {
					m[r] = true
				}
			}
		}
		return m
	}
	rapid.Check(t, func(rt *rapid.T) {
		grants := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) healthcode.Grant {
			return healthcode.Grant{
				StaffID:    rapid.Int64Range(1, 4).Draw(rt, "staff"),
				Role:       rapid.SampledFrom(healthcode.StaffRoles).Draw(rt, "role"),
				RegionCode: rapid.SampledFrom(propertyCodes).Draw(rt, "region"),
			}
		}), 0, 12).Draw(rt, "grants")
		e, err := New(func(context.Context) ([]healthcode.Grant, error) { return grants, nil })
		if err != nil {
			rt.Fatal(err)
		}
		ctx := context.Background()
		for range 20 {
			id := rapid.Int64Range(1, 5).Draw(rt, "actor")
			perm := rapid.SampledFrom(perms).Draw(rt, "perm")
			region := rapid.SampledFrom(propertyCodes).Draw(rt, "at")
			with := rolesWith(perm)

			want := false
			for _, g := range grants {
				if g.StaffID == id && with[g.Role] && healthcode.RegionInside(region, g.RegionCode) {
					want = true
				}
			}
			err := e.Authorize(ctx, staff(id), perm, region)
			if want && err != nil {
				rt.Fatalf("staff %d %s at %s: %v, want allowed", id, perm, region, err)
			}
			if !want && !errors.Is(err, healthcode.ErrForbidden) {
				rt.Fatalf("staff %d %s at %s: %v, want ErrForbidden", id, perm, region, err)
			}
			roles, err := e.RolesAt(ctx, staff(id), perm, region)
			if err != nil || (len(roles) > 0) != want {
				rt.Fatalf("RolesAt(staff %d, %s, %s) = %v, %v; allowed %v", id, perm, region, roles, err, want)
			}

			vis, err := e.VisibleRegions(ctx, staff(id), perm)
			if err != nil {
				rt.Fatal(err)
			}
			for i, v := range vis {
				found := false
				for _, g := range grants {
					if g.StaffID == id && with[g.Role] && g.RegionCode == v {
						found = true
					}
				}
				if !found {
					rt.Fatalf("VisibleRegions(staff %d, %s) = %v: %s is no grant region", id, perm, vis, v)
				}
				for j, w := range vis {
					if i != j && healthcode.RegionInside(v, w) {
						rt.Fatalf("VisibleRegions = %v: %s is inside %s", vis, v, w)
					}
				}
			}
			covered := false
			for _, v := range vis {
				if healthcode.RegionInside(region, v) {
					covered = true
				}
			}
			if covered != want {
				rt.Fatalf("VisibleRegions(staff %d, %s) = %v covers %s: %v, want %v", id, perm, vis, region, covered, want)
			}
		}
	})
}
