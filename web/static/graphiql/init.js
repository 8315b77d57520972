// Starts GraphiQL on the dev-mode page served by graph.LocalPlayground.
// Everything it needs comes from our own server (no inline scripts: the page
// runs under a same-origin Content-Security-Policy); the GraphQL endpoint is
// read from the data-endpoint attribute of #graphiql.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';

  // GraphiQL fills its container; styles set through the DOM are allowed by
  // the page's CSP, unlike a style element or attribute in the HTML.
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  root.style.height = '100vh';

  var headerHint = '{\n  "Authorization": "Bearer <paste token>"\n}';

  var defaultQuery = [
    '# 陕西健康码 GraphQL（开发模式）',
    '#',
    '# 1. 光标放在 Login 中，按 Ctrl-Enter 登录',
    '#    （演示账号 admin，密码 healthcode2020）',
    '# 2. 把返回的 token 填入下方 Headers 的',
    '#    <paste token> 处',
    '# 3. 光标放在 Cities 中，按 Ctrl-Enter，',
    '#    列出全省十个地级市',
    '',
    'mutation Login {',
    '  login(username: "admin", password: "healthcode2020") {',
    '    token',
    '  }',
    '}',
    '',
    'query Cities {',
    '  regions {',
    '    nodes {',
    '      code',
    '      name',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  // The header hint is sent only once it holds a real token: the server
  // answers 401 to any Authorization header it cannot verify, which would
  // also break logging in and loading the schema.
  function withoutPlaceholder(init) {
    var headers = new Headers((init && init.headers) || {});
    var auth = headers.get('Authorization');
    if (auth !== null && (/[<>]/.test(auth) || /^\s*(bearer)?\s*$/i.test(auth))) {
      headers.delete('Authorization');
    }
    return Object.assign({}, init, { headers: headers });
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    fetch: function (input, init) {
      return window.fetch(input, withoutPlaceholder(init));
    }
  });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: headerHint,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false
    })
  );
})();
