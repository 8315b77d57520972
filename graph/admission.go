package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"healthcode"
)

// OperationClasses is the admission class of each root field
// ("Query.myCode", "Mutation.login"); a root field not listed is
// healthcode.ClassNormal. An operation takes the class of its least
// important root field, so an essential operation cannot carry a ranking
// past admission control. TestOperationClassesNameSchemaFields keeps the
// names true to the schema. docs/operations.md ("Overload") gives the
// reasons.
var OperationClasses = map[string]healthcode.WorkClass{
	// The code page and what a checkpoint does: never refused while
	// anything else can be.
	"Query.me":                healthcode.ClassEssential,
	"Query.myCode":            healthcode.ClassEssential,
	"Query.myCredential":      healthcode.ClassEssential,
	"Query.myDependents":      healthcode.ClassEssential,
	"Query.verifyCode":        healthcode.ClassEssential,
	"Mutation.recordScans":    healthcode.ClassEssential,
	"Mutation.checkIn":        healthcode.ClassEssential,
	"Mutation.logout":         healthcode.ClassEssential,
	"Mutation.login":          healthcode.ClassLogin,
	"Mutation.loginResident":  healthcode.ClassLogin,
	"Mutation.requestSmsCode": healthcode.ClassLogin,

	// Rankings, histories, exports, reports and aggregates: they can wait.
	"Query.rankings":                 healthcode.ClassNonEssential,
	"Query.ranking":                  healthcode.ClassNonEssential,
	"Query.rankingReports":           healthcode.ClassNonEssential,
	"Mutation.generateRankingReport": healthcode.ClassNonEssential,
	"Query.codeHistory":              healthcode.ClassNonEssential,
	"Query.myFacts":                  healthcode.ClassNonEssential,
	"Query.auditLog":                 healthcode.ClassNonEssential,
	"Query.scans":                    healthcode.ClassNonEssential,
	"Query.indicatorSeries":          healthcode.ClassNonEssential,
	"Query.deviations":               healthcode.ClassNonEssential,
	"Query.deviationSummary":         healthcode.ClassNonEssential,
	"Query.unitStats":                healthcode.ClassNonEssential,
	"Query.venueStats":               healthcode.ClassNonEssential,
	"Query.nationalPushes":           healthcode.ClassNonEssential,
	"Query.weeklyReports":            healthcode.ClassNonEssential,
	"Mutation.generateWeeklyDrafts":  healthcode.ClassNonEssential,
	"Query.jointMeetingLists":        healthcode.ClassNonEssential,
	"Query.previewRuleSet":           healthcode.ClassNonEssential,
}

// classRank orders the classes from the most important (0).
func classRank(c healthcode.WorkClass) int { return slices.Index(healthcode.WorkClasses, c) }

// classCache remembers the class of a query text (and operation name), so
// that a request is parsed for admission once per distinct query.
var classCache = lru.New[healthcode.WorkClass](2000)

// OperationClass returns the admission class of the operation named
// operationName (or the only one) in query: that of its least important
// root field, ClassNormal for a query that does not parse, names no known
// operation, or selects only __typename. Any caller may use it; it returns
// no error.
func OperationClass(query, operationName string) healthcode.WorkClass {
	key := operationName + "\x00" + query
	if c, ok := classCache.Get(context.Background(), key); ok {
		return c
	}
	c := operationClass(query, operationName)
	classCache.Add(context.Background(), key, c)
	return c
}

func operationClass(query, operationName string) healthcode.WorkClass {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return healthcode.ClassNormal
	}
	var op *ast.OperationDefinition
	switch {
	case operationName != "":
		op = doc.Operations.ForName(operationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil {
		return healthcode.ClassNormal
	}
	typ := "Query"
	switch op.Operation {
	case ast.Mutation:
		typ = "Mutation"
	case ast.Subscription:
		typ = "Subscription"
	}
	class := healthcode.WorkClass("")
	var visit func(set ast.SelectionSet, depth int)
	visit = func(set ast.SelectionSet, depth int) {
		if depth > 8 { // fragment cycles are refused later by validation
			return
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if strings.HasPrefix(s.Name, "__") {
					continue
				}
				c, ok := OperationClasses[typ+"."+s.Name]
				if !ok {
					c = healthcode.ClassNormal
				}
				if class == "" || classRank(c) > classRank(class) {
					class = c
				}
			case *ast.InlineFragment:
				visit(s.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				if f := doc.Fragments.ForName(s.Name); f != nil {
					visit(f.SelectionSet, depth+1)
				}
			}
		}
	}
	visit(op.SelectionSet, 0)
	if class == "" {
		return healthcode.ClassNormal
	}
	return class
}

// gqlParams are the parts of a GraphQL request that admission reads.
type gqlParams struct {
	Query         string `json:"query"`
	OperationName string `json:"operationName"`
	Extensions    struct {
		PersistedQuery struct {
			Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	} `json:"extensions"`
}

// RequestClass returns the admission class of a GraphQL HTTP request (POST
// with a JSON body, or GET with query parameters) by OperationClass. It
// reads the body and puts it back for the handler. A persisted query sent by
// its hash alone takes the class its text had when it was last sent with
// it (and the hash matched the text), ClassNormal if unknown. The API server's admission control calls it
// for /graphql; it returns no error.
func RequestClass(r *http.Request) healthcode.WorkClass {
	var p gqlParams
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if ext := q.Get("extensions"); ext != "" {
			_ = json.Unmarshal([]byte(ext), &p.Extensions)
		}
	case http.MethodPost:
		if r.Body == nil || r.Body == http.NoBody {
			return healthcode.ClassNormal
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		rest := io.Reader(bytes.NewReader(body))
		if err != nil {
			rest = io.MultiReader(rest, errReader{err}) // the handler sees the same failure
		}
		r.Body = io.NopCloser(rest)
		if err != nil {
			return healthcode.ClassNormal
		}
		// The phone's requests repeat the same small body (no variables):
		// its class is remembered by the body, without decoding it again.
		if len(body) <= maxClassBody {
			if c, ok := bodyClassCache.Get(context.Background(), string(body)); ok {
				return c
			}
		}
		if json.Unmarshal(body, &p) != nil {
			return healthcode.ClassNormal
		}
		if p.Query != "" && p.Extensions.PersistedQuery.Hash == "" && len(body) <= maxClassBody {
			c := requestClass(p)
			bodyClassCache.Add(context.Background(), string(body), c)
			return c
		}
	default:
		return healthcode.ClassNormal
	}
	return requestClass(p)
}

// bodyClassCache remembers the class of a request body that holds a query
// text and no persisted-query hash (its class depends on nothing else; a
// body with a hash teaches classCache the hash's class each time it comes),
// up to maxClassBody bytes.
var bodyClassCache = lru.New[healthcode.WorkClass](1000)

const maxClassBody = 4 << 10

// requestClass is the class of decoded request parameters.
func requestClass(p gqlParams) healthcode.WorkClass {
	hash := p.Extensions.PersistedQuery.Hash
	if p.Query == "" {
		if c, ok := classCache.Get(context.Background(), "sha256:"+hash+"\x00"+p.OperationName); hash != "" && ok {
			return c
		}
		return healthcode.ClassNormal
	}
	c := OperationClass(p.Query, p.OperationName)
	if hash != "" && hash == fmt.Sprintf("%x", sha256.Sum256([]byte(p.Query))) {
		classCache.Add(context.Background(), "sha256:"+hash+"\x00"+p.OperationName, c)
	}
	return c
}

// errReader returns err on every read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
