package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

func TestIndex(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/", "/index.html"} {
		w := get(t, http.MethodGet, p, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, w.Code)
		}
		body := w.Body.String()
		for _, want := range []string{"<title>陕西健康码平台</title>", `href="/graphql"`, "12320", "申诉", "排名", `href="/style.css"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %s", p, want)
			}
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control = %q", cc)
		}
	}
}

func TestStyleCachedWithETag(t *testing.T) {
	t.Parallel()
	w := get(t, http.MethodGet, "/style.css", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("GET /style.css = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q", cc)
	}
	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if w := get(t, http.MethodGet, "/style.css", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", w.Code)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/nope", "/static/index.html", "/../go.mod", "/404.html", "/dir/"} {
		w := get(t, http.MethodGet, p, nil)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "页面不存在") {
			t.Errorf("GET %s = %d", p, w.Code)
		}
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	if w := get(t, http.MethodHead, "/", nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD / = %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := get(t, http.MethodPost, "/", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d", w.Code)
	}
}

func TestHas(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{"/": true, "/style.css": true, "/index.html": true, "/404.html": false, "/x": false} {
		if got := Has(p); got != want {
			t.Errorf("Has(%q) = %v", p, got)
		}
	}
}
