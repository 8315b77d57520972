package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
)

// Module is the module path.
const Module = "healthcode"

// Graph is the module's import graph as `go list` reads it (production code
// only: test files are not part of it).
type Graph struct {
	// Imports maps each module package (path below the module, "" for the
	// root) to the module packages it imports.
	Imports map[string][]string
	// External maps each module package to the third-party modules it
	// imports (module paths).
	External map[string][]string
	// Deps maps each module package to every package it depends on,
	// directly or not (import paths, the standard library included).
	Deps map[string][]string
}

type listed struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
	Module     *struct{ Path string }
}

// Load runs `go list -deps -json ./...` in dir (the module root) and
// returns the import graph. The test and the generator call it.
// Errors: go list's, with its output.
func Load(dir string) (*Graph, error) {
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.String())
	}
	moduleOf := map[string]string{}
	var mine []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list: %w", err)
		}
		if p.Standard || p.Module == nil {
			continue
		}
		moduleOf[p.ImportPath] = p.Module.Path
		if p.Module.Path == Module {
			mine = append(mine, p)
		}
	}
	g := &Graph{Imports: map[string][]string{}, External: map[string][]string{}, Deps: map[string][]string{}}
	for _, p := range mine {
		rel := Rel(p.ImportPath)
		g.Imports[rel] = []string{}
		ext := map[string]bool{}
		for _, imp := range p.Imports {
			switch m := moduleOf[imp]; m {
			case "":
			case Module:
				g.Imports[rel] = append(g.Imports[rel], Rel(imp))
			default:
				ext[m] = true
			}
		}
		for m := range ext {
			g.External[rel] = append(g.External[rel], m)
		}
		sort.Strings(g.Imports[rel])
		sort.Strings(g.External[rel])
		g.Deps[rel] = p.Deps
	}
	return g, nil
}

// Rel is an import path below the module: "healthcode/graph" → "graph",
// "healthcode" → "".
func Rel(importPath string) string {
	if importPath == Module {
		return ""
	}
	return strings.TrimPrefix(importPath, Module+"/")
}

// Name is how the table shows a package: "root" for the root package.
func Name(rel string) string {
	if rel == "" {
		return "root"
	}
	return rel
}

// Find returns the table's entry of a package.
func Find(rel string) (Package, bool) {
	for _, p := range Packages {
		if p.Path == rel {
			return p, true
		}
	}
	return Package{}, false
}

// sameTree reports whether a and b lie in one directory tree (graph and
// graph/generated): a package may import its own tree.
func sameTree(a, b string) bool {
	top := func(p string) string { return strings.SplitN(p, "/", 2)[0] }
	return a != "" && b != "" && top(a) == top(b)
}

// Violation is an import against the rule.
type Violation struct {
	From, To string
	Reason   string
}

func (v Violation) String() string {
	if v.To == "" {
		return Name(v.From) + ": " + v.Reason
	}
	return fmt.Sprintf("%s imports %s: %s", Name(v.From), Name(v.To), v.Reason)
}

// Check returns the imports of g against the rule (MayImport), except the
// Exceptions, and the packages missing from the table. unused lists the
// exceptions that no longer occur.
func Check(g *Graph) (violations []Violation, unused []string) {
	seen := map[[2]string]bool{}
	for from, imports := range g.Imports {
		p, ok := Find(from)
		if !ok {
			violations = append(violations, Violation{From: from, Reason: "the package is not in layout.Packages"})
			continue
		}
		for _, to := range imports {
			if sameTree(from, to) {
				continue
			}
			q, ok := Find(to)
			if !ok {
				continue // reported as its own package
			}
			if slices.Contains(MayImport[p.Layer], q.Layer) {
				continue
			}
			if _, ok := Exceptions[[2]string{from, to}]; ok {
				seen[[2]string{from, to}] = true
				continue
			}
			violations = append(violations, Violation{From: from, To: to,
				Reason: fmt.Sprintf("layer %s may not import layer %s", p.Layer, q.Layer)})
		}
	}
	for from, ext := range g.External {
		if p, ok := Find(from); ok && p.Layer == Domain && len(ext) > 0 {
			violations = append(violations, Violation{From: from, To: strings.Join(ext, ", "),
				Reason: "the root package depends on the standard library only"})
		}
	}
	for from, deps := range g.Deps {
		if p, ok := Find(from); ok && p.Layer != Testing {
			for _, d := range deps {
				if d == "testing" || d == "net/http/httptest" {
					violations = append(violations, Violation{From: from, To: d, Reason: "test helpers stay out of production code"})
				}
			}
		}
	}
	for _, p := range Packages {
		if _, ok := g.Imports[p.Path]; !ok {
			violations = append(violations, Violation{From: p.Path, Reason: "listed in layout.Packages but not in the module"})
		}
	}
	for e := range Exceptions {
		if !seen[e] {
			unused = append(unused, Name(e[0])+" → "+Name(e[1]))
		}
	}
	sort.Slice(violations, func(i, j int) bool { return violations[i].String() < violations[j].String() })
	sort.Strings(unused)
	return violations, unused
}

// shortModule names a third-party module as the table shows it.
func shortModule(m string) string {
	names := map[string]string{
		"github.com/prometheus/client_golang":     "prometheus",
		"github.com/golang-migrate/migrate/v4":    "golang-migrate",
		"github.com/99designs/gqlgen":             "gqlgen",
		"github.com/vektah/gqlparser/v2":          "gqlparser",
		"github.com/oasisprotocol/curve25519-voi": "curve25519-voi",
	}
	if n, ok := names[m]; ok {
		return n
	}
	if rest, ok := strings.CutPrefix(m, "golang.org/x/"); ok {
		return "x/" + rest
	}
	base := path.Base(m)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(m))
	}
	return base
}

// Table renders the package table: every package with what it holds and
// what it depends on (module packages, then third-party modules), as the
// import graph says.
func Table(g *Graph) string {
	var b strings.Builder
	b.WriteString("| package | layer | holds | depends on |\n|---|---|---|---|\n")
	for _, p := range Packages {
		var deps []string
		for _, imp := range g.Imports[p.Path] {
			deps = append(deps, "`"+Name(imp)+"`")
		}
		for _, m := range g.External[p.Path] {
			deps = append(deps, shortModule(m))
		}
		if len(deps) == 0 {
			deps = []string{"standard library only"}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", Name(p.Path), p.Layer, p.Holds, strings.Join(deps, ", "))
	}
	return b.String()
}

// Rule renders the dependency rule: what each layer may import, and the
// known exceptions.
func Rule() string {
	var b strings.Builder
	b.WriteString("| layer | may import |\n|---|---|\n")
	for _, l := range Layers {
		var may []string
		for _, m := range MayImport[l] {
			may = append(may, string(m))
		}
		if len(may) == 0 {
			may = []string{"the standard library only"}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", l, strings.Join(may, ", "))
	}
	var ex []string
	for e, why := range Exceptions {
		ex = append(ex, fmt.Sprintf("- `%s` → `%s`: %s.\n", Name(e[0]), Name(e[1]), why))
	}
	sort.Strings(ex)
	if len(ex) > 0 {
		b.WriteString("\nKnown exceptions (the test fails when one no longer occurs):\n\n")
		b.WriteString(strings.Join(ex, ""))
	}
	return b.String()
}
