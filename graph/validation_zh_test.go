package graph_test

import (
	"regexp"
	"strings"
	"testing"

	"healthcode/graph/apitest"
)

// Errors in the query itself (gqlgen's and gqlparser's validation, variable
// coercion, the parser, the complexity limit) come in Chinese with their
// code, and the validation rule's name in extensions.rule; a malformed Time
// is INVALID (it was an internal error).
func TestQueryErrorsInChinese(t *testing.T) {
	t.Parallel()
	b := apitest.Setup(t, apitest.Options{Dev: true})
	_, token := b.CreateStaff(t, "prov", "61", apitest.G("ADMIN@61"))
	english := regexp.MustCompile(`(?i)\b(must|cannot|field|argument|unknown|expected|found|required|provided|defined|value|type|selection|variable|operation|syntax|unexpected)\b`)
	cases := []struct {
		name, query string
		vars        map[string]any
		code, rule  string
		want        string // the exact message, or "" to check the language only
	}{
		{"missing required argument", `mutation { login(username: "admin") { token } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "ProvidedRequiredArguments", "缺少必填参数：字段 login 的参数 password（String!）"},
		{"missing required input field", `mutation { submitDeclaration(input: { name: "张三" }) { person { id } } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "ValuesOfCorrectType", ""},
		{"missing required input field in variables", `mutation($i: DeclarationInput!) { submitDeclaration(input: $i) { person { id } } }`,
			map[string]any{"i": map[string]any{"name": "张三"}}, "GRAPHQL_VALIDATION_FAILED", "", "变量 $i.form：缺少必填项"},
		{"wrong type", `query { regions(first: "x") { nodes { code } } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "ValuesOfCorrectType", `类型不符：应为整数（Int），实际为 "x"`},
		{"wrong type in variables", `query($n: Int) { regions(first: $n) { nodes { code } } }`, map[string]any{"n": "x"},
			"GRAPHQL_VALIDATION_FAILED", "", ""},
		{"unknown field", `query { regions { nodes { code nme } } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "FieldsOnCorrectType", "类型 Region 没有字段 nme（是否想用：name？）"},
		{"unknown argument", `query { regions(parnt: "61") { nodes { code } } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "KnownArgumentNames", ""},
		{"unknown enum value", `query { rankings(week: "2026-11-16", level: TOWN) { rank } }`, nil,
			"GRAPHQL_VALIDATION_FAILED", "ValuesOfCorrectType", ""},
		{"no subfields", `query { regions { nodes } }`, nil, "GRAPHQL_VALIDATION_FAILED", "ScalarLeafs", ""},
		{"null variable", `query($c: String!) { region(code: $c) { name } }`, map[string]any{"c": nil},
			"GRAPHQL_VALIDATION_FAILED", "", "变量 $c：不能为 null"},
		{"undeclared variable", `query { region(code: $c) { name } }`, nil, "GRAPHQL_VALIDATION_FAILED", "NoUndefinedVariables", ""},
		{"malformed", `query { regions(`, nil, "GRAPHQL_PARSE_FAILED", "", ""},
		{"malformed time", `mutation { devSetClock(at: "yesterday") }`, nil, "INVALID", "", "时间格式应为 RFC 3339，如 2026-12-03T12:00:00+08:00"},
		{"malformed time in variables", `mutation($t: Time!) { devSetClock(at: $t) }`, map[string]any{"t": "2026-13-45"}, "INVALID", "", ""},
		{"two anonymous operations", `query { me { name } } query { me { name } }`, nil, "GRAPHQL_VALIDATION_FAILED", "LoneAnonymousOperation", ""},
	}
	for _, c := range cases {
		r := b.Do(t, token, c.query, c.vars)
		if len(r.Errors) == 0 {
			t.Errorf("%s: no error", c.name)
			continue
		}
		e := r.Errors[0]
		t.Logf("%s: %s %v", c.name, e.Message, e.Extensions)
		if e.Extensions["code"] != c.code || (c.rule != "" && e.Extensions["rule"] != c.rule) {
			t.Errorf("%s: code %v rule %v, want %s %s", c.name, e.Extensions["code"], e.Extensions["rule"], c.code, c.rule)
		}
		if c.want != "" && e.Message != c.want {
			t.Errorf("%s: message %q, want %q", c.name, e.Message, c.want)
		}
		if !regexp.MustCompile(`\p{Han}`).MatchString(e.Message) || english.MatchString(strings.ReplaceAll(e.Message, "String!", "")) {
			t.Errorf("%s: message %q is not in Chinese", c.name, e.Message)
		}
	}
}
