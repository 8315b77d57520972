package graph

// The schema in schema/*.graphqls is the source; gqlgen writes generated/ and
// model/ and keeps the resolver files in step (gqlgen.yml at the module root).
//go:generate sh -c "cd .. && go tool gqlgen generate"
