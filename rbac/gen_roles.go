//go:build ignore

// gen_roles writes the role × permission table of policy.csv into
// ../docs/roles.md, between its markers. Run it with `go generate ./rbac`.
package main

import (
	"log"
	"os"

	"healthcode/rbac"
)

func main() {
	const path = "../docs/roles.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	out, ok := rbac.SpliceTable(string(doc), rbac.RoleTable())
	if !ok {
		log.Fatalf("%s lacks the role table markers", path)
	}
	if out == string(doc) {
		return
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
}
