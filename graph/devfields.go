package graph

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// withoutDevFields returns the schema with every field marked @dev removed,
// so outside dev mode those fields do not exist: a query naming one fails
// validation like any unknown field.
func withoutDevFields(es graphql.ExecutableSchema) graphql.ExecutableSchema {
	src := es.Schema()
	s := *src
	s.Types = make(map[string]*ast.Definition, len(src.Types))
	for name, def := range src.Types {
		d := *def
		d.Fields = nil
		for _, f := range def.Fields {
			if f.Directives.ForName("dev") == nil {
				d.Fields = append(d.Fields, f)
			}
		}
		s.Types[name] = &d
	}
	for _, root := range []**ast.Definition{&s.Query, &s.Mutation, &s.Subscription} {
		if *root != nil {
			*root = s.Types[(*root).Name]
		}
	}
	return filteredSchema{ExecutableSchema: es, schema: &s}
}

type filteredSchema struct {
	graphql.ExecutableSchema
	schema *ast.Schema
}

func (f filteredSchema) Schema() *ast.Schema { return f.schema }
