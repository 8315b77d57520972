package graph

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The messages of gqlparser's query validation, of its variable coercion,
// of the parser and of gqlgen's executor are English. A client shows the
// message of an error to the person using it, so the error presenter gives
// them in Chinese (zhQueryError) and keeps their code
// (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
// COMPLEXITY_LIMIT_EXCEEDED) and, for a validation rule, the rule's name in
// extensions.rule. Names from the query and the schema (fields, arguments,
// types, variables) stay as they are.

// zhMessage is one English message pattern and its Chinese form; the
// pattern's submatches are the arguments of the format (explicit argument
// indexes reorder them; submatches beyond the format's verbs are dropped).
type zhMessage struct {
	re     *regexp.Regexp
	format string
}

func zh(pattern, format string) zhMessage {
	return zhMessage{re: regexp.MustCompile("^" + pattern + "$"), format: format}
}

// q matches a quoted name (the quotes are not captured).
const q = `"([^"]*)"`

// zhMessages are gqlparser v2's validation messages (validator/rules) and
// gqlgen's executor messages. A suggestion ("Did you mean …?") is cut off
// before matching and given separately.
var zhMessages = []zhMessage{
	// ProvidedRequiredArguments, ValuesOfCorrectType: what is missing.
	zh(`Field `+q+` argument `+q+` of type `+q+` is required, but it was not provided\.`, "缺少必填参数：字段 %s 的参数 %s（%s）"),
	zh(`Directive "@([^"]*)" argument `+q+` of type `+q+` is required, but it was not provided\.`, "缺少必填参数：指令 @%s 的参数 %s（%s）"),
	zh(`Field "([^"]*)\.([^".]*)" of required type `+q+` was not provided\.`, "缺少必填字段：%s 的字段 %s（%s）"),
	zh(`Field "([^"]*)\.([^".]*)" must be non-null\.`, "%s 的字段 %s 不能为 null"),
	// ValuesOfCorrectType: values of the wrong type.
	zh(`Int cannot represent non 32-bit signed integer value: (.*)`, "整数超出范围（Int 为 32 位）：%s"),
	zh(`Int cannot represent non-integer value: (.*)`, "类型不符：应为整数（Int），实际为 %s"),
	zh(`String cannot represent a non string value: (.*)`, "类型不符：应为字符串（String），实际为 %s"),
	zh(`Boolean cannot represent a non boolean value: (.*)`, "类型不符：应为布尔值（Boolean），实际为 %s"),
	zh(`Float cannot represent non numeric value: (.*)`, "类型不符：应为数值（Float），实际为 %s"),
	zh(`ID cannot represent a non-string and non-integer value: (.*)`, "类型不符：应为编号（ID，字符串或整数），实际为 %s"),
	zh(`Enum `+q+` cannot represent non-enum value: (.*?)\.?`, "类型不符：枚举 %s 不能取值 %s"),
	zh(`Value `+q+` does not exist in `+q+` enum\.`, "枚举 %[2]s 中没有取值 %[1]s"),
	zh(`Expected value of type `+q+`, found (.*?)\.?`, "类型不符：应为 %s，实际为 %s"),
	zh(`Field `+q+` is not defined by type `+q+`\.`, "输入类型 %[2]s 没有字段 %[1]s"),
	zh(`OneOf Input Object `+q+` must specify exactly one key\.`, "输入类型 %s 须且只须填写一个字段"),
	// Unknown names.
	zh(`Cannot query field `+q+` on type `+q+`\.`, "类型 %[2]s 没有字段 %[1]s"),
	zh(`Unknown argument `+q+` on field "([^"]*)\.([^".]*)"\.`, "字段 %[2]s.%[3]s 没有参数 %[1]s"),
	zh(`Unknown argument `+q+` on directive "@([^"]*)"\.`, "指令 @%[2]s 没有参数 %[1]s"),
	zh(`Unknown directive "@([^"]*)"\.`, "未知的指令 @%s"),
	zh(`Directive "@([^"]*)" may not be used on (.*)\.`, "指令 @%s 不能用在 %s 上"),
	zh(`Unknown fragment `+q+`\.`, "未定义的片段 %s"),
	zh(`Unknown type `+q+`\.`, "未知的类型 %s"),
	zh(`Schema does not support operation type `+q, "接口不支持 %s 操作"),
	// Selections.
	zh(`Field `+q+` must not have a selection since type `+q+` has no subfields\.`, "字段 %s 的类型 %s 没有子字段，不能再选择"),
	zh(`Field `+q+` of type `+q+` must have a selection of subfields\.`, "字段 %s（%s）须选择子字段"),
	zh(`Fields `+q+` conflict because (.*)`, "字段 %s 冲突：同名字段的参数或类型不同，请为它们使用不同的别名"),
	zh(`Fragment `+q+` cannot be spread here as objects of type `+q+` can never be of type `+q+`\.`, "片段 %s 不能用在此处：类型 %s 不会是 %s"),
	zh(`Fragment cannot be spread here as objects of type `+q+` can never be of type `+q+`\.`, "片段不能用在此处：类型 %s 不会是 %s"),
	zh(`Fragment `+q+` cannot condition on non composite type `+q+`\.`, "片段 %s 不能用于非对象类型 %s"),
	zh(`Fragment cannot condition on non composite type `+q+`\.`, "片段不能用于非对象类型 %s"),
	zh(`Cannot spread fragment `+q+` within itself(.*)`, "片段 %s 不能引用自身"),
	zh(`Fragment `+q+` is never used\.`, "片段 %s 未被使用"),
	zh(`(.*) must select only one top level field\.`, "订阅 %s 只能选择一个顶层字段"),
	zh(`(.*) must not select an introspection top level field\.`, "订阅 %s 不能选择内省字段"),
	zh(`Maximum introspection depth exceeded`, "内省查询嵌套过深"),
	// Variables and operations.
	zh(`Variable `+q+` is not defined by operation `+q+`\.`, "变量 %s 未在操作 %s 中声明"),
	zh(`Variable `+q+` is not defined\.`, "变量 %s 未声明"),
	zh(`Variable `+q+` is never used in operation `+q+`\.`, "变量 %s 在操作 %s 中未被使用"),
	zh(`Variable `+q+` is never used\.`, "变量 %s 未被使用"),
	zh(`Variable `+q+` cannot be non-input type `+q+`\.`, "变量 %s 的类型 %s 不是输入类型"),
	zh(`Variable `+q+` of type `+q+` used in position expecting type `+q+`\.`, "变量 %s 的类型 %s 与此处要求的类型 %s 不符"),
	zh(`There can be only one argument named `+q+`\.`, "参数 %s 重复"),
	zh(`There can be only one input field named `+q+`\.`, "输入字段 %s 重复"),
	zh(`There can be only one fragment named `+q+`\.`, "片段名 %s 重复"),
	zh(`There can be only one operation named ""\.`, "请求中只能有一个匿名操作"),
	zh(`There can be only one operation named `+q+`\.`, "操作名 %s 重复"),
	zh(`There can be only one variable named `+q+`\.`, "变量 %s 重复"),
	zh(`The directive "@([^"]*)" can only be used once at this location\.`, "指令 @%s 在此处只能使用一次"),
	zh(`This anonymous operation must be the only defined operation\.`, "匿名操作必须是请求中唯一的操作"),
	zh(`operation (.*) not found`, "请求中没有名为 %s 的操作"),
	zh(`no operation provided`, "请求中没有 GraphQL 操作"),
	zh(`operation has complexity (\d+), which exceeds the limit of (\d+)`, "查询过于复杂：复杂度 %s，上限 %s（列表按每页条数计）"),
}

// zhParseLimits are the parser's limits (the other parse errors name
// tokens, zhToken).
var zhParseLimits = []zhMessage{
	zh(`exceeded token limit of (\d+)`, "查询语句过长：超过 %s 个词法单元"),
	zh(`exceeded maximum nesting depth of (\d+)`, "查询语句嵌套过深：超过 %s 层"),
}

// zhVariableMessages are the messages of variable coercion
// (validator.VariableValues), which give the variable in the error's path.
var zhVariableMessages = []zhMessage{
	zh(`must be defined`, "缺少必填项"),
	zh(`cannot be null`, "不能为 null"),
	zh(`(.*) is not a valid (.*)`, "%s 不是 %s 的有效取值"),
	zh(`cannot use value (.*) as (.*)`, "类型不符：%[2]s 不能取值 %[1]s"),
	zh(`cannot use (.*) as ID(.*)`, "类型不符：编号（ID）应为字符串或整数，实际为 %s"),
	zh(`cannot use (.*) as (.*)`, "类型不符：应为 %[2]s，实际为 %[1]s"),
	zh(`must be a (.*), not a (.*)`, "类型不符：应为 %s，实际为 %s"),
	zh(`unknown field`, "未知的字段"),
	zh(`enums must be ints or strings`, "枚举取值应为字符串"),
	zh(`must an input type`, "变量类型须为输入类型"),
}

var didYouMean = regexp.MustCompile(`\s*Did you mean (.*)\?$`)

// zhQueryError rewrites the message of a parse, validation or limit error
// in Chinese. parse says the error comes from the parser (its English
// message names tokens: the Chinese one gives the position instead).
func zhQueryError(e *gqlerror.Error, parse bool) {
	msg := strings.TrimSpace(e.Message)
	if parse {
		at := ""
		if len(e.Locations) > 0 {
			at = fmt.Sprintf("（第 %d 行第 %d 列）", e.Locations[0].Line, e.Locations[0].Column)
		}
		for _, m := range zhParseLimits {
			if s, ok := m.apply(msg); ok {
				e.Message = s
				return
			}
		}
		e.Message = "查询语句有语法错误" + at + "：" + zhToken(msg)
		return
	}
	if len(e.Path) > 0 && fmt.Sprint(e.Path[0]) == "variable" {
		for _, m := range zhVariableMessages {
			if s, ok := m.apply(msg); ok {
				e.Message = "变量 " + variablePath(e) + "：" + s
				return
			}
		}
		e.Message = "变量 " + variablePath(e) + " 不正确"
		return
	}
	hint := ""
	if m := didYouMean.FindStringSubmatch(msg); m != nil {
		msg = strings.TrimSpace(msg[:len(msg)-len(m[0])])
		var names []string
		for _, n := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[1], -1) {
			names = append(names, n[1])
		}
		if len(names) > 0 {
			hint = "（是否想用：" + strings.Join(names, "、") + "？）"
		}
	}
	for _, m := range zhMessages {
		if s, ok := m.apply(msg); ok {
			e.Message = s + hint
			return
		}
	}
	e.Message = "查询语句不符合接口定义" + hint // a message this table does not know yet
}

// apply formats the Chinese message when msg matches.
func (m zhMessage) apply(msg string) (string, bool) {
	sub := m.re.FindStringSubmatch(msg)
	if sub == nil {
		return "", false
	}
	args := make([]any, 0, len(sub)-1)
	for _, s := range sub[1:] {
		args = append(args, s)
	}
	n := strings.Count(m.format, "%") - 2*strings.Count(m.format, "%%")
	if n < len(args) {
		args = args[:n]
	}
	return fmt.Sprintf(m.format, args...), true
}

// variablePath renders the path of a variable coercion error: ["variable",
// "input", "travel", 0, "from"] is $input.travel[0].from.
func variablePath(e *gqlerror.Error) string {
	var b strings.Builder
	for i, p := range e.Path[1:] {
		switch v := p.(type) {
		case ast.PathIndex:
			b.WriteString("[" + strconv.Itoa(int(v)) + "]")
		case ast.PathName:
			if i == 0 {
				b.WriteString("$")
			} else {
				b.WriteString(".")
			}
			b.WriteString(string(v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	return b.String()
}

// zhToken names what the parser found, in Chinese where it is not a token
// of the query itself.
func zhToken(msg string) string {
	r := strings.NewReplacer("<EOF>", "语句末尾", "Expected ", "应为 ", ", found ", "，实际为 ", "Unexpected ", "意外的 ",
		"Unterminated string.", "字符串没有结束引号", "Name ", "名称 ", "Int ", "整数 ", "String ", "字符串 ")
	return r.Replace(msg)
}
