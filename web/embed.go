// Package web holds the platform's browser front end, embedded in the binary.
// Until the front end is built it serves a placeholder page that describes the
// platform and, in dev mode, points to GraphiQL.
//
// static/graphiql/ holds the offline GraphiQL of dev mode: init.js is
// committed, the React, ReactDOM and GraphiQL bundles next to it are copied
// there by graphiql/build.sh (pinned in graphiql/package-lock.json) and are
// not committed. static/console.js is the fallback console used while they
// are missing (see graph.LocalPlayground).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file, read once at start-up.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// FS returns the embedded files rooted at static/, so that "graphiql/init.js"
// is the file served at /graphiql/init.js. graph.LocalPlayground uses it to
// see whether the GraphiQL bundles were built; any caller may use it.
func FS() fs.FS {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded static dir missing: " + err.Error())
	}
	return root
}

// assets maps a request path ("/index.html", "/style.css") to its file.
var assets = loadAssets()

func loadAssets() map[string]asset {
	m := make(map[string]asset)
	root := FS()
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		m["/"+p] = asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		panic("web: read embedded static dir: " + err.Error())
	}
	return m
}

// Has reports whether p (a request path such as "/" or "/style.css") names an
// embedded file. Any caller may use it, e.g. to label metrics.
func Has(p string) bool {
	ap := assetPath(p)
	_, ok := assets[ap]
	return ok && ap != notFoundPage
}

// notFoundPage is the page served with status 404.
const notFoundPage = "/404.html"

func assetPath(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	return path.Clean("/" + p)
}

// Handler serves the embedded front end: "/" is index.html, other paths name
// files under static/. HTML is revalidated on every load (Cache-Control:
// no-cache with an ETag); other assets are cacheable for an hour. Unknown
// paths answer 404 with a Chinese page, methods other than GET and HEAD 405.
// The server mounts it at "/"; any caller may use it.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "方法不允许", http.StatusMethodNotAllowed)
		return
	}
	ap := assetPath(r.URL.Path)
	a, ok := assets[ap]
	if !ok || ap == notFoundPage {
		notFound(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func notFound(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	if a, ok := assets[notFoundPage]; ok {
		_, _ = w.Write(a.body)
	}
}
