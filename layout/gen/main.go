// Command gen rewrites the generated sections of docs/architecture.md from
// the import graph, the layout table and the scheduler's table. `go
// generate ./layout` runs it (in the layout directory).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"healthcode/layout"
)

func main() {
	root := ".."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	if err := run(root); err != nil {
		fmt.Fprintln(os.Stderr, "layout/gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	g, err := layout.Load(root)
	if err != nil {
		return err
	}
	file := filepath.Join(root, "docs", "architecture.md")
	old, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	doc, err := layout.Document(string(old), layout.Sections(g))
	if err != nil {
		return err
	}
	if doc == string(old) {
		return nil
	}
	return os.WriteFile(file, []byte(doc), 0o644)
}
