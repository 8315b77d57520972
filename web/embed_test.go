package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// built is a site with a built application, as `make build` embeds it.
func built() *site {
	app := fstest.MapFS{
		"index.html":                {Data: []byte(`<!doctype html><title>居民</title><script type="module" src="/assets/resident-abc123.js"></script>`)},
		"scan/index.html":           {Data: []byte(`<!doctype html><title>扫码查验</title>`)},
		"console/index.html":        {Data: []byte(`<!doctype html><title>工作台</title>`)},
		"assets/resident-abc123.js": {Data: bytes.Repeat([]byte("console.log('健康码');\n"), 200)},
		"assets/_plugin-x1.js":      {Data: []byte("export{}")},
		"favicon.svg":               {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
	}
	return newSite(app, FS())
}

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestEntriesWithHistoryFallback(t *testing.T) {
	t.Parallel()
	s := built()
	for path, title := range map[string]string{
		"/": "居民", "/index.html": "居民", "/code": "居民", "/appeals/12": "居民", "/scanner": "居民",
		"/scan": "扫码查验", "/scan/": "扫码查验", "/scan/venue/3": "扫码查验",
		"/console": "工作台", "/console/tickets/9": "工作台",
	} {
		w := get(t, s, http.MethodGet, path, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<title>"+title+"</title>") {
			t.Errorf("GET %s = %d %q, want the %s page", path, w.Code, w.Body.String(), title)
			continue
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-cache" || w.Header().Get("ETag") == "" {
			t.Errorf("GET %s: Cache-Control %q, ETag %q", path, cc, w.Header().Get("ETag"))
		}
	}
}

func TestHashedAssetsCachedForAYear(t *testing.T) {
	t.Parallel()
	s := built()
	w := get(t, s, http.MethodGet, "/assets/resident-abc123.js", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET asset = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("asset Cache-Control = %q", cc)
	}
	if w := get(t, s, http.MethodGet, "/assets/_plugin-x1.js", nil); w.Code != http.StatusOK {
		t.Errorf("an asset whose name starts with _ = %d", w.Code)
	}
	if w := get(t, s, http.MethodGet, "/favicon.svg", nil); w.Header().Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("favicon Cache-Control = %q", w.Header().Get("Cache-Control"))
	}
	etag := w.Header().Get("ETag")
	if w := get(t, s, http.MethodGet, "/assets/resident-abc123.js", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", w.Code)
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	s := built()
	w := get(t, s, http.MethodGet, "/assets/resident-abc123.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("no gzip: %v", w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !bytes.HasPrefix(body, []byte("console.log('健康码');")) {
		t.Errorf("gunzipped body %q", body[:40])
	}
	if w := get(t, s, http.MethodGet, "/assets/resident-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); w.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip sent although refused")
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*site{"built": built(), "unbuilt": newSite(emptyFS{}, FS())} {
		for _, p := range []string{"/nope.js", "/assets/gone-123.js", "/assets/x", "/static/index.html", "/../go.mod", "/404.html", "/nobuild.html"} {
			w := get(t, s, http.MethodGet, p, nil)
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "页面不存在") {
				t.Errorf("%s: GET %s = %d", name, p, w.Code)
			}
		}
	}
}

// A binary built without Node.js serves a page that says how to build the
// front end, and still serves GraphiQL's files.
func TestUnbuiltSaysHowToBuild(t *testing.T) {
	t.Parallel()
	s := newSite(emptyFS{}, FS())
	for _, p := range []string{"/", "/scan", "/console/x"} {
		w := get(t, s, http.MethodGet, p, nil)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "make build") || !strings.Contains(body, "Node.js") || !strings.Contains(body, `href="/graphql"`) {
			t.Errorf("GET %s = %d %q", p, w.Code, body)
		}
	}
	if w := get(t, s, http.MethodGet, "/graphiql/init.js", nil); w.Code != http.StatusOK {
		t.Errorf("GET /graphiql/init.js = %d", w.Code)
	}
	if w := get(t, s, http.MethodGet, "/style.css", nil); w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("GET /style.css = %d", w.Code)
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	s := built()
	if w := get(t, s, http.MethodHead, "/", nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD / = %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := get(t, s, http.MethodPost, "/", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d", w.Code)
	}
}

func TestHas(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{"/": true, "/style.css": true, "/graphiql/init.js": true, "/code": true, "/404.html": false, "/x.js": false} {
		if got := Has(p); got != want {
			t.Errorf("Has(%q) = %v", p, got)
		}
	}
}
