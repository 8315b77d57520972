package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
)

// GraphiQL files under the web front end's static root, served at "/"+path.
// init.js is committed; the other four are copied there by
// web/graphiql/build.sh.
const (
	graphiqlInit     = "graphiql/init.js"
	graphiqlReact    = "graphiql/react.production.min.js"
	graphiqlReactDOM = "graphiql/react-dom.production.min.js"
	graphiqlJS       = "graphiql/graphiql.min.js"
	graphiqlCSS      = "graphiql/graphiql.min.css"
	consoleJS        = "console.js"
	consoleCSS       = "console.css"
	styleCSS         = "style.css"
)

// Content-Security-Policy of the two pages. The server sends none with the
// playground, so the handler sets its own. Everything loads from our origin;
// GraphiQL needs inline styles (its editors and popovers set them) and data:
// fonts and images (embedded in graphiql.min.css), but no eval.
const (
	graphiqlCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
)

// LocalPlayground returns the dev-mode GraphQL page for endpoint, which works
// without internet access: unlike Playground it loads nothing from a CDN.
// assets is the web front end's static root (web.FS()); the page's scripts
// and styles are fetched from the same server, which serves that root at "/"
// (web.Handler()).
//
// When the GraphiQL bundles are in assets (web/graphiql/build.sh copies them
// to web/static/graphiql/ before go build), the page is GraphiQL, started by
// graphiql/init.js. Otherwise it explains how to build them and offers a
// plain form console (console.js) that posts queries to endpoint. Which page
// is served is decided once, here. The serve and dev commands pass it as
// server.Config.Playground in dev mode.
func LocalPlayground(title, endpoint string, assets fs.FS) http.Handler {
	data := struct {
		Title, Endpoint string
		URL             map[string]string
	}{Title: title, Endpoint: endpoint, URL: map[string]string{}}

	tmpl, csp := graphiqlPage, graphiqlCSP
	for _, name := range []string{graphiqlInit, graphiqlReact, graphiqlReactDOM, graphiqlJS, graphiqlCSS} {
		u, ok := assetURL(assets, name)
		if !ok {
			tmpl, csp = consolePage, consoleCSP
			break
		}
		data.URL[name] = u
	}
	if tmpl == consolePage {
		for _, name := range []string{styleCSS, consoleCSS, consoleJS} {
			data.URL[name], _ = assetURL(assets, name)
		}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		panic("graph: render playground page: " + err.Error()) // the templates are constants
	}
	body := buf.Bytes()

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "方法不允许", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// assetURL returns the root-relative URL of name with a version parameter
// derived from its content, so that browsers reload cached copies (the web
// handler lets them cache assets for an hour) after a rebuild. The web
// handler ignores the query. ok is false when assets lacks name.
func assetURL(assets fs.FS, name string) (u string, ok bool) {
	if assets == nil {
		return "/" + name, false
	}
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		return "/" + name, false
	}
	sum := sha256.Sum256(b)
	return "/" + name + "?v=" + hex.EncodeToString(sum[:6]), true
}

var graphiqlPage = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{index .URL "graphiql/graphiql.min.css"}}">
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}">正在加载 GraphiQL…</div>
<script src="{{index .URL "graphiql/react.production.min.js"}}"></script>
<script src="{{index .URL "graphiql/react-dom.production.min.js"}}"></script>
<script src="{{index .URL "graphiql/graphiql.min.js"}}"></script>
<script src="{{index .URL "graphiql/init.js"}}"></script>
</body>
</html>
`))

var consolePage = template.Must(template.New("console").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{index .URL "style.css"}}">
<link rel="stylesheet" href="{{index .URL "console.css"}}">
</head>
<body class="console">
<header>
  <h1>{{.Title}}</h1>
  <p class="lead">开发模式的 GraphQL 调试控制台（简易版）。</p>
</header>
<main>
  <section class="notice">
    <h2>GraphiQL 尚未构建</h2>
    <p>GraphiQL 的前端文件（React、GraphiQL）不随代码提交，需要在本机构建后才会嵌入程序。请在项目根目录执行：</p>
    <pre><code>web/graphiql/build.sh
go build -o bin/healthcode ./cmd/healthcode</code></pre>
    <p>（<code>make run</code> 与 <code>make test</code> 会自动执行这一步；构建需要 Node.js 和 npm。）重新启动后刷新本页即可使用完整的 GraphiQL。在此之前，可用下面的简易控制台调用接口 <code>{{.Endpoint}}</code>。</p>
  </section>
  <form id="console" data-endpoint="{{.Endpoint}}">
    <label for="query">查询（GraphQL）</label>
    <textarea id="query" name="query" spellcheck="false" autocomplete="off"></textarea>
    <div class="actions">
      <span>示例：</span>
      <button type="button" data-example="login">登录（admin）</button>
      <button type="button" data-example="cities">地级市列表</button>
    </div>
    <label for="variables">变量（JSON，可留空）</label>
    <textarea id="variables" name="variables" spellcheck="false" autocomplete="off" placeholder="{}"></textarea>
    <label for="token">令牌（登录后自动填入，作为 Authorization: Bearer 发送）</label>
    <input type="text" id="token" name="token" spellcheck="false" autocomplete="off" placeholder="&lt;paste token&gt;">
    <div class="actions">
      <button type="submit" id="send">发送（Ctrl-Enter）</button>
      <span id="status" role="status"></span>
    </div>
    <p class="result-label"><strong>结果</strong></p>
    <pre id="result" aria-live="polite"></pre>
  </form>
</main>
<script src="{{index .URL "console.js"}}"></script>
</body>
</html>
`))
