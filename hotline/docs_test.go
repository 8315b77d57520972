package hotline

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated sections of docs/hotline.md")

const docsPath = "../docs/hotline.md"

// renderTable renders the rule table as the Markdown table of
// docs/hotline.md.
func renderTable() string {
	var b strings.Builder
	b.WriteString("| from | action | who | to | requires | visibility | effects |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range Rules() {
		action := fmt.Sprintf("`%s` %s", r.Action, r.Action.Label())
		switch r.When {
		case OutcomeSatisfied:
			action += "（满意 / 基本满意）"
		case OutcomeDissatisfied:
			action += "（不满意 → 重办）"
		case OutcomeApproved:
			action += "（同意）"
		case OutcomeRejected:
			action += "（不同意）"
		}
		roles := make([]string, len(r.Roles))
		for i, x := range r.Roles {
			roles[i] = string(x)
		}
		effects := make([]string, len(r.Effects))
		for i, e := range r.Effects {
			effects[i] = string(e)
		}
		fmt.Fprintf(&b, "| `%s` %s | %s | %s | `%s` %s | %s | %s | %s |\n",
			r.From, r.From.Label(), action, strings.Join(roles, ", "), r.To, r.To.Label(),
			renderNeeds(r.Needs), r.Visibility, orDash(strings.Join(effects, ", ")))
	}
	return b.String()
}

func renderNeeds(n Needs) string {
	var out []string
	add := func(ok bool, s string) {
		if ok {
			out = append(out, s)
		}
	}
	add(n.Text, "text")
	add(n.Reason, "reason")
	add(n.TargetUnit, "target unit")
	add(n.Unit, "unit (target, else current)")
	add(n.TargetTicket, "target ticket")
	add(n.Place, "place")
	add(n.Satisfaction, "satisfaction")
	add(n.Decision, "decision")
	for _, k := range n.Kinds {
		out = append(out, "only "+string(k))
	}
	for _, k := range n.ExceptKinds {
		out = append(out, "not "+string(k))
	}
	add(n.ExtensionPending, "extension pending")
	add(n.NoExtensionPending, "no extension pending")
	return orDash(strings.Join(out, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// renderDiagram renders the state-changing rules (and 改派, which starts a
// new round) as a Mermaid stateDiagram-v2.
func renderDiagram() string {
	var b strings.Builder
	b.WriteString("```mermaid\nstateDiagram-v2\n")
	for _, s := range States {
		fmt.Fprintf(&b, "    state \"%s %s\" as %s\n", s.Label(), s, s)
	}
	fmt.Fprintf(&b, "    [*] --> %s\n", Accepted)
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.From == r.To && r.Action != Redispatch {
			continue
		}
		label := r.Action.Label()
		switch r.When {
		case OutcomeSatisfied:
			label += "（满意/基本满意）"
		case OutcomeDissatisfied:
			label += "（不满意，重办）"
		}
		roles := make([]string, len(r.Roles))
		for i, x := range r.Roles {
			roles[i] = string(x)
		}
		edge := fmt.Sprintf("    %s --> %s: %s [%s]\n", r.From, r.To, label, strings.Join(roles, ", "))
		if !seen[edge] {
			seen[edge] = true
			b.WriteString(edge)
		}
	}
	fmt.Fprintf(&b, "    %s --> [*]\n    %s --> [*]\n```\n", Closed, Merged)
	return b.String()
}

// section returns the text between the BEGIN and END markers of name.
func section(doc, name string) (before, body, after string, ok bool) {
	begin := "<!-- BEGIN GENERATED " + name + " (go test ./hotline -update-docs) -->\n"
	end := "<!-- END GENERATED " + name + " -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", "", "", false
	}
	return doc[:i+len(begin)], doc[i+len(begin) : j], doc[j:], true
}

// TestDocsInSync checks that docs/hotline.md shows the machine as it is.
func TestDocsInSync(t *testing.T) {
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, g := range []struct{ name, want string }{{"rule table", renderTable()}, {"diagram", renderDiagram()}} {
		before, body, after, ok := section(doc, g.name)
		if !ok {
			t.Fatalf("%s: no generated section %q", docsPath, g.name)
		}
		if body == g.want {
			continue
		}
		if !*updateDocs {
			t.Fatalf("%s: section %q is out of date; run go test ./hotline -run TestDocsInSync -update-docs", docsPath, g.name)
		}
		doc = before + g.want + after
	}
	if *updateDocs {
		if err := os.WriteFile(docsPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
