package graph_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"healthcode"
	"healthcode/graph"
	"healthcode/graph/apitest"
	"healthcode/graph/generated"
	"healthcode/rbac"
)

// Issue 12 §6: the authorization table has one row per operation of the
// schema. A new operation without a row fails here, with the row to add.
func TestAuthorizationTableCoversSchema(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	ops := map[string]bool{}
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		for _, fd := range schema.Types[root].Fields {
			if !strings.HasPrefix(fd.Name, "__") {
				ops[root+"."+fd.Name] = true
			}
		}
	}
	var missing, stale []string
	for op := range ops {
		if _, ok := graph.AuthzTable[op]; !ok {
			missing = append(missing, fmt.Sprintf("\t%q: {Anonymous: false, Resident: false, Ungranted: false, Perms: []string{\"object.action\"}},", op))
		}
	}
	for op := range graph.AuthzTable {
		if !ops[op] {
			stale = append(stale, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("operations without a row in graph.AuthzTable (graph/authz_table.go); add, with who may call them:\n%s",
			strings.Join(missing, "\n"))
	}
	if len(stale) > 0 {
		t.Errorf("rows of graph.AuthzTable naming no operation of the schema; remove: %s", strings.Join(stale, ", "))
	}
}

// Every operation, called by every caller that the table denies it to, is
// refused: anonymous callers with UNAUTHENTICATED, residents and a staff
// account without grants with UNAUTHENTICATED, FORBIDDEN or NOT_FOUND (the
// object is not theirs, nothing is inside their jurisdiction); INVALID (the arguments'
// own checks, made first) is no success either. Plausible arguments are
// generated from the schema (the fuzzer's benign values).
func TestAuthorizationTableDenials(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := newFuzzStack(t)
	_, ungranted := s.CreateStaff(t, "authz-ungranted", "610113")
	callers := []struct {
		name, token string
		allowed     func(graph.AuthzRow) bool
		refusals    []string
	}{
		{"anonymous", "", func(r graph.AuthzRow) bool { return r.Anonymous }, []string{"UNAUTHENTICATED"}},
		{"resident", s.tokens[1], func(r graph.AuthzRow) bool { return r.Resident }, []string{"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"}},
		{"staff without grants", ungranted, func(r graph.AuthzRow) bool { return r.Ungranted },
			[]string{"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"}},
	}
	checked := 0
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		for _, fd := range schema.Types[root].Fields {
			row, ok := graph.AuthzTable[root+"."+fd.Name]
			if !ok || row.Dev || strings.HasPrefix(fd.Name, "__") {
				continue // TestAuthorizationTableCoversSchema reports missing rows
			}
			for i, c := range callers {
				if c.allowed(row) {
					continue
				}
				f := &fuzzer{schema: schema, rnd: rand.New(rand.NewPCG(1, uint64(i))), benignOnly: true}
				r := s.Raw(t, c.token, "application/json", f.request(root, fd))
				checked++
				code := r.Code()
				// Pure input checks may come before the caller's: INVALID
				// is no success either.
				refused := code == "INVALID"
				for _, want := range c.refusals {
					refused = refused || code == want
				}
				if !refused {
					t.Errorf("%s.%s as %s: answered %q (%+v), the table denies it", root, fd.Name, c.name, code, r.Errors)
				}
			}
		}
	}
	if checked < 200 {
		t.Fatalf("only %d denials checked", checked)
	}
}

// authzRoles derives the role column of row from its Perms and the policy of
// rbac: "in" when the role holds one of Perms (inside the region of its
// grant; at 61 for a Province row), "-" when it may not call the operation.
// A row a staff account without grants may call is open to every role.
func authzRoles(row graph.AuthzRow) map[healthcode.Role]string {
	out := map[healthcode.Role]string{}
	for _, role := range healthcode.StaffRoles {
		out[role] = "-"
		if row.Ungranted {
			out[role] = "in+out"
			continue
		}
		for _, p := range rbac.Permissions(role) {
			if slices.Contains(row.Perms, p.Object+"."+p.Action) {
				out[role] = "in"
			}
		}
	}
	return out
}

// Every permission a row names exists in the policy, so that a renamed
// permission cannot silently close (or open) the row.
func TestAuthorizationTablePermsExist(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, role := range healthcode.StaffRoles {
		for _, p := range rbac.Permissions(role) {
			known[p.Object+"."+p.Action] = true
		}
	}
	for _, role := range []healthcode.Role{healthcode.RoleSubsystem} {
		for _, p := range rbac.Permissions(role) {
			known[p.Object+"."+p.Action] = true
		}
	}
	for op, row := range graph.AuthzTable {
		for _, p := range row.Perms {
			if !known[p] {
				t.Errorf("%s: permission %q is in no role of rbac/policy.csv", op, p)
			}
		}
	}
}

// Issue 12 §6, the role columns: for every staff role of rbac and every
// operation of the table, a staff account holding only that role, granted at
// the county 610113, calls the operation with fixture arguments (the
// fuzzer's first benign values: ID "1" — the fixture's person in 610113 —,
// region "610113", the first enum value):
//   - a role the table denies (authzRoles "-": no permission of Perms, or a
//     Province row granted below the province) is refused: FORBIDDEN,
//     NOT_FOUND (objects outside the jurisdiction are hidden),
//     UNAUTHENTICATED, or INVALID (argument checks come first; no success
//     either);
//   - a role the table allows inside is not refused for authorization
//     reasons: any answer but FORBIDDEN and UNAUTHENTICATED (INVALID,
//     NOT_FOUND, CONFLICT are the fixture arguments' business);
//   - outside: the same role granted at another county (610402) calling an
//     operation whose arguments name an object or region of 610113 (an ID
//     or the region argument "610113") is refused like a denied role.
//
// Subscriptions are checked for denials only (an allowed one stays open).
// List operations without a region argument are checked inside only: for a
// grant elsewhere they answer the caller's own region, which is no
// "outside". Operations whose ID argument names an object that does not
// exist in the fixture (an institution, a ticket) are refused outside with
// NOT_FOUND, which checks the refusal but not its reason.
//
// relationBound lists the allowed-inside cases where the permission is not
// the whole right and the fixture lacks the relation the rest needs: there
// FORBIDDEN is accepted inside (the denials and the outside checks still
// run).
func TestAuthorizationTableRoles(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := newFuzzStack(t)
	type caller struct{ in, out string }
	callers := map[healthcode.Role]caller{}
	for _, role := range healthcode.StaffRoles {
		name := strings.ToLower(strings.ReplaceAll(string(role), "_", "-"))
		_, in := s.CreateStaff(t, "authz-in-"+name, "610113", apitest.G(string(role)+"@610113"))
		_, out := s.CreateStaff(t, "authz-out-"+name, "610402", apitest.G(string(role)+"@610402"))
		callers[role] = caller{in, out}
	}
	refused := func(code string) bool {
		switch code {
		case "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "INVALID":
			return true
		}
		return false
	}
	relationBound := map[string][]healthcode.Role{
		// An institution's own staff see their institution by membership,
		// not by region; the role's accounts belong to none.
		"Query.institutions": {healthcode.RoleInstitutionAdmin},
		"Query.venues":       {healthcode.RoleInstitutionAdmin},
		// Scans are recorded at a venue of the inspector's institution.
		"Mutation.recordScans": {healthcode.RoleInstitutionAdmin, healthcode.RoleInspector},
		// Colour request 1 is the one this account's own designatePerson
		// call opened earlier in the loop: no one approves their own
		// request (the two-person rule).
		"Mutation.approveColourRequest": {healthcode.RoleHealthOfficer},
	}
	var checked, allowedIn, outside int
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		for _, fd := range schema.Types[root].Fields {
			op := root + "." + fd.Name
			row, ok := graph.AuthzTable[op]
			if !ok || row.Dev || row.Ungranted || strings.HasPrefix(fd.Name, "__") {
				continue
			}
			f := &fuzzer{schema: schema, rnd: rand.New(rand.NewPCG(1, 1)), benignOnly: true, first: true}
			body := f.request(root, fd)
			namesObject := false
			for _, a := range fd.Arguments {
				if a.Type.Name() == "ID" || a.Name == "region" || a.Name == "regionCode" {
					namesObject = namesObject || a.Type.NonNull
				}
			}
			for _, role := range healthcode.StaffRoles {
				c := callers[role]
				allowed := authzRoles(row)[role] == "in" && !row.Province
				if allowed && root == "Subscription" {
					continue // an allowed subscription stays open: denials only
				}
				code := s.Raw(t, c.in, "application/json", body).Code()
				checked++
				switch {
				case !allowed && !refused(code):
					t.Errorf("%s as %s@610113: answered %q, the table denies it", op, role, code)
				case allowed && code == "FORBIDDEN" && slices.Contains(relationBound[op], role):
				case allowed && (code == "FORBIDDEN" || code == "UNAUTHENTICATED"):
					t.Errorf("%s as %s@610113: refused %q, the table allows it inside", op, role, code)
				case allowed:
					allowedIn++
				}
				if allowed && namesObject {
					code := s.Raw(t, c.out, "application/json", body).Code()
					outside++
					if !refused(code) {
						t.Errorf("%s as %s@610402 on an object of 610113: answered %q, the table allows it inside only", op, role, code)
					}
				}
			}
		}
	}
	t.Logf("%d role calls, %d allowed inside, %d outside checks", checked, allowedIn, outside)
	if checked < 500 || allowedIn < 50 || outside < 30 {
		t.Fatalf("too few checks: %d calls, %d allowed inside, %d outside", checked, allowedIn, outside)
	}
}
