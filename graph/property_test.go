package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"healthcode"
	"healthcode/graph/apitest"
)

// For random grants over the real region tree, no query returns anything
// outside the caller's grants and every mutation outside them fails with
// FORBIDDEN.
func TestPropertyJurisdiction(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{})
	ctx := context.Background()

	// A pool of real regions at every level in a few subtrees.
	var pool []string
	rows, err := b.Pool.Query(ctx, `SELECT code FROM regions WHERE code IN ('61', '6101', '6103', '610113', '610103', '610303')
		UNION ALL (SELECT code FROM regions WHERE level = 'STREET' AND (code LIKE '610113%' OR code LIKE '610103%') ORDER BY code LIMIT 4)
		UNION ALL (SELECT code FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610113001%' ORDER BY code LIMIT 2)
		UNION ALL (SELECT code FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610103001%' ORDER BY code LIMIT 2)
		UNION ALL (SELECT code FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610303%' ORDER BY code LIMIT 1)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		pool = append(pool, c)
	}
	rows.Close()
	var communities []string
	for _, c := range pool {
		if lv, _ := healthcode.LevelOfCode(c); lv == healthcode.LevelCommunity {
			communities = append(communities, c)
		}
	}

	// Data spread over the tree: staff and audited changes everywhere.
	_, root := b.CreateStaff(t, "root", "61", apitest.G("ADMIN@61"))
	for i, c := range pool {
		r := b.Do(t, root, `mutation($u: String!, $r: String!) { createStaff(input: {username: $u, displayName: "甲", password: "abcdef123456", region: $r}) { id } }`,
			map[string]any{"u": fmt.Sprintf("seed%d", i), "r": c})
		r.MustData(t)
	}
	for i, c := range communities {
		b.Do(t, root, `mutation($c: String!, $n: String!) { createCompound(community: $c, name: $n) { code } }`,
			map[string]any{"c": c, "n": fmt.Sprintf("小区%d", i)}).MustData(t)
	}

	// Persons living in several communities, declared by community staff.
	for i, c := range communities {
		first17 := fmt.Sprintf("61011319900101%03d", i)
		check, _ := healthcode.IDCheckChar(first17)
		b.Do(t, root, declareMutation, map[string]any{"in": map[string]any{"form": "RESIDENT", "name": "居民", "docType": "ID_CARD",
			"docNumber": first17 + string(check), "phone": "", "residence": c, "address": "1号", "temperature": 36.5}}).MustData(t)
	}

	var seq atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 3).Draw(rt, "grants")
		var grants []apitest.Grant
		for i := 0; i < n; i++ {
			grants = append(grants, apitest.Grant{
				Role:   rapid.SampledFrom(healthcode.StaffRoles).Draw(rt, "role"),
				Region: rapid.SampledFrom(pool).Draw(rt, "region"),
			})
		}
		home := rapid.SampledFrom(pool).Draw(rt, "home")
		_, token := b.CreateStaff(t, fmt.Sprintf("prop%d", seq.Add(1)), home, grants...)

		inside := func(code string, roles ...healthcode.Role) bool {
			for _, g := range grants {
				ok := len(roles) == 0
				for _, r := range roles {
					ok = ok || g.Role == r
				}
				if ok && healthcode.RegionInside(code, g.Region) {
					return true
				}
			}
			return false
		}

		// region(code)
		code := rapid.SampledFrom(pool).Draw(rt, "code")
		r := b.Do(t, token, `query($c: String!) { region(code: $c) { code } }`, map[string]any{"c": code})
		if inside(code) != (r.Code() == "") {
			rt.Fatalf("region(%s) with grants %v: code %q", code, grants, r.Code())
		}
		if !inside(code) && r.Code() != "FORBIDDEN" {
			rt.Fatalf("region(%s) outside grants: code %q, want FORBIDDEN", code, r.Code())
		}

		// regions(parent)
		r = b.Do(t, token, `query($c: String!) { regions(parent: $c, first: 100) { nodes { code } } }`, map[string]any{"c": code})
		if r.Code() == "" {
			for _, node := range r.Data["regions"].(map[string]any)["nodes"].([]any) {
				if c := node.(map[string]any)["code"].(string); !inside(c) {
					rt.Fatalf("regions(%s) returned %s outside grants %v", code, c, grants)
				}
			}
		} else if r.Code() != "FORBIDDEN" || inside(code) {
			rt.Fatalf("regions(%s) with grants %v: code %q", code, grants, r.Code())
		}

		// staff
		r = b.Do(t, token, `query { staff(first: 100) { nodes { username region { code } grants { regionCode } } } }`, nil)
		if r.Code() == "" {
			for _, node := range r.Data["staff"].(map[string]any)["nodes"].([]any) {
				node := node.(map[string]any)
				c := node["region"].(map[string]any)["code"].(string)
				if !inside(c, healthcode.RoleAdmin, healthcode.RoleAuditor) {
					rt.Fatalf("staff list returned %s homed at %s outside grants %v", node["username"], c, grants)
				}
			}
		} else if r.Code() != "FORBIDDEN" {
			rt.Fatalf("staff list: code %q (%v)", r.Code(), r.Errors)
		}

		// auditLog
		r = b.Do(t, token, `query { auditLog(first: 100) { nodes { regionCode } } }`, nil)
		if r.Code() == "" {
			for _, node := range r.Data["auditLog"].(map[string]any)["nodes"].([]any) {
				if c := node.(map[string]any)["regionCode"].(string); !inside(c, healthcode.RoleAuditor) {
					rt.Fatalf("audit log returned a record at %s outside grants %v", c, grants)
				}
			}
		} else if r.Code() != "FORBIDDEN" {
			rt.Fatalf("audit log: code %q", r.Code())
		}

		// persons: masked, and only residents of the caller's person.read regions.
		r = b.Do(t, token, `query { persons(first: 100) { nodes { id residenceCode docNumber phone } } }`, nil)
		if r.Code() == "" {
			for _, node := range r.Data["persons"].(map[string]any)["nodes"].([]any) {
				node := node.(map[string]any)
				c := node["residenceCode"].(string)
				if !inside(c, healthcode.RoleAdmin, healthcode.RoleHealthOfficer, healthcode.RoleOperator, healthcode.RoleHandler) {
					rt.Fatalf("persons returned a resident of %s outside grants %v", c, grants)
				}
				if doc := node["docNumber"].(string); !strings.Contains(doc, "*") {
					rt.Fatalf("persons returned an unmasked document %s", doc)
				}
			}
		} else if r.Code() != "FORBIDDEN" {
			rt.Fatalf("persons: code %q", r.Code())
		}

		// Mutations outside the grants fail with FORBIDDEN.
		community := rapid.SampledFrom(communities).Draw(rt, "community")
		r = b.Do(t, token, `mutation($c: String!, $n: String!) { createCompound(community: $c, name: $n) { code } }`,
			map[string]any{"c": community, "n": fmt.Sprintf("新小区%d", seq.Add(1))})
		if want := inside(community, healthcode.RoleAdmin); want != (r.Code() == "") || (!want && r.Code() != "FORBIDDEN") {
			rt.Fatalf("createCompound(%s) with grants %v: code %q", community, grants, r.Code())
		}
		target := rapid.SampledFrom(pool).Draw(rt, "target")
		r = b.Do(t, token, `mutation($u: String!, $r: String!) { createStaff(input: {username: $u, displayName: "乙", password: "abcdef123456", region: $r}) { id } }`,
			map[string]any{"u": fmt.Sprintf("newstaff%d", seq.Add(1)), "r": target})
		if want := inside(target, healthcode.RoleAdmin); want != (r.Code() == "") || (!want && r.Code() != "FORBIDDEN") {
			rt.Fatalf("createStaff(%s) with grants %v: code %q", target, grants, r.Code())
		}
		if !inside(target, healthcode.RoleAdmin) {
			r = b.Do(t, token, `mutation($r: String!) { grantRole(staffId: "1", role: HANDLER, region: $r) { id } }`, map[string]any{"r": target})
			if r.Code() != "FORBIDDEN" {
				rt.Fatalf("grantRole at %s with grants %v: code %q", target, grants, r.Code())
			}
		}
	})
}
