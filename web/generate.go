package web

// The typed GraphQL documents of the front end (src/api/generated/) follow the
// schema: `go generate ./...` (make generate, make lint) regenerates them with
// GraphQL Code Generator when Node.js is installed.
//go:generate bash build.sh generate
