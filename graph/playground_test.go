package graph_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"healthcode/graph"
	"healthcode/web"
)

// builtAssets is a static root in which web/graphiql/build.sh has run.
func builtAssets() fstest.MapFS {
	return fstest.MapFS{
		"style.css":                            {Data: []byte("body{}")},
		"console.css":                          {Data: []byte("form{}")},
		"console.js":                           {Data: []byte("void 0")},
		"graphiql/init.js":                     {Data: []byte("void 0")},
		"graphiql/react.production.min.js":     {Data: []byte("void 1")},
		"graphiql/react-dom.production.min.js": {Data: []byte("void 2")},
		"graphiql/graphiql.min.js":             {Data: []byte("void 3")},
		"graphiql/graphiql.min.css":            {Data: []byte(".graphiql{}")},
	}
}

// unbuiltAssets is a fresh checkout: only the committed files.
func unbuiltAssets() fstest.MapFS {
	m := builtAssets()
	for _, name := range []string{"graphiql/react.production.min.js", "graphiql/react-dom.production.min.js",
		"graphiql/graphiql.min.js", "graphiql/graphiql.min.css"} {
		delete(m, name)
	}
	return m
}

func getPage(t *testing.T, h http.Handler, method string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/graphql", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var (
	urlAttr     = regexp.MustCompile(`(?i)\b(?:src|href|action|srcset|data)\s*=\s*"([^"]*)"`)
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	externalURL = regexp.MustCompile(`(?i)(?:https?:|wss?:|ftp:)?//[a-z0-9.-]+\.[a-z]{2,}|\bhttps?:|@import`)
)

// localRefs checks that page loads nothing from another origin: no absolute
// or protocol-relative URLs anywhere, no inline scripts or styles (the CSP
// forbids them), and every src and href a root-relative path. It returns
// those paths without their query.
func localRefs(t *testing.T, page string) []string {
	t.Helper()
	if m := externalURL.FindString(page); m != "" {
		t.Errorf("page names an external location %q", m)
	}
	for _, m := range scriptTag.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	if strings.Contains(page, "<style") || regexp.MustCompile(`\sstyle\s*=`).MatchString(page) {
		t.Error("page has inline styles")
	}
	if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(page) {
		t.Error("page has inline event handlers")
	}
	var refs []string
	for _, m := range urlAttr.FindAllStringSubmatch(page, -1) {
		u := m[1]
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.Contains(u, ":") {
			t.Errorf("reference %q is not a path on our server", u)
			continue
		}
		p, _, _ := strings.Cut(u, "?")
		refs = append(refs, p)
	}
	return refs
}

func TestLocalPlaygroundGraphiQL(t *testing.T) {
	t.Parallel()
	h := graph.LocalPlayground("陕西健康码 GraphQL", "/graphql", builtAssets())
	w := getPage(t, h, http.MethodGet)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, want := range []string{"<title>陕西健康码 GraphQL</title>", `id="graphiql"`, `data-endpoint="/graphql"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	refs := localRefs(t, body)
	want := []string{"/graphiql/graphiql.min.css", "/graphiql/react.production.min.js",
		"/graphiql/react-dom.production.min.js", "/graphiql/graphiql.min.js", "/graphiql/init.js"}
	if strings.Join(refs, " ") != strings.Join(want, " ") {
		t.Errorf("page loads %v, want %v in that order", refs, want)
	}
	if !strings.Contains(body, "/graphiql/graphiql.min.js?v=") {
		t.Error("asset URLs carry no version")
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q is too loose", csp)
	}
	if strings.Contains(body, "build.sh") {
		t.Error("GraphiQL page shows build instructions")
	}
}

func TestLocalPlaygroundConsoleWhenNotBuilt(t *testing.T) {
	t.Parallel()
	for name, assets := range map[string]fs.FS{"unbuilt": unbuiltAssets(), "nil": nil} {
		h := graph.LocalPlayground("陕西健康码 GraphQL", "/graphql", assets)
		w := getPage(t, h, http.MethodGet)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s: GET = %d %q", name, w.Code, w.Header().Get("Content-Type"))
		}
		body := w.Body.String()
		for _, want := range []string{"web/graphiql/build.sh", "GraphiQL 尚未构建", `id="console"`,
			`data-endpoint="/graphql"`, `<textarea id="query"`, `<textarea id="variables"`,
			`<input type="text" id="token"`, `<button type="submit" id="send"`, `id="result"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: console page lacks %s", name, want)
			}
		}
		refs := localRefs(t, body)
		want := []string{"/style.css", "/console.css", "/console.js"}
		if strings.Join(refs, " ") != strings.Join(want, " ") {
			t.Errorf("%s: page loads %v, want %v", name, refs, want)
		}
		if strings.Contains(body, "graphiql.min.js") {
			t.Errorf("%s: console page loads GraphiQL", name)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self';") {
			t.Errorf("%s: CSP = %q", name, csp)
		}
	}
}

func TestLocalPlaygroundEscapesAndMethods(t *testing.T) {
	t.Parallel()
	h := graph.LocalPlayground(`<b>"x"</b>`, `/graphql?a="b"&c=<d>`, builtAssets())
	body := getPage(t, h, http.MethodGet).Body.String()
	if strings.Contains(body, "<b>") || strings.Contains(body, `"b"&c=<d>`) {
		t.Errorf("title or endpoint not escaped:\n%s", body)
	}
	if w := getPage(t, h, http.MethodHead); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD = %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := getPage(t, h, http.MethodPost); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d", w.Code)
	}
}

// The page built from the real embedded files references only files that
// web.Handler serves, with script and style content types. Whether it is
// GraphiQL depends on whether web/graphiql/build.sh ran before the test.
func TestLocalPlaygroundEmbeddedAssets(t *testing.T) {
	t.Parallel()
	assets := web.FS()
	h := graph.LocalPlayground("陕西健康码 GraphQL", "/graphql", assets)
	body := getPage(t, h, http.MethodGet).Body.String()
	if strings.Contains(body, "build.sh") {
		t.Log("GraphiQL bundles not built: the console page is served (run web/graphiql/build.sh)")
	} else {
		t.Log("GraphiQL bundles built: the GraphiQL page is served")
	}
	static := web.Handler()
	for _, ref := range localRefs(t, body) {
		w := httptest.NewRecorder()
		static.ServeHTTP(w, httptest.NewRequest(http.MethodGet, ref+"?v=1", nil))
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code != http.StatusOK:
			t.Errorf("GET %s = %d", ref, w.Code)
		case strings.HasSuffix(ref, ".js") && !strings.HasPrefix(ct, "text/javascript"):
			t.Errorf("GET %s: Content-Type %q", ref, ct)
		case strings.HasSuffix(ref, ".css") && !strings.HasPrefix(ct, "text/css"):
			t.Errorf("GET %s: Content-Type %q", ref, ct)
		}
	}
	// Our own committed scripts and styles name no other origin either.
	for _, name := range []string{"graphiql/init.js", "console.js", "console.css"} {
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			t.Errorf("committed file %s missing: %v", name, err)
			continue
		}
		if m := externalURL.Find(b); m != nil {
			t.Errorf("%s names an external location %q", name, m)
		}
	}
}
