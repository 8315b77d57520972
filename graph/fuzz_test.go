package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"healthcode/graph/apitest"
	"healthcode/graph/generated"
)

// The GraphQL input fuzzer of issue 12 §5: it walks the schema and, for every
// query and mutation, generates arguments from their input types with hostile
// values (NaN and infinities, huge and negative numbers, NUL characters,
// invalid UTF-8, overlong strings, malformed IDs, times and dates, unknown
// enum values, nulls) and sends them as an anonymous caller, a resident and a
// provincial administrator. No answer may be INTERNAL or UNAVAILABLE, nor a
// status of 500 or more: every bad input gets a coded error.
//
// TestGraphQLInputsNeverInternal is the bounded, seeded run of `make test`;
// FuzzGraphQLInputs lets `go test -fuzz` search further, the fuzzer choosing
// the seed and one of the strings.

// invalidUTF8 stands in the generated variables for bytes that are not
// UTF-8: json.Marshal would replace them, so they are put into the body after
// marshalling.
const invalidUTF8 = "\uE000INVALID-UTF8\uE000"

var hostileStrings = []string{
	"", " ", "\x00", "a\x00b", invalidUTF8, "' OR 1=1 --", "61'; DROP TABLE persons; --", "<script>alert(1)</script>",
	"%s%n%x", "../../etc/passwd", "6101", "610113001001", "13800138000", "NaN", "-1", "9223372036854775808",
	"2026-02-30", "not-a-time", "\u202e\u200b", "😷🟥", strings.Repeat("长", 20000), strings.Repeat("a", 4097),
}

var hostileIDs = []any{"0", "-1", "1", "2", "9223372036854775807", "9223372036854775808", "abc", "1 OR 1=1", "", "1e3",
	"\x00", invalidUTF8, 7, -7, 1.5}

var hostileFloats = []any{"NaN", "Infinity", "-Inf", "+Inf", 1e308, -1e308, "1e400", 0, -0.0, 36.5, 42.01, 34.99, "abc", true}

var hostileInts = []any{0, -1, 1, 2147483647, -2147483648, 2147483648, 1e18, 1.5, "7", "NaN", nil}

var hostileTimes = []any{"not-a-time", "", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-12-03T12:00:00+08:00",
	"2026-12-03 12:00:00", "2026-13-45T99:99:99Z", "\x00", 1e18, -1}

var hostileDates = []any{"2026-02-30", "0000-01-01", "9999-12-31", "2026-12-03", "12/03/2026", "", "\x00", 20261203}

// benign holds plausible values of each scalar.
var benign = map[string][]any{
	"ID":      {"1", "2", "3"},
	"Float":   {36.5, 38.2, 1},
	"Int":     {1, 10, 100},
	"Boolean": {true, false},
	"Time":    {"2026-12-03T12:00:00+08:00", "2026-11-20T08:00:00+08:00"},
	"Date":    {"2026-12-03", "2026-11-30"},
	"JSON":    {map[string]any{}},
	"String":  {"610113", "6101", "61", "测试", "13800138699", "RED", "VISITOR", "ID_CARD", "2026-12-01"},
}

// fuzzer generates hostile arguments for the operations of schema.
type fuzzer struct {
	schema *ast.Schema
	rnd    *rand.Rand
	str    string // an extra hostile string (the fuzzing engine's)
	// benignOnly generates plausible values only (no nulls, no hostile
	// values), for the authorization table's calls.
	benignOnly bool
	// first takes the first benign value and the first enum value: the
	// authorization table's fixture arguments (ID "1", region "610113").
	first bool
}

func (f *fuzzer) pick(list []any) any {
	if f.first {
		return list[0]
	}
	return list[f.rnd.IntN(len(list))]
}

func (f *fuzzer) value(t *ast.Type, depth int) any {
	if !t.NonNull && (f.benignOnly || f.rnd.IntN(6) == 0) {
		return nil
	}
	if t.Elem != nil {
		n := f.rnd.IntN(3)
		if f.benignOnly {
			n = 1
		} else if f.rnd.IntN(10) == 0 {
			n = 50 + f.rnd.IntN(200)
		}
		list := make([]any, n)
		for i := range list {
			list[i] = f.value(t.Elem, depth+1)
		}
		return list
	}
	def := f.schema.Types[t.NamedType]
	if def.Kind == ast.Scalar && (f.benignOnly || f.rnd.IntN(2) == 0) {
		// A plausible value, so that the hostile one next to it reaches
		// the services and the database rather than the first check.
		return f.pick(benign[t.NamedType])
	}
	switch def.Kind {
	case ast.Enum:
		if !f.benignOnly && f.rnd.IntN(5) == 0 {
			return "NO_SUCH_VALUE"
		}
		if f.first {
			return def.EnumValues[0].Name
		}
		return def.EnumValues[f.rnd.IntN(len(def.EnumValues))].Name
	case ast.InputObject:
		obj := map[string]any{}
		for _, field := range def.Fields {
			if depth > 4 && !field.Type.NonNull {
				continue
			}
			if field.Type.NonNull || (!f.benignOnly && f.rnd.IntN(2) == 0) {
				obj[field.Name] = f.value(field.Type, depth+1)
			}
		}
		return obj
	}
	switch t.NamedType {
	case "ID":
		return f.pick(hostileIDs)
	case "Float":
		return f.pick(hostileFloats)
	case "Int":
		return f.pick(hostileInts)
	case "Boolean":
		return f.pick([]any{true, false, "yes", 1})
	case "Time":
		return f.pick(hostileTimes)
	case "Date":
		return f.pick(hostileDates)
	case "JSON":
		return map[string]any{"a": f.str, "b": []any{1e308, "\x00"}, "c": map[string]any{"d": nil}}
	}
	if f.str != "" && f.rnd.IntN(3) == 0 {
		return f.str
	}
	return hostileStrings[f.rnd.IntN(len(hostileStrings))]
}

// request builds the operation calling field of the root type op with
// generated variables, and its JSON body.
func (f *fuzzer) request(op string, field *ast.FieldDefinition) []byte {
	var decl, args []string
	vars := map[string]any{}
	for i, a := range field.Arguments {
		name := fmt.Sprintf("a%d", i)
		decl = append(decl, "$"+name+": "+a.Type.String())
		args = append(args, a.Name+": $"+name)
		vars[name] = f.value(a.Type, 0)
		if f.first && !a.Type.NonNull && a.Type.Name() == "String" && (a.Name == "region" || a.Name == "parent" || a.Name == "regionCode") {
			vars[name] = "610113" // the fixture's county, not the province a missing region means
		}
	}
	q := strings.ToLower(op)
	if len(decl) > 0 {
		q += "(" + strings.Join(decl, ", ") + ")"
	}
	q += " { " + field.Name
	if len(args) > 0 {
		q += "(" + strings.Join(args, ", ") + ")"
	}
	if k := f.schema.Types[field.Type.Name()].Kind; k != ast.Scalar && k != ast.Enum {
		q += " { __typename }"
	}
	q += " }"
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		panic(err)
	}
	return bytes.ReplaceAll(body, []byte(invalidUTF8), []byte("\xff\xfe\xc3("))
}

// fuzzOperations lists the queries and mutations that the fuzzer calls: all
// but the dev-mode fields and logout (which would end the callers' sessions).
func fuzzOperations(schema *ast.Schema) (ops []string, fields []*ast.FieldDefinition) {
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
		for _, fd := range root.Fields {
			if strings.HasPrefix(fd.Name, "__") || fd.Directives.ForName("dev") != nil || fd.Name == "logout" {
				continue
			}
			ops = append(ops, root.Name)
			fields = append(fields, fd)
		}
	}
	return ops, fields
}

// fuzzStack is an API stack outside dev mode with three callers.
type fuzzStack struct {
	*apitest.Bundle
	tokens []string
}

func newFuzzStack(t testing.TB) *fuzzStack {
	b := apitest.Setup(t, apitest.Options{})
	b.Clock.Set(start)
	var home string
	if err := b.Pool.QueryRow(context.Background(), `SELECT min(code) FROM regions WHERE level = 'COMMUNITY' AND code LIKE '610113%'`).
		Scan(&home); err != nil {
		t.Fatal(err)
	}
	_, resident := b.CreateResident(t, "13800138699")
	r := b.Do(t, resident, declareMutation, declaration("模糊测试", idNumber("61011319900101069"), "13800138699",
		home, nil))
	r.MustData(t)
	_, admin := b.CreateStaff(t, "fuzz-admin", "61", apitest.G("ADMIN@61"), apitest.G("HEALTH_OFFICER@61"),
		apitest.G("OPERATOR@61"), apitest.G("HANDLER@61"))
	return &fuzzStack{Bundle: b, tokens: []string{"", resident, admin}}
}

// check sends one generated request for every operation as every caller and
// reports the answers that are not coded.
func (s *fuzzStack) check(t testing.TB, f *fuzzer) {
	t.Helper()
	ops, fields := fuzzOperations(f.schema)
	for i, fd := range fields {
		for _, token := range s.tokens {
			body := f.request(ops[i], fd)
			r := s.Raw(t, token, "application/json", body)
			codes := map[string]bool{}
			for _, e := range r.Errors {
				c, _ := e.Extensions["code"].(string)
				codes[c] = true
			}
			if r.Status >= 500 || codes["INTERNAL"] || codes["UNAVAILABLE"] || codes[""] && len(r.Errors) > 0 {
				t.Errorf("%s.%s: status %d, errors %+v\nbody: %.600s", ops[i], fd.Name, r.Status, r.Errors, body)
			}
		}
	}
}

func TestGraphQLInputsNeverInternal(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := newFuzzStack(t)
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		s.check(t, &fuzzer{schema: schema, rnd: rand.New(rand.NewPCG(12, uint64(round)))})
	}
	ops, _ := fuzzOperations(schema)
	if len(ops) < 100 {
		t.Fatalf("fuzzed %d operations: the schema walk lost some", len(ops))
	}
}

func FuzzGraphQLInputs(f *testing.F) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := newFuzzStack(f)
	seeds := append([]string{}, hostileStrings...)
	sort.Strings(seeds)
	for i, str := range seeds {
		f.Add(uint64(i), str)
	}
	f.Fuzz(func(t *testing.T, seed uint64, str string) {
		s.check(t, &fuzzer{schema: schema, rnd: rand.New(rand.NewPCG(seed, 12)), str: str})
	})
}
