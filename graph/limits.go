package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcode"
)

// depthLimit refuses operations whose selections nest deeper than max.
// Introspection fields (__schema, __type) are not counted, so GraphiQL works.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); depth > d.max {
		err := gqlerror.Errorf("查询嵌套层数 %d 超过上限 %d", depth, d.max)
		err.Extensions = map[string]any{"code": healthcode.EINVALID}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int) int {
	if seen > 64 { // fragment cycles are refused by validation; stay safe anyway
		return seen
	}
	max := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			d = 1
			if len(s.SelectionSet) > 0 {
				d += selectionDepth(s.SelectionSet, frags, seen+1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, seen+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				d = selectionDepth(f.SelectionSet, frags, seen+1)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}

// FieldCosts are the costs of the fields that do real work, in the units
// of the complexity limit (a plain field costs 1): rendering a QR image,
// signing a credential, evaluating a code, checking or hashing a password
// (argon2id, 19 MiB). A field's cost is this plus its selection's.
var FieldCosts = map[string]int{
	"Credential.qrPng":             200,
	"Credential.qrSvg":             100,
	"Query.myCredential":           50,
	"Query.myCode":                 50,
	"Query.verifyCode":             50,
	"Query.previewRuleSet":         500,
	"Mutation.login":               500,
	"Mutation.loginResident":       50,
	"Mutation.requestSmsCode":      50,
	"Mutation.registerInstitution": 500,
	"Mutation.createInspector":     500,
	"Mutation.createStaff":         500,
	"Mutation.unmaskPerson":        50,
}

// AliasCaps bound how often one field may appear in one operation (its
// aliases, and its uses in fragments, counted together): once for the
// mutations that hash a password, send a message or reveal a person, a few
// times for the costly queries. Fields not listed are bounded by the
// complexity limit only.
var AliasCaps = map[string]int{
	"Mutation.login":                  1,
	"Mutation.loginResident":          1,
	"Mutation.requestSmsCode":         1,
	"Mutation.registerInstitution":    1,
	"Mutation.createInspector":        1,
	"Mutation.createStaff":            1,
	"Mutation.createApiKey":           1,
	"Mutation.createMachineClientKey": 1,
	"Mutation.unmaskPerson":           1,
	"Mutation.logout":                 1,
	"Mutation.generateRankingReport":  1,
	"Mutation.generateWeeklyDrafts":   1,
	"Query.previewRuleSet":            1,
	"Query.publicRegions":             3,
	"Query.myCode":                    3,
	"Query.myCredential":              3,
	"Query.verifyCode":                3,
	"Credential.qrPng":                3,
	"Credential.qrSvg":                3,
}

// aliasCap refuses operations that use a field more often than AliasCaps
// allows, with code INVALID, before anything runs.
type aliasCap struct{ caps map[string]int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = aliasCap{}

func (aliasCap) ExtensionName() string                   { return "AliasCap" }
func (aliasCap) Validate(graphql.ExecutableSchema) error { return nil }
func (c aliasCap) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	counts := map[string]int{}
	countFields(oc.Operation.SelectionSet, oc.Doc.Fragments, counts, 0)
	for field, n := range counts {
		if limit, ok := c.caps[field]; ok && n > limit {
			err := gqlerror.Errorf("字段 %s 在一次请求中出现 %d 次，超过上限 %d 次", field[strings.IndexByte(field, '.')+1:], n, limit)
			err.Extensions = map[string]any{"code": healthcode.EINVALID, "field": field, "limit": limit}
			return err
		}
	}
	return nil
}

// countFields counts the uses of each Type.field in set, through fragments.
func countFields(set ast.SelectionSet, frags ast.FragmentDefinitionList, counts map[string]int, depth int) {
	if depth > 64 {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil {
				counts[s.ObjectDefinition.Name+"."+s.Name]++
			}
			countFields(s.SelectionSet, frags, counts, depth+1)
		case *ast.InlineFragment:
			countFields(s.SelectionSet, frags, counts, depth+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				countFields(f.SelectionSet, frags, counts, depth+1)
			}
		}
	}
}

// withListCosts makes every paginated list field cost its page size times
// the cost of its selection, so that one query cannot ask for unbounded
// work. The rule is read from the schema, so every list with a `first` (or
// `last`) argument is covered, a new one included, without a line here: it
// costs that many items (DefaultFirst when not given) times its selection.
// A root list without pagination (institutions, colourRequests, apiKeys, …)
// is bounded by the caller's jurisdiction, not by a parent, and costs a
// default page (DefaultFirst items) likewise. Other fields keep gqlgen's
// cost (their selection plus one): a nested list's length is bounded by its
// parent (a ticket's steps, a staff member's grants).
func withListCosts(es graphql.ExecutableSchema) graphql.ExecutableSchema {
	return listCosts{ExecutableSchema: es}
}

type listCosts struct{ graphql.ExecutableSchema }

func (l listCosts) Complexity(ctx context.Context, typeName, fieldName string, child int, args map[string]any) (int, bool) {
	if cost, ok := FieldCosts[typeName+"."+fieldName]; ok {
		return cost + child, true
	}
	if def := l.Schema().Types[typeName]; def != nil {
		if field := def.Fields.ForName(fieldName); field != nil {
			for _, name := range []string{"first", "last"} {
				if field.Arguments.ForName(name) != nil {
					n := pageArg(args[name])
					return listCost(child, &n), true
				}
			}
			if typeName == "Query" && field.Type.Elem != nil {
				return listCost(child, nil), true
			}
		}
	}
	return l.ExecutableSchema.Complexity(ctx, typeName, fieldName, child, args)
}

// pageArg reads a page-size argument as the operation gives it (a literal
// or a variable, in any of the integer forms a decoder produces); 0 when
// absent or not an integer.
func pageArg(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

// listCost is the cost of a list of first items (DefaultFirst when nil, 0
// or beyond MaxFirst) with child the cost of one.
func listCost(child int, first *int) int {
	n := DefaultFirst
	if first != nil && *first > 0 && *first <= MaxFirst {
		n = *first
	}
	return 1 + child*n
}

// checkedOnce runs the limit checks of an operation (the complexity and
// depth limits) once per query text and operation name when the operation
// has no variables: the result depends on the document alone then, and the
// resident's hot operations (the code page) are sent without variables.
// Only operations that passed are remembered; a refused one is checked
// again (and refused again) every time.
type checkedOnce struct {
	checks []graphql.OperationContextMutator
	passed *lru.LRU[bool]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = checkedOnce{}

func (checkedOnce) ExtensionName() string { return "CheckedOnce" }
func (c checkedOnce) Validate(es graphql.ExecutableSchema) error {
	for _, m := range c.checks {
		if e, ok := m.(graphql.HandlerExtension); ok {
			if err := e.Validate(es); err != nil {
				return err
			}
		}
	}
	return nil
}
func (c checkedOnce) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	key := ""
	if len(oc.Variables) == 0 && oc.RawQuery != "" {
		key = oc.OperationName + "\x00" + oc.RawQuery
		if _, ok := c.passed.Get(ctx, key); ok {
			return nil
		}
	}
	for _, m := range c.checks {
		if err := m.MutateOperationContext(ctx, oc); err != nil {
			return err
		}
	}
	if key != "" {
		c.passed.Add(ctx, key, true)
	}
	return nil
}
