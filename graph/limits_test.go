package graph

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"

	"healthcode/graph/generated"
)

// costOf is the complexity of the one operation of query.
func costOf(t *testing.T, query string) int {
	t.Helper()
	es := withListCosts(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
	doc, err := gqlparser.LoadQuery(es.Schema(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return complexity.Calculate(context.Background(), es, doc.Operations[0], nil)
}

// Every paginated list field costs its page size times its selection:
// `first` (DefaultFirst when not given), tickets and deviations included;
// a root list without pagination a default page; other fields cost their
// selection plus one.
func TestListCosts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		query string
		want  int
	}{
		// tickets: 1 + 5 × (nodes: 1 + (id 1 + steps: 1 + action 1))
		{`{ tickets(first: 5) { nodes { id steps { action } } } }`, 1 + 5*(1+(1+(1+1)))},
		// the default page size when first is not given
		{`{ tickets { nodes { id } } }`, 1 + 20*(1+1)},
		{`{ deviations(first: 50) { nodes { id } } }`, 1 + 50*(1+1)},
		{`{ staff(first: 10) { edges { cursor node { id grants { role } } } pageInfo { hasNextPage } } }`,
			1 + 10*((1+(1+(1+(1+(1+1)))))+(1+1))},
		{`{ persons(first: 100) { nodes { id } } }`, 1 + 100*(1+1)},
		// a root list without pagination: a default page
		{`{ institutions { id name } }`, 1 + 20*(1+1)},
		{`{ colourRequests { id personId } }`, 1 + 20*(1+1)},
		// a nested list without pagination: the selection plus one
		{`{ me { staff { grants { role } } } }`, 1 + (1 + (1 + 1))},
	} {
		if got := costOf(t, c.query); got != c.want {
			t.Errorf("%s: cost %d, want %d", c.query, got, c.want)
		}
	}
}

// The operations of the web front end stay under the complexity limit that
// NewHandler sets by default.
func TestWebOperationsWithinComplexityLimit(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../web/src/api/operations/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no operations: %v", err)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		all.WriteString("\n")
	}
	es := withListCosts(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
	doc, errs := gqlparser.LoadQuery(es.Schema(), all.String())
	if len(errs) > 0 {
		t.Fatal(errs.Error())
	}
	const limit = 5000 // NewHandler's default ComplexityLimit
	highest, name := 0, ""
	for _, op := range doc.Operations {
		cost := complexity.Calculate(context.Background(), es, op, nil)
		if cost > limit {
			t.Errorf("operation %s costs %d, over the limit %d", op.Name, cost, limit)
		}
		if cost > highest {
			highest, name = cost, op.Name
		}
	}
	t.Logf("%d operations; the costliest, %s, costs %d of %d", len(doc.Operations), name, highest, limit)
}

// The fields that do real work cost what they do: a QR image, a code
// evaluation, a password hash.
func TestCostlyFieldCosts(t *testing.T) {
	t.Parallel()
	if c := costOf(t, `{ myCredential { qrPng } }`); c < 250 {
		t.Errorf("myCredential { qrPng } costs %d", c)
	}
	if c := costOf(t, `mutation { login(username: "a", password: "b") { token } }`); c < 500 {
		t.Errorf("login costs %d", c)
	}
	// 2,400 aliased images would cost far over the limit even without the cap.
	if c := costOf(t, `{ myCredential { qrPng } }`) * 2400; c <= 5000 {
		t.Errorf("2,400 images cost %d", c)
	}
}
