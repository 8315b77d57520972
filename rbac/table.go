package rbac

import (
	"slices"
	"strings"

	"healthcode"
)

//go:generate go run gen_roles.go

// Meanings says what each permission of the policy allows, in the words of
// docs/roles.md. A test keeps it covering every permission of role.go.
var Meanings = map[string]string{
	"region.read":            "read regions (the tree below the grant)",
	"region.create_compound": "create a compound (组/小区) under a community",
	"staff.read":             "list staff accounts homed inside the grant",
	"staff.create":           "create staff accounts",
	"grant.manage":           "grant and revoke roles (never to oneself)",
	"audit.read":             "read the audit log",
	"apikey.manage":          "create, list and revoke API keys (city sub-systems, medical institutions' machine clients); approve another's machine client key of a region below",
	"person.read":            "find and read persons, their facts and code history (masked)",
	"person.unmask":          "see a person's phone and ID unmasked while working an open ticket of theirs (audited)",
	"person.declare":         "declare for a person without a phone (代为申领) and print their paper code",
	"fact.write":             "record medical events and retract wrong facts",
	"area_risk.write":        "designate an area's risk level",
	"designation.write":      "designate a person for management (其他需要纳入管理的人员)",
	"designation.approve":    "approve another officer's red designation",
	"colour.approve":         "approve another person's change into or out of red (docs/security-colour.md)",
	"ruleset.read":           "read rule sets",
	"ruleset.write":          "preview a rule set and submit it for approval",
	"ruleset.approve":        "approve another rule admin's rule set, which publishes it",
	"institution.read":       "read institutions and venues",
	"institution.manage":     "manage institutions and venues",
	"inspector.manage":       "add and remove an institution's inspectors",
	"scan.read":              "read scans and venue statistics",
	"scan.record":            "upload scans (inspectors of a registered institution)",
	"fever.read":             "list fever reports (发热上报)",
	"fever.handle":           "close a fever report: transferred to a fever clinic, or a false alarm",
	"passcard.review":        "list and review health pass-card applications (健康通行卡)",
	"ticket.create":          "register tickets from calls (12320)",
	"ticket.read":            "read tickets",
	"ticket.dispatch":        "dispatch, redispatch, merge, call back, reopen and close tickets (the operator's steps)",
	"ticket.handle":          "sign, handle, return and reply to tickets of the unit; resolve appeals",
	"ticket.supervise":       "decide extensions and supervise overdue tickets of the units below",
	"indicator.read":         "read supervision indicators",
	"ranking.read":           "read rankings (排名通报)",
	"ranking.generate":       "generate ranking reports",
	"report.submit":          "submit and read weekly reports and joint meeting lists",
	"exchange.push":          "push a city sub-system's records",
	"medical.record":         "record medical events of persons of its county (a medical institution's machine client)",
	"deviation.read":         "read deviations (纠正偏差)",
	"trust.manage":           "manage the trusted issuers (互信互认; province only)",
	"response_level.write":   "set the emergency response level (province only)",
}

// TableRoles are the columns of RoleTable: the staff roles, then the machine
// clients' and the residents'.
var TableRoles = append(slices.Clone(healthcode.StaffRoles), healthcode.RoleSubsystem, healthcode.RoleMedicalClient, healthcode.RoleResident)

// RoleTable renders the embedded policy as a Markdown table, one row per
// permission in policy order and one column per role (TableRoles), ✓ where
// the role holds the permission. docs/roles.md holds it between the markers
// TableBegin and TableEnd (go generate ./rbac writes it; a test compares).
// Anyone may call it. Errors: none; a broken embedded policy renders no rows
// (New refuses to start with it).
func RoleTable() string {
	rows, _ := embeddedPolicy()
	var perms []string
	holds := make(map[[2]string]bool)
	for _, r := range rows {
		p := healthcode.Permission{Object: r[1], Action: r[2]}.String()
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
		holds[[2]string{r[0], p}] = true
	}
	var b strings.Builder
	b.WriteString("| permission | allows |")
	for _, r := range TableRoles {
		b.WriteString(" " + string(r) + "<br>" + r.Label() + " |")
	}
	b.WriteString("\n|---|---|")
	for range TableRoles {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, p := range perms {
		b.WriteString("| `" + p + "` | " + Meanings[p] + " |")
		for _, r := range TableRoles {
			if holds[[2]string{string(r), p}] {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// The markers around the generated table in docs/roles.md.
const (
	TableBegin = "<!-- BEGIN role table: generated from rbac/policy.csv by `go generate ./rbac`; do not edit -->"
	TableEnd   = "<!-- END role table -->"
)

// SpliceTable returns doc with the text between TableBegin and TableEnd
// replaced by table, and false when doc lacks the markers. Anyone may call
// it. Errors: none.
func SpliceTable(doc, table string) (string, bool) {
	head, rest, ok := strings.Cut(doc, TableBegin)
	if !ok {
		return doc, false
	}
	_, tail, ok := strings.Cut(rest, TableEnd)
	if !ok {
		return doc, false
	}
	return head + TableBegin + "\n\n" + table + "\n" + TableEnd + tail, true
}
