// Package web holds the platform's browser front end, embedded in the binary.
//
// dist/app/ is the Vite build of the Vue application (see docs/web.md): three
// entries, the resident pages at "/", the checkpoint scanner at "/scan" and
// the staff console at "/console", each a single-page application whose
// routes fall back to the entry's index.html (history mode). Files under
// /assets/ carry a content hash in their names and are cached for a year;
// HTML is revalidated on every load. dist/app/ is build output (not
// committed): `make build` runs web/build.sh before `go build`. A binary
// built without Node.js embeds no application and answers every page with
// static/nobuild.html, which says how to build the front end.
//
// static/ holds what is served beside the application: the offline GraphiQL
// of dev mode (static/graphiql/: init.js is committed, the React, ReactDOM
// and GraphiQL bundles are copied there by graphiql/build.sh), the fallback
// console used while they are missing (static/console.js, see
// graph.LocalPlayground), the 404 page and the no-build page.
package web

import (
	"bytes"
	"compress/gzip"
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

// dist holds dist/README.md (committed) and, once built, dist/app/. "all:"
// keeps the files whose names start with "_" or "." that bundlers emit.
//
//go:embed all:dist
var dist embed.FS

// FS returns the embedded static files rooted at static/, so that
// "graphiql/init.js" is the file served at /graphiql/init.js.
// graph.LocalPlayground uses it to see whether the GraphiQL bundles were
// built; any caller may use it.
func FS() fs.FS {
	return sub(static, "static")
}

// AppFS returns the built application rooted at dist/app/ ("index.html",
// "assets/…"); it is empty when the binary was built without the front end.
// Any caller may use it.
func AppFS() fs.FS {
	if _, err := fs.Stat(dist, "dist/app"); err != nil {
		return emptyFS{}
	}
	return sub(dist, "dist/app")
}

// Built reports whether the binary embeds the built application. Any caller
// may use it (the dev banner says how to build it when it does not).
func Built() bool { return defaultSite.built }

func sub(f fs.FS, dir string) fs.FS {
	root, err := fs.Sub(f, dir)
	if err != nil {
		panic("web: embedded dir " + dir + " missing: " + err.Error())
	}
	return root
}

type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Cache lifetimes: hashed assets never change under their name; other files
// (favicon, GraphiQL bundles) may change with a new binary.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheHour      = "public, max-age=3600"
	cacheRevalid   = "no-cache"
)

// Special pages of static/.
const (
	notFoundPage = "/404.html"
	noBuildPage  = "/nobuild.html"
)

// entries are the single-page applications by URL prefix, most specific
// first; "/" is the resident entry.
var entries = []struct{ prefix, index string }{
	{"/scan", "/scan/index.html"},
	{"/console", "/console/index.html"},
	{"/", "/index.html"},
}

// asset is one embedded file, read (and, for text, gzipped) once at start-up.
type asset struct {
	body        []byte
	gz          []byte // nil when compression does not pay
	etag        string
	contentType string
	cache       string
}

// site is what Handler serves: the application's files and the static ones.
type site struct {
	files map[string]*asset // request path → file; application files win
	built bool
}

var defaultSite = newSite(AppFS(), FS())

func newSite(app, stat fs.FS) *site {
	s := &site{files: map[string]*asset{}}
	load := func(root fs.FS, isApp bool) {
		if _, err := fs.Stat(root, "."); err != nil {
			return // no application built
		}
		err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != "." && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir // the build's manifest (.vite/), not for browsers
				}
				return nil
			}
			key := "/" + p
			if _, taken := s.files[key]; taken {
				return nil
			}
			body, err := fs.ReadFile(root, p)
			if err != nil {
				return err
			}
			a := newAsset(p, body)
			if isApp && strings.HasPrefix(key, "/assets/") {
				a.cache = cacheImmutable
			}
			s.files[key] = a
			if isApp && key == "/index.html" {
				s.built = true
			}
			return nil
		})
		if err != nil {
			panic("web: read embedded files: " + err.Error())
		}
	}
	load(app, true)
	load(stat, false)
	return s
}

func newAsset(p string, body []byte) *asset {
	sum := sha256.Sum256(body)
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	a := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct, cache: cacheHour}
	if strings.HasPrefix(ct, "text/html") {
		a.cache = cacheRevalid
	}
	if compressible(ct) && len(body) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.gz = buf.Bytes()
		}
	}
	return a
}

func compressible(ct string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

// Has reports whether a GET of p (a request path such as "/", "/scan/x" or
// "/assets/app.js") is answered by Handler with a page or a file rather than
// 404. Any caller may use it, e.g. to label metrics.
func Has(p string) bool {
	a, _ := defaultSite.lookup(p)
	return a != nil
}

// lookup returns the file that answers request path p, or nil, and whether
// it is an entry's page served for a route (history fallback).
func (s *site) lookup(p string) (*asset, bool) {
	p = path.Clean("/" + p)
	if p == notFoundPage || p == noBuildPage {
		return nil, false
	}
	if a, ok := s.files[p]; ok {
		return a, false
	}
	if a, ok := s.files[p+"/index.html"]; ok && p != "/" {
		return a, true
	}
	// A missing file (anything with an extension, or under /assets/) is a 404;
	// any other path is a route of one of the applications.
	if path.Ext(p) != "" || strings.HasPrefix(p, "/assets/") {
		return nil, false
	}
	if !s.built {
		return s.files[noBuildPage], true
	}
	for _, e := range entries {
		if p == e.prefix || strings.HasPrefix(p, strings.TrimSuffix(e.prefix, "/")+"/") {
			if a, ok := s.files[e.index]; ok {
				return a, true
			}
		}
	}
	return nil, false
}

// Handler serves the embedded front end: the built application with history
// fallback per entry (/scan/…, /console/…, anything else to the resident
// pages), its hashed assets cached for a year, HTML revalidated on every
// load (Cache-Control: no-cache with an ETag), other files cached for an
// hour; gzip where the client accepts it. Missing files answer 404 with a
// Chinese page, methods other than GET and HEAD 405. Without a built
// application every page is static/nobuild.html. The server mounts it at
// "/"; any caller may use it.
func Handler() http.Handler { return defaultSite }

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "方法不允许", http.StatusMethodNotAllowed)
		return
	}
	a, _ := s.lookup(r.URL.Path)
	if a == nil {
		s.notFound(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if a.gz != nil && acceptsGzip(r) {
		body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func (s *site) notFound(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cacheRevalid)
	w.WriteHeader(http.StatusNotFound)
	if a, ok := s.files[notFoundPage]; ok {
		_, _ = w.Write(a.body)
	}
}
