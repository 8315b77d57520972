package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"pgregory.net/rapid"

	"healthcode"
	"healthcode/graph/apitest"
	"healthcode/graph/generated"
)

// No single account, whatever its roles and region, changes anyone's colour
// into or out of red (issue 12 §1): the test walks the whole schema, so a
// mutation added later is covered without being listed. Each run makes one
// account with random grants, which calls random mutations with arguments
// drawn from the fixture's ids, regions and enum values — and may log in as
// the accounts it creates itself (one natural person behind all of them),
// and use the API keys it creates to push city records and medical events —
// and no resident's colour may cross red. Between runs the requests one
// account left pending are withdrawn: two runs are two people.
func TestPropertyNoSingleAccountChangesRed(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()
	yanta := s.community("610113")

	// Victims: green residents, a person registered by staff, reds of each
	// kind (an approved designation, an approved medical event, a declared
	// trip abroad), an appeal dispatched to the Yanta unit.
	var victims []string
	for i, extra := range []map[string]any{nil, nil, {"form": "ARRIVAL", "origin": "ABROAD:US", "transport": "航班",
		"arrivalDate": s.Clock.Now().AddDate(0, 0, -3).Format("2006-01-02")}} {
		phone := fmt.Sprintf("138001388%02d", i)
		_, tok := s.CreateResident(t, phone)
		pid, _ := s.declare(tok, declaration(fmt.Sprintf("受害人%d", i), idNumber(fmt.Sprintf("610113199001018%02d", i)), phone, yanta, extra))
		victims = append(victims, pid)
		if i == 2 {
			s.Do(t, tok, `mutation { fileAppeal(input: {reason: "行程填错了"}) { id } }`, nil).MustData(t)
		}
	}
	type victimDoc struct{ name, doc, phone string }
	var victimDocs []victimDoc
	for i := range 3 {
		victimDocs = append(victimDocs, victimDoc{fmt.Sprintf("受害人%d", i), idNumber(fmt.Sprintf("610113199001018%02d", i)),
			fmt.Sprintf("138001388%02d", i)})
	}
	victimDocs = append(victimDocs, victimDoc{"无手机老人", idNumber("61011319400101899"), "13800138898"})
	_, community := s.CreateStaff(t, "prop_community", yanta, apitest.G("HEALTH_OFFICER@"+yanta))
	d := s.Do(t, community, declareMutation, declaration("无手机老人", idNumber("61011319400101899"), "", yanta, nil)).MustData(t)
	victims = append(victims, d["submitDeclaration"].(map[string]any)["person"].(map[string]any)["id"].(string))
	des := s.Do(t, community, `mutation($p: ID!) { designatePerson(personId: $p, colour: RED, reason: "密接") { designationId } }`,
		map[string]any{"p": victims[0]}).MustData(t)["designatePerson"].(map[string]any)["designationId"]
	_, other := s.CreateStaff(t, "prop_other", "610113", apitest.G("HEALTH_OFFICER@610113"))
	s.Do(t, other, `mutation($id: ID!) { approveDesignation(id: $id) { colour } }`, map[string]any{"id": des}).MustData(t)
	s.Do(t, community, `mutation($p: ID!) { recordMedicalEvent(personId: $p, kind: CONFIRMED) { colour } }`, map[string]any{"p": victims[1]}).MustData(t)
	s.approvePending(t, "610113")
	_, admin := s.CreateStaff(t, "prop_admin", "610113", apitest.G("ADMIN@610113"))
	s.Do(t, admin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区承办中心") { id } }`, nil).MustData(t)
	_, operator := s.CreateStaff(t, "prop_operator", "61", apitest.G("OPERATOR@61"))
	var ticket string
	if err := s.Pool.QueryRow(ctx, "SELECT id::text FROM tickets").Scan(&ticket); err != nil {
		t.Fatal(err)
	}
	s.Do(t, operator, `mutation($id: ID!) { dispatchTicket(id: $id) { id } }`, map[string]any{"id": ticket}).MustData(t)
	venue, inspector := s.checkpoint(t, "雁塔商场", "610113")
	// A registered hospital: the account may ask for its machine client key
	// (in force only after another natural person approves it).
	var hospital string
	if err := s.Pool.QueryRow(ctx, `UPDATE institutions SET kind = 'HOSPITAL' WHERE id = (SELECT institution_id FROM venues WHERE id = $1)
		RETURNING id::text`, venue).Scan(&hospital); err != nil {
		t.Fatal(err)
	}
	_, scanned := s.CreateResident(t, "13800138899")
	pidScanned, _ := s.declare(scanned, declaration("扫码者", idNumber("61010319900101898"), "13800138899", s.community("610103"), nil))
	victims = append(victims, pidScanned)
	s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000899", s.credentialOf(t, scanned), venue, s.Clock.Now(), 36.5))
	drainOutbox(t, s)

	colours := func() map[string]string {
		out := map[string]string{}
		rows, err := s.Pool.Query(ctx, "SELECT person_id::text, colour FROM codes")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p, c string
			if err := rows.Scan(&p, &c); err != nil {
				t.Fatal(err)
			}
			out[p] = c
		}
		return out
	}
	reds := 0
	for _, c := range colours() {
		if c == "RED" {
			reds++
		}
	}
	if reds != 3 {
		t.Fatalf("fixture: %d reds, want 3: %v", reds, colours())
	}

	// Argument pools: every id of the fixture (facts included), regions.
	idPool := func() []string {
		var ids []string
		rows, err := s.Pool.Query(ctx, `SELECT id::text FROM persons UNION SELECT id::text FROM tickets
			UNION SELECT id::text FROM medical_events UNION SELECT id::text FROM designations UNION SELECT id::text FROM stays
			UNION SELECT stay_id::text FROM scans WHERE stay_id IS NOT NULL UNION SELECT id::text FROM health_records
			UNION SELECT id::text FROM colour_requests UNION SELECT id::text FROM staff UNION SELECT id::text FROM handling_units
			UNION SELECT id::text FROM venues UNION SELECT id::text FROM institutions UNION SELECT id::text FROM fever_reports
			UNION SELECT id::text FROM grants UNION SELECT id::text FROM api_keys`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return ids
	}
	regions := []string{"61", "6101", "610113", "610103", yanta[:9], yanta, "420106"}
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	// Every mutation, those that name a person, a fact, a colour or a risk
	// (read from their arguments' types) drawn more often: they are where an
	// attack would be.
	var mutations []*ast.FieldDefinition
	for _, f := range schema.Mutation.Fields {
		// The dev clock exists only in dev mode (docs/security-colour.md).
		if strings.HasPrefix(f.Name, "__") || f.Directives.ForName("dev") != nil {
			continue
		}
		weight := 1
		for _, a := range f.Arguments {
			switch a.Type.Name() {
			case "MedicalKind", "FactKind", "RiskLevel", "Colour", "FactCorrectionInput", "DeclarationInput":
				weight = 8
			}
			if a.Name == "personId" {
				weight = 8
			}
		}
		switch f.Name {
		case "createApiKey", "createMachineClientKey", "approveApiKey":
			weight = 8
		}
		for range weight {
			mutations = append(mutations, f)
		}
	}
	roles := []healthcode.Role{healthcode.RoleAdmin, healthcode.RoleHealthOfficer, healthcode.RoleHandler, healthcode.RoleOperator,
		healthcode.RoleRuleAdmin, healthcode.RoleSupervisor, healthcode.RoleAuditor, healthcode.RoleInstitutionAdmin, healthcode.RoleInspector}
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		before := colours()
		// The victims' ids weigh more: an attack needs one.
		weighted := func() []string { return append(append(idPool(), victims...), victims...) }
		gen := &argGen{schema: schema, ids: weighted(), regions: regions, now: s.Clock.Now()}
		home := rapid.SampledFrom(regions[:6]).Draw(rt, "home")
		var grants []apitest.Grant
		for _, r := range rapid.SliceOfNDistinct(rapid.SampledFrom(roles), 1, 4, func(r healthcode.Role) healthcode.Role { return r }).Draw(rt, "roles") {
			grants = append(grants, apitest.Grant{Role: r, Region: rapid.SampledFrom(regions[:6]).Draw(rt, string(r)+"@")})
		}
		_, token := s.CreateStaff(t, fmt.Sprintf("attacker%d", run), home, grants...)
		tokens := []string{token}
		var keys []string
		for i := range rapid.IntRange(5, 12).Draw(rt, "calls") {
			f := rapid.SampledFrom(mutations).Draw(rt, fmt.Sprintf("op%d", i))
			tok := rapid.SampledFrom(tokens).Draw(rt, fmt.Sprintf("as%d", i))
			var params, args []string
			vars := map[string]any{}
			for _, a := range f.Arguments {
				if !a.Type.NonNull && !rapid.Bool().Draw(rt, f.Name+"."+a.Name+"?") {
					continue
				}
				params = append(params, fmt.Sprintf("$%s: %s", a.Name, a.Type.String()))
				args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
				vars[a.Name] = gen.value(rt, f.Name+"."+a.Name, a.Name, a.Type, 0)
				if a.Name == "personId" { // an attack needs a victim
					vars[a.Name] = rapid.SampledFrom(victims).Draw(rt, f.Name+".victim")
				}
			}
			switch f.Name {
			case "createMachineClientKey":
				vars["institutionId"] = hospital
			case "createApiKey":
				vars["city"] = rapid.SampledFrom([]string{"6101", "6101", "6103"}).Draw(rt, "key city")
			}
			if f.Name == "createStaff" { // an account the attacker can log in as
				vars["input"] = map[string]any{"username": fmt.Sprintf("puppet%d_%d", run, i), "displayName": "傀儡",
					"password": "Puppet-pass-2020", "region": rapid.SampledFrom(regions[:6]).Draw(rt, "puppet region")}
			}
			q := "mutation"
			if len(params) > 0 {
				q += "(" + strings.Join(params, ", ") + ")"
			}
			q += " { " + f.Name
			if len(args) > 0 {
				q += "(" + strings.Join(args, ", ") + ")"
			}
			q += selection(schema, schema.Types[f.Type.Name()], 2) + " }"
			_, resp := post(t, s.Bundle, tok, q, vars)
			for _, e := range resp.Errors {
				if code, _ := e.Extensions["code"].(string); code == "INTERNAL" {
					rt.Fatalf("%s: INTERNAL %q for %s %v", f.Name, e.Message, q, vars)
				}
			}
			if (f.Name == "createApiKey" || f.Name == "createMachineClientKey") && len(resp.Errors) == 0 {
				keys = append(keys, resp.Data[f.Name].(map[string]any)["key"].(string))
				gen.ids = weighted()
			}
			// The keys the account made push records and medical events:
			// a trip abroad, a confirmed case, a discharge of each victim.
			if len(keys) > 0 && rapid.Bool().Draw(rt, fmt.Sprintf("use key%d", i)) {
				key := rapid.SampledFrom(keys).Draw(rt, fmt.Sprintf("key%d", i))
				v := rapid.SampledFrom(victimDocs).Draw(rt, fmt.Sprintf("key victim%d", i))
				kind := rapid.SampledFrom([]string{"CONFIRMED", "DISCHARGED", "ISOLATION_RELEASED", "CLOSE_CONTACT"}).Draw(rt, fmt.Sprintf("key kind%d", i))
				travel := []map[string]any{}
				if rapid.Bool().Draw(rt, fmt.Sprintf("abroad%d", i)) {
					travel = append(travel, map[string]any{"place": "ABROAD:US", "from": day(-5), "to": day(-2)})
				}
				line, _ := json.Marshal(cityRecord(fmt.Sprintf("P%d-%d", run, i), v.name, v.doc, v.phone, yanta, 36.5, travel...))
				s.post(t, "/exchange/v1/records", key, "application/x-ndjson", line) // 401 for a pending key, 403 for a machine client
				s.postEvents(t, key, event(fmt.Sprintf("E%d-%d", run, i), v.doc, kind))
			}
			if f.Name == "createStaff" && len(resp.Errors) == 0 {
				in := vars["input"].(map[string]any)
				l := s.Do(t, "", `mutation($u: String!) { login(username: $u, password: "Puppet-pass-2020") { token } }`,
					map[string]any{"u": in["username"]})
				if len(l.Errors) == 0 {
					tokens = append(tokens, l.MustData(t)["login"].(map[string]any)["token"].(string))
				}
				gen.ids = weighted()
			}
		}
		drainOutbox(t, s)
		after := colours()
		for p, was := range before {
			if (was == "RED") != (after[p] == "RED") {
				rt.Fatalf("one account (%v at %s) changed person %s from %s to %s", grants, home, p, was, after[p])
			}
		}
		// Two runs are two people: what this one left pending is withdrawn.
		for _, q := range []string{
			"UPDATE colour_requests SET status = 'REJECTED', decided_by = 'system', decided_at = now() WHERE status = 'PENDING'",
			"DELETE FROM area_risks WHERE pending",
			"UPDATE designations SET retracted_at = now(), retracted_by = 'system', retract_reason = 'test' WHERE approved_at IS NULL AND retracted_at IS NULL",
			"DELETE FROM rule_sets WHERE status = 'DRAFT' AND created_by <> 'system'",
		} {
			if _, err := s.Pool.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	})
}
