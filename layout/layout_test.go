package layout_test

import (
	"os"
	"strings"
	"testing"

	"healthcode/layout"
)

// Every package imports only what its layer may (docs/architecture.md), is
// listed in the layout, and production code holds no test helpers.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	g, err := layout.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	violations, unused := layout.Check(g)
	for _, v := range violations {
		t.Error(v)
	}
	for _, e := range unused {
		t.Errorf("the exception %s no longer occurs: remove it from layout.Exceptions", e)
	}
}

// The generated sections of docs/architecture.md are current.
func TestArchitectureDocIsCurrent(t *testing.T) {
	t.Parallel()
	g, err := layout.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := layout.Document(string(old), layout.Sections(g))
	if err != nil {
		t.Fatal(err)
	}
	if doc != string(old) {
		t.Error("docs/architecture.md is not current: run go generate ./layout (make generate)")
	}
}

// Check finds an import against the rule and a package missing from the
// table.
func TestCheckFindsViolations(t *testing.T) {
	t.Parallel()
	g := &layout.Graph{Imports: map[string][]string{}, External: map[string][]string{}, Deps: map[string][]string{}}
	for _, p := range layout.Packages {
		g.Imports[p.Path] = nil
	}
	g.Imports["workers"] = []string{"postgres"}              // transport → storage
	g.Imports["graph"] = []string{"postgres", "graph/model"} // transport → storage; its own tree
	g.Imports["elsewhere"] = nil
	g.External[""] = []string{"github.com/jackc/pgx/v5"}
	g.Deps["demo"] = []string{"net/http/httptest"}
	violations, unused := layout.Check(g)
	var got []string
	for _, v := range violations {
		got = append(got, v.String())
	}
	want := []string{
		"demo imports net/http/httptest: test helpers stay out of production code",
		"elsewhere: the package is not in layout.Packages",
		"graph imports postgres: layer transport may not import layer storage",
		"root imports github.com/jackc/pgx/v5: the root package depends on the standard library only",
		"workers imports postgres: layer transport may not import layer storage",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(unused) != 0 {
		t.Errorf("violations:\n%s\nwant:\n%s\nunused exceptions: %v", strings.Join(got, "\n"), strings.Join(want, "\n"), unused)
	}
}
