package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthcode"
	"healthcode/demo"
	"healthcode/graph/apitest"
)

// Every GraphQL example of README.md and docs/*.md runs: the fenced
// ```graphql blocks (one or more operations each, with `# variables: {…}`
// comments) and the curl commands of ```sh blocks that post to /graphql.
// They run in the order of the documents (README.md, then docs/ by name)
// against a real HTTP server over a demo province (demo.SeedAccounts, a 300-person
// demo.Activity of a week) on the clock of the examples' dates (2026-11-27
// 10:00),
// and each must answer without errors, so the documents cannot drift from
// the API.
//
// An HTML comment on the line above a block says how to run it:
//
//	<!-- doctest setup=NAME as=WHO[,WHO…] bind=LITERAL:SOURCE[,…] -->
//	<!-- doctest skip: why the block cannot run -->
//
// WHO is the caller of each operation in turn (the last one goes on):
// `anonymous`, a demo account (logged in with the demo password),
// `user/password`, or `@field.path`, a token an earlier answer gave
// (`@loginResident.token`, `@createApiKey.key`); without the comment the
// caller is `admin`. A curl command is anonymous unless it sends
// `Authorization: Bearer $TOKEN`, the caller's token.
// bind replaces the quoted LITERAL of the example ("7") by SOURCE:
// `field.path` of an earlier answer (`fileAppeal.id`), or `sms(PHONE)`, the
// code of the last text message to PHONE (delivered as the worker would).
// setup names one of docSetups: the state the text around a block assumes
// (made through the API before the block runs), with the ids it binds.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	docs := []string{"../README.md"}
	more, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(more)
	docs = append(docs, more...)
	var examples []docExample
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := parseDocExamples(filepath.Base(path), string(b))
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, ex...)
	}
	if len(examples) < 10 {
		t.Fatalf("found %d examples in %v, want the documents' examples", len(examples), docs)
	}

	b := apitest.Setup(t, apitest.Options{Dev: true})
	ctx := context.Background()
	b.Clock.Set(time.Date(2026, 11, 27, 10, 0, 0, 0, healthcode.CST))
	if err := demo.SeedAccounts(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	if err := b.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := (&demo.Activity{DB: b.DB, Ring: b.Credentials.Ring, Persons: 300, Days: 7}).Generate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler)
	defer srv.Close()
	r := &docRunner{t: t, b: b, url: srv.URL, tokens: map[string]string{}, answers: map[string]any{}}
	skipped := 0
	for _, ex := range examples {
		if ex.skip != "" {
			skipped++
			t.Logf("%s: skipped: %s", ex.where, ex.skip)
			continue
		}
		r.run(ex)
	}
	if skipped > 1 {
		t.Errorf("%d examples are marked as not runnable; keep that set tiny", skipped)
	}
}

// docExample is one fenced block: its operations, in order, and the
// answer the document shows right after it (a ```json block), if any.
type docExample struct {
	where  string // file:line of the fence
	ops    []docOp
	as     []string
	binds  [][2]string // literal, source
	setup  string
	skip   string
	answer string
}

// docOp is one operation: a GraphQL document with its variables, or a curl
// command's body and bearer token variable.
type docOp struct {
	query  string
	vars   map[string]any
	curl   bool // a curl command: anonymous unless it sends a bearer token
	bearer bool // a curl command that sends Authorization: Bearer $TOKEN
}

var (
	fenceRE   = regexp.MustCompile("^```(\\w*)\\s*$")
	doctestRE = regexp.MustCompile(`^<!--\s*doctest\s+(.*?)\s*-->\s*$`)
)

// parseDocExamples finds the GraphQL examples of a Markdown document.
func parseDocExamples(name, text string) ([]docExample, error) {
	lines := strings.Split(text, "\n")
	var out []docExample
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		start := i
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		body := strings.Join(lines[i+1:j], "\n")
		i = j
		ex := docExample{where: fmt.Sprintf("%s:%d", name, start+1)}
		var err error
		switch m[1] {
		case "graphql":
			ex.ops, err = parseGraphQLBlock(body)
		case "sh", "bash", "shell", "":
			ex.ops, err = parseCurlGraphQL(body)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ex.where, err)
		}
		if len(ex.ops) == 0 {
			if m[1] == "graphql" {
				return nil, fmt.Errorf("%s: a graphql block without an operation", ex.where)
			}
			continue
		}
		k := j + 1
		for k < len(lines) && strings.TrimSpace(lines[k]) == "" {
			k++
		}
		if k < len(lines) && strings.TrimSpace(lines[k]) == "```json" {
			e := k + 1
			for e < len(lines) && strings.TrimSpace(lines[e]) != "```" {
				e++
			}
			ex.answer = strings.Join(lines[k+1:e], "\n")
		}
		if start > 0 {
			if d := doctestRE.FindStringSubmatch(strings.TrimSpace(lines[start-1])); d != nil {
				if err := ex.annotate(d[1]); err != nil {
					return nil, fmt.Errorf("%s: %w", ex.where, err)
				}
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

func (ex *docExample) annotate(s string) error {
	if why, ok := strings.CutPrefix(s, "skip:"); ok {
		ex.skip = strings.TrimSpace(why)
		if ex.skip == "" {
			return fmt.Errorf("doctest skip without a reason")
		}
		return nil
	}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "as":
			ex.as = strings.Split(v, ",")
		case "setup":
			if docSetups[v] == nil {
				return fmt.Errorf("doctest setup %q: not in docSetups", v)
			}
			ex.setup = v
		case "bind":
			for _, p := range strings.Split(v, ",") {
				lit, src, ok := strings.Cut(p, ":")
				if !ok {
					return fmt.Errorf("doctest bind %q: want LITERAL:SOURCE", p)
				}
				ex.binds = append(ex.binds, [2]string{lit, src})
			}
		default:
			return fmt.Errorf("doctest: unknown %q", f)
		}
	}
	return nil
}

// parseGraphQLBlock splits a block into its operations; a `# variables:`
// comment (continued on the following comment lines) gives the variables of
// the operation before it. Other comments are dropped.
func parseGraphQLBlock(body string) ([]docOp, error) {
	var ops []docOp
	var cur strings.Builder
	depth := 0
	var vars *strings.Builder
	flushVars := func() error {
		if vars == nil {
			return nil
		}
		if len(ops) == 0 {
			return fmt.Errorf("variables before any operation")
		}
		if err := json.Unmarshal([]byte(vars.String()), &ops[len(ops)-1].vars); err != nil {
			return fmt.Errorf("variables %s: %w", vars.String(), err)
		}
		vars = nil
		return nil
	}
	for _, line := range strings.Split(body, "\n") {
		code, comment := splitComment(line)
		if vars != nil && strings.TrimSpace(code) == "" && comment != "" {
			vars.WriteString(comment)
			continue
		}
		if err := flushVars(); err != nil {
			return nil, err
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(comment), "variables:"); ok && strings.TrimSpace(code) == "" {
			vars = &strings.Builder{}
			vars.WriteString(v)
			continue
		}
		for _, r := range code {
			if depth == 0 && strings.TrimSpace(cur.String()) == "" && r != ' ' && r != '\t' {
				cur.Reset()
			}
			cur.WriteRune(r)
			switch r {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					ops = append(ops, docOp{query: strings.TrimSpace(cur.String())})
					cur.Reset()
				}
			}
		}
		cur.WriteRune('\n')
	}
	if err := flushVars(); err != nil {
		return nil, err
	}
	if depth != 0 || strings.TrimSpace(cur.String()) != "" {
		return nil, fmt.Errorf("unbalanced operation: %q", cur.String())
	}
	return ops, nil
}

// splitComment splits a line at a # outside a string.
func splitComment(line string) (code, comment string) {
	in := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && in:
			i++
		case c == '"':
			in = !in
		case c == '#' && !in:
			return line[:i], line[i+1:]
		}
	}
	return line, ""
}

// parseCurlGraphQL finds the curl commands of a shell block that post a
// query to /graphql.
func parseCurlGraphQL(body string) ([]docOp, error) {
	joined := strings.ReplaceAll(body, "\\\n", " ")
	var ops []docOp
	for _, cmd := range strings.Split(joined, "\n") {
		for {
			k := strings.Index(cmd, "curl ")
			if k < 0 {
				break
			}
			words, rest := shellWords(cmd[k+5:])
			cmd = rest
			var url, data string
			bearer := false
			for i := 0; i < len(words); i++ {
				switch w := words[i]; {
				case (w == "-d" || w == "--data") && i+1 < len(words):
					data = words[i+1]
					i++
				case w == "-H" && i+1 < len(words):
					if strings.HasPrefix(words[i+1], "Authorization: Bearer $TOKEN") {
						bearer = true
					}
					i++
				case !strings.HasPrefix(w, "-") && url == "":
					url = w
				}
			}
			if !strings.Contains(url, "/graphql") || data == "" {
				continue
			}
			var req struct {
				Query     string         `json:"query"`
				Variables map[string]any `json:"variables"`
			}
			if err := json.Unmarshal([]byte(data), &req); err != nil {
				return nil, fmt.Errorf("curl body %s: %w", data, err)
			}
			ops = append(ops, docOp{query: req.Query, vars: req.Variables, curl: true, bearer: bearer})
		}
	}
	return ops, nil
}

// shellWords splits the start of a command line into words (single and
// double quotes), up to a pipe, a closing parenthesis or a semicolon.
func shellWords(s string) (words []string, rest string) {
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				w.WriteByte(s[i])
			}
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '|' || c == ')' || c == ';':
			if inWord {
				words = append(words, w.String())
			}
			return words, s[i+1:]
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, ""
}

// docRunner runs the examples in order, keeping the sessions it opened and
// the answers (by root field) for later examples.
type docRunner struct {
	t       *testing.T
	b       *apitest.Bundle
	url     string
	tokens  map[string]string
	answers map[string]any
}

func (r *docRunner) run(ex docExample) {
	t := r.t
	if ex.setup != "" {
		binds, err := docSetups[ex.setup](r)
		if err != nil {
			t.Errorf("%s: setup %s: %v", ex.where, ex.setup, err)
			return
		}
		for lit, v := range binds {
			r.answers["setup:"+lit] = v
			ex.binds = append(ex.binds, [2]string{lit, "setup:" + lit})
		}
	}
	var answers []map[string]any
	defer func() { r.compare(ex, answers) }()
	for i, op := range ex.ops {
		who := "admin"
		if len(ex.as) > 0 {
			who = ex.as[min(i, len(ex.as)-1)]
		}
		if op.curl && !op.bearer {
			who = "anonymous"
		}
		query := op.query
		for _, bd := range ex.binds {
			if !strings.Contains(query, `"`+bd[0]+`"`) {
				continue
			}
			v, ok := r.source(bd[1])
			if !ok {
				t.Errorf("%s: operation %d: bind %s: no %s yet", ex.where, i+1, bd[0], bd[1])
				return
			}
			query = strings.ReplaceAll(query, `"`+bd[0]+`"`, strconv.Quote(v))
		}
		token, ok := r.token(who)
		if !ok {
			t.Errorf("%s: operation %d: no session for %s", ex.where, i+1, who)
			return
		}
		resp := r.post(query, op.vars, token)
		if len(resp.Errors) > 0 || resp.Data == nil {
			t.Errorf("%s: operation %d as %s:\n%s\nanswers %s", ex.where, i+1, who, query, resp.raw)
			continue
		}
		for k, v := range resp.Data {
			r.answers[k] = v
		}
		answers = append(answers, resp.Data)
	}
}

// compare holds the answers of a block to the answer its document shows:
// every field shown must be there (the first element of a list stands for
// all), and the values of enums shown (ACCEPTED, RED, ADMIN…) must be the
// same. Other values (ids, tokens, times, scores) are examples.
func (r *docRunner) compare(ex docExample, answers []map[string]any) {
	if ex.answer == "" || len(answers) == 0 {
		return
	}
	var shown struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(withoutEllipses(ex.answer)), &shown); err != nil {
		r.t.Errorf("%s: the answer shown is not JSON: %v\n%s", ex.where, err, ex.answer)
		return
	}
	for field, want := range shown.Data {
		var got any
		found := false
		for _, a := range answers {
			if v, ok := a[field]; ok {
				got, found = v, true
				break
			}
		}
		if !found {
			r.t.Errorf("%s: the answer shown has %s, the operations answer %v", ex.where, field, answers)
			continue
		}
		for _, d := range sameShape(field, want, got) {
			r.t.Errorf("%s: the answer shown differs: %s", ex.where, d)
		}
	}
}

var enumRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// sameShape lists where got lacks what want shows.
func sameShape(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown an object, answered %v", path, got)}
		}
		var out []string
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: shown, not answered", path, k))
				continue
			}
			out = append(out, sameShape(path+"."+k, v, gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown a list, answered %v", path, got)}
		}
		if len(w) > 0 && len(g) > 0 {
			return sameShape(path+"[0]", w[0], g[0])
		}
	case string:
		if enumRE.MatchString(w) && got != w {
			return []string{fmt.Sprintf("%s: shown %s, answered %v", path, w, got)}
		}
	}
	return nil
}

// withoutEllipses drops the … that stand for more elements (outside
// strings), with their comma.
func withoutEllipses(s string) string {
	var b strings.Builder
	in := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case in && c == '\\':
			b.WriteRune(c)
			i++
			if i < len(rs) {
				b.WriteRune(rs[i])
			}
			continue
		case c == '"':
			in = !in
		case !in && c == '…':
			out := strings.TrimRight(b.String(), " \n")
			out = strings.TrimSuffix(out, ",")
			b.Reset()
			b.WriteString(out)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

type docResponse struct {
	Data   map[string]any    `json:"data"`
	Errors []json.RawMessage `json:"errors"`
	raw    []byte
}

func (r *docRunner) post(query string, vars map[string]any, token string) *docResponse {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, r.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &docResponse{raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		out.Errors = []json.RawMessage{raw}
	}
	return out
}

// docSetups make the state that the text around a block assumes, through
// the API, and return the ids to bind ({literal: id}). Keep them few.
var docSetups = map[string]func(r *docRunner) (map[string]string, error){
	// A complaint about 雁塔区 dispatched to its unit, for the handler to
	// return; 碑林区, where the matter really lies, has a unit too.
	"returnable-ticket": func(r *docRunner) (map[string]string, error) {
		var id string
		steps := []struct{ who, query string }{
			{"admin", `mutation { createHandlingUnit(region: "610103", name: "碑林区卫生健康局12320承办组") { id } }`},
			{"operator", `mutation { createTicket(input: { kind: COMPLAINT, callerPhone: "13700137000", subject: "超市未查验健康码",
				description: "来电人反映某超市入口无人查验健康码。", place: "610113001001" }) { id } }`},
			{"operator", `mutation { dispatchTicket(id: "TICKET") { state } }`},
		}
		for _, st := range steps {
			tok, ok := r.token(st.who)
			if !ok {
				return nil, fmt.Errorf("no session for %s", st.who)
			}
			resp := r.post(strings.ReplaceAll(st.query, "TICKET", id), nil, tok)
			if len(resp.Errors) > 0 {
				return nil, fmt.Errorf("%s: %s", st.query, resp.raw)
			}
			if t, ok := resp.Data["createTicket"].(map[string]any); ok {
				id, _ = t["id"].(string)
			}
		}
		return map[string]string{"8": id}, nil
	},
}

// token returns the bearer token of who ("" for anonymous).
func (r *docRunner) token(who string) (string, bool) {
	switch {
	case who == "anonymous":
		return "", true
	case strings.HasPrefix(who, "@"):
		return r.source(who[1:])
	}
	if tok, ok := r.tokens[who]; ok {
		return tok, true
	}
	user, password, ok := strings.Cut(who, "/")
	if !ok {
		password = demo.Password
	}
	resp := r.post(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": user, "p": password}, "")
	login, _ := resp.Data["login"].(map[string]any)
	tok, _ := login["token"].(string)
	if tok == "" {
		r.t.Logf("login as %s: %s", user, resp.raw)
		return "", false
	}
	r.tokens[who] = tok
	return tok, true
}

var smsCodeRE = regexp.MustCompile(`\d{6}`)

// source resolves a bind or caller source: a field path of an earlier
// answer, or sms(PHONE).
func (r *docRunner) source(src string) (string, bool) {
	if phone, ok := strings.CutPrefix(src, "sms("); ok {
		phone = strings.TrimSuffix(phone, ")")
		r.b.DeliverSMS(r.t)
		msgs, err := r.b.DB.DevMessages(context.Background(), phone)
		if err != nil || len(msgs) == 0 {
			return "", false
		}
		code := smsCodeRE.FindString(msgs[0].Body)
		return code, code != ""
	}
	var v any = r.answers
	for _, p := range strings.Split(src, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok && s != ""
}
