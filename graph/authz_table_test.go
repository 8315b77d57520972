package graph_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"healthcode/graph"
	"healthcode/graph/generated"
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
			missing = append(missing, fmt.Sprintf("\t%q: {Anonymous: false, Resident: false, Ungranted: false, Roles: map[string]string{\"ROLE\": \"in\"}},", op))
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
