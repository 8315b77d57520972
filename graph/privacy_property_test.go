package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"pgregory.net/rapid"

	"healthcode"
	"healthcode/graph/apitest"
	"healthcode/graph/generated"
	"healthcode/postgres"
)

// Supervisors and auditors reach no personal data through any query. The
// test walks the whole schema, so a query added later is covered without
// being listed: for random arguments drawn from the ids, regions and enum
// values of a fixture full of residents' data, every query of the schema is
// asked for every field it can select, and the raw response must contain
// none of the residents' names, document numbers, phones or addresses, in
// clear or masked.
func TestPropertySupervisorsSeeNoPersonalData(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	ctx := context.Background()

	// Residents' data in every place it can live: declarations, a dependent,
	// a fever scan with its report, a hotline ticket with a caller, an appeal.
	home := s.community("610113")
	_, resident := s.CreateResident(t, "13800138601")
	s.declare(resident, declaration("欧阳明月", idNumber("61011319900101601"), "13800138601", home,
		map[string]any{"address": "幸福路八十八号三栋"}))
	s.Do(t, resident, declareMutation, declaration("欧阳小雨", idNumber("61011320150101602"), "13800138601", home, nil)).MustData(t)
	_, staff := s.CreateStaff(t, "privacy_staff", home, apitest.G("ADMIN@"+home))
	d := s.Do(t, staff, declareMutation, declaration("司马长风", idNumber("61011319400101603"), "13800138603", home, nil)).MustData(t)
	elder := d["submitDeclaration"].(map[string]any)["person"].(map[string]any)["id"].(string)
	venue, inspector := s.checkpoint(t, "隐私商场", "610113")
	s.scan(t, inspector, scanOf("00000000-0000-4000-8000-000000000601", s.credentialOf(t, resident), venue, s.Clock.Now(), 38.2))
	_, operator := s.CreateStaff(t, "privacy_operator", "61", apitest.G("OPERATOR@61"))
	s.Do(t, operator, `mutation($p: ID!) { createTicket(input: {kind: COMPLAINT, personId: $p, callerPhone: "13800138604", subject: "投诉", description: "社区未处理"}) { id } }`,
		map[string]any{"p": elder}).MustData(t)
	s.Do(t, resident, `mutation { fileAppeal(input: {reason: "赋码错误"}) { id } }`, nil).MustData(t)

	// A Xi'an sub-system pushes a record the unified rules colour otherwise:
	// a deviation naming a person.
	xianAdmin, _ := s.CreateStaff(t, "privacy_xian_admin", "6101", apitest.G("ADMIN@6101"))
	key, _, err := s.DB.CreateAPIKey(healthcode.NewContextWithActor(ctx, &healthcode.Actor{Kind: healthcode.ActorStaff, ID: xianAdmin}),
		"6101", "西安市健康码子系统")
	if err != nil {
		t.Fatal(err)
	}
	machine, err := s.DB.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&postgres.SubsystemService{DB: s.DB}).PushRecords(healthcode.NewContextWithActor(ctx, machine), []healthcode.SubsystemRecord{{
		RecordID: "XA-0001", Name: "上官飞燕", Sex: "2", Nationality: "CHN", DocType: healthcode.DocIDCard,
		DocNumber: idNumber("61011319850101605"), Region: home, Address: "长安路六十六号", Phone: "13800138605", Temperature: 36.5,
		Symptoms: []string{}, Colour: healthcode.Yellow, IssuedAt: s.Clock.Now().Add(-time.Hour), Issuer: "6101"}})
	if err != nil || res.DeviationsOpened != 1 {
		t.Fatalf("sub-system push: %+v, %v", res, err)
	}

	// Everything that would identify them, in clear and as the masks the
	// platform shows to staff.
	secrets := []string{"欧阳明月", "欧阳小雨", "司马长风", "上官飞燕", "幸福路八十八号三栋", "长安路六十六号",
		"13800138601", "13800138603", "13800138604", "13800138605", idNumber("61011319900101601"), idNumber("61011320150101602"),
		idNumber("61011319400101603"), idNumber("61011319850101605")}
	for _, q := range []string{`SELECT name_masked FROM persons UNION SELECT doc_masked FROM persons
		UNION SELECT phone_masked FROM persons WHERE phone_masked <> '' UNION SELECT caller_masked FROM tickets WHERE caller_masked <> ''`} {
		rows, err := s.Pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, m)
		}
		rows.Close()
	}

	// Argument pools: every id of the fixture, regions at each level, dates.
	var ids []string
	rows, err := s.Pool.Query(ctx, `SELECT id::text FROM persons UNION SELECT id::text FROM tickets
		UNION SELECT id::text FROM fever_reports UNION SELECT id::text FROM venues UNION SELECT id::text FROM institutions
		UNION SELECT id::text FROM staff UNION SELECT id::text FROM handling_units`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	sort.Strings(ids)
	regions := []string{"61", "6101", "610113", home[:9], home}
	now := s.Clock.Now()

	_, supervisor := s.CreateStaff(t, "privacy_supervisor", "61", apitest.G("SUPERVISOR@61"))
	_, auditor := s.CreateStaff(t, "privacy_auditor", "61", apitest.G("AUDITOR@61"))
	roles := map[string]string{"SUPERVISOR": supervisor, "AUDITOR": auditor}

	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var fields []*ast.FieldDefinition
	for _, f := range schema.Query.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			fields = append(fields, f)
		}
	}
	answered := map[string]bool{} // "ROLE field" that returned data
	gen := &argGen{schema: schema, ids: ids, regions: regions, now: now}

	rapid.Check(t, func(rt *rapid.T) {
		role := rapid.SampledFrom([]string{"SUPERVISOR", "AUDITOR"}).Draw(rt, "role")
		for _, f := range fields {
			var params, args []string
			vars := map[string]any{}
			for _, a := range f.Arguments {
				if !a.Type.NonNull && !rapid.Bool().Draw(rt, f.Name+"."+a.Name+"?") {
					continue
				}
				params = append(params, fmt.Sprintf("$%s: %s", a.Name, a.Type.String()))
				args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
				vars[a.Name] = gen.value(rt, f.Name+"."+a.Name, a.Name, a.Type, 0)
			}
			q := "query"
			if len(params) > 0 {
				q += "(" + strings.Join(params, ", ") + ")"
			}
			q += " { " + f.Name
			if len(args) > 0 {
				q += "(" + strings.Join(args, ", ") + ")"
			}
			q += selection(schema, schema.Types[f.Type.Name()], 0) + " }"

			raw, resp := post(t, s.Bundle, roles[role], q, vars)
			for _, secret := range secrets {
				if bytes.Contains(raw, []byte(secret)) {
					i := bytes.Index(raw, []byte(secret))
					rt.Fatalf("%s reached %q through %s with %v: …%s…", role, secret, f.Name, vars, raw[max(0, i-300):min(len(raw), i+100)])
				}
			}
			for _, e := range resp.Errors {
				switch code, _ := e.Extensions["code"].(string); code {
				case "FORBIDDEN", "NOT_FOUND", "INVALID", "UNAUTHENTICATED", "CONFLICT":
				default:
					rt.Fatalf("%s %s: unexpected error %q (%s) for\n%s", role, f.Name, e.Message, code, q)
				}
			}
			if v, ok := resp.Data[f.Name]; ok && v != nil && len(resp.Errors) == 0 {
				answered[role+" "+f.Name] = true
			}
		}
	})

	// The property must not hold vacuously: the aggregates a supervisor works
	// with and the audit trail an auditor reads did answer.
	for _, want := range []string{"SUPERVISOR me", "SUPERVISOR jointMeetingLists", "SUPERVISOR weeklyReports", "SUPERVISOR deviations",
		"SUPERVISOR rankings", "AUDITOR me", "AUDITOR auditLog"} {
		if !answered[want] {
			t.Errorf("%s never answered with data; answered: %v", want, answered)
		}
	}
}

// selection selects every field of def that needs no argument, to depth 4,
// with inline fragments for the members of interfaces and unions.
func selection(schema *ast.Schema, def *ast.Definition, depth int) string {
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return ""
	}
	if depth >= 4 {
		return " { __typename }"
	}
	var parts []string
	parts = append(parts, "__typename")
	switch def.Kind {
	case ast.Interface, ast.Union:
		for _, impl := range schema.GetPossibleTypes(def) {
			parts = append(parts, "... on "+impl.Name+selection(schema, impl, depth+1))
		}
	case ast.Object:
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") || requiresArgs(f) {
				continue
			}
			parts = append(parts, f.Name+selection(schema, schema.Types[f.Type.Name()], depth+1))
		}
	}
	return " { " + strings.Join(parts, " ") + " }"
}

func requiresArgs(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// argGen draws argument values by type, and by name where the name says more
// than the type (a region, a first).
type argGen struct {
	schema  *ast.Schema
	ids     []string
	regions []string
	now     time.Time
}

func (g *argGen) value(rt *rapid.T, label, name string, typ *ast.Type, depth int) any {
	if typ.Elem != nil {
		return []any{g.value(rt, label+"[]", name, typ.Elem, depth)}
	}
	def := g.schema.Types[typ.Name()]
	lname := strings.ToLower(name)
	switch {
	case def == nil:
		return nil
	case def.Kind == ast.Enum:
		var vals []string
		for _, v := range def.EnumValues {
			vals = append(vals, v.Name)
		}
		return rapid.SampledFrom(vals).Draw(rt, label)
	case def.Kind == ast.InputObject:
		obj := map[string]any{}
		if depth > 2 {
			return obj
		}
		for _, f := range def.Fields {
			if f.Type.NonNull || rapid.Bool().Draw(rt, label+"."+f.Name+"?") {
				obj[f.Name] = g.value(rt, label+"."+f.Name, f.Name, f.Type, depth+1)
			}
		}
		return obj
	}
	switch typ.Name() {
	case "ID":
		return rapid.SampledFrom(g.ids).Draw(rt, label)
	case "Int":
		if lname == "first" || lname == "last" {
			return rapid.IntRange(1, 20).Draw(rt, label)
		}
		return rapid.IntRange(0, 30).Draw(rt, label)
	case "Float":
		return rapid.Float64Range(0, 40).Draw(rt, label)
	case "Boolean":
		return rapid.Bool().Draw(rt, label)
	case "Time":
		return g.now.AddDate(0, 0, -rapid.IntRange(0, 14).Draw(rt, label)).Format(time.RFC3339)
	case "Date":
		d := g.now.AddDate(0, 0, -rapid.IntRange(0, 14).Draw(rt, label))
		if lname == "week" { // weeks are named by their Monday
			d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		}
		return d.Format("2006-01-02")
	case "JSON":
		return map[string]any{}
	}
	// Strings: regions mostly, since most string arguments name one; ids and
	// colours otherwise.
	pool := append(append([]string{}, g.regions...), "GREEN", "YELLOW", "RED")
	if strings.Contains(lname, "id") || strings.Contains(lname, "token") || strings.Contains(lname, "cursor") || lname == "after" {
		pool = append(pool, g.ids...)
	}
	return rapid.SampledFrom(pool).Draw(rt, label)
}

// post runs a query and returns the raw body and its decoding.
func post(t *testing.T, b *apitest.Bundle, token, query string, vars map[string]any) ([]byte, *apitest.Response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	b.Handler.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	out := &apitest.Response{Status: rec.Code}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode response (status %d): %v: %s", rec.Code, err, raw)
	}
	return raw, out
}
