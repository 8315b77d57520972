package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcode"
	"healthcode/graph/generated"
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

// setComplexity makes every paginated list cost its page size times the
// cost of its selection, so that one query cannot ask for unbounded work.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Regions = func(child int, _ *string, first *int, _ *string) int { return listCost(child, first) }
	c.Query.Staff = func(child int, first *int, _ *string) int { return listCost(child, first) }
	c.Query.AuditLog = func(child int, first *int, _, _, _, _, _, _ *string, _, _ *time.Time) int {
		return listCost(child, first)
	}
	c.Query.Persons = func(child int, _ *string, first *int, _ *string) int { return listCost(child, first) }
	c.Query.Scans = func(child int, _ *int64, _, _ *time.Time, first *int, _ *string) int { return listCost(child, first) }
}

func listCost(child int, first *int) int {
	n := DefaultFirst
	if first != nil && *first > 0 && *first <= MaxFirst {
		n = *first
	}
	return 1 + child*n
}
