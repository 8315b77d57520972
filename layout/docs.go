package layout

import (
	"fmt"
	"strings"
	"time"

	"healthcode"
	"healthcode/workers"
)

// Tasks renders the task lists: the periodic tasks with their schedule (the
// scheduler's table) and the outbox tasks, each with what it does
// (healthcode.Tasks).
func Tasks() string {
	doc := map[string]string{}
	for _, t := range healthcode.Tasks {
		doc[t.Type] = t.Doc
	}
	var b strings.Builder
	b.WriteString("| schedule (cron, Asia/Shanghai) | task | does |\n|---|---|---|\n")
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, workers.Shanghai())
	for _, pt := range append(workers.DefaultSchedule(), workers.NationalSchedule()...) {
		typ := pt.Task(at).Type()
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", pt.Cron, typ, doc[typ])
	}
	b.WriteString("\n| outbox task | does |\n|---|---|\n")
	for _, t := range healthcode.Tasks {
		if !t.Periodic {
			fmt.Fprintf(&b, "| `%s` | %s |\n", t.Type, t.Doc)
		}
	}
	return b.String()
}

// Sections are the generated sections of docs/architecture.md by name.
func Sections(g *Graph) map[string]string {
	return map[string]string{"packages": Table(g), "rule": Rule(), "tasks": Tasks()}
}

// Document returns doc (docs/architecture.md) with its generated sections
// replaced: the lines between "<!-- BEGIN GENERATED name -->" and
// "<!-- END GENERATED name -->". Errors: a section without its markers.
func Document(doc string, sections map[string]string) (string, error) {
	for name, body := range sections {
		begin := "<!-- BEGIN GENERATED " + name + " (go generate ./layout) -->\n"
		end := "<!-- END GENERATED " + name + " -->"
		i := strings.Index(doc, begin)
		j := strings.Index(doc, end)
		if i < 0 || j < i {
			return "", fmt.Errorf("docs/architecture.md has no generated section %q (%q … %q)", name, begin, end)
		}
		doc = doc[:i+len(begin)] + body + doc[j:]
	}
	return doc, nil
}
