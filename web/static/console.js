// A minimal GraphQL console for dev mode, used by graph.LocalPlayground while
// the GraphiQL bundles are not built (see web/static/graphiql/README.md). It
// posts the query, the variables and an optional bearer token to the endpoint
// named by the data-endpoint attribute of #console and prints the JSON answer.
(function () {
  'use strict';

  var form = document.getElementById('console');
  var endpoint = form.getAttribute('data-endpoint') || '/graphql';
  var query = document.getElementById('query');
  var variables = document.getElementById('variables');
  var token = document.getElementById('token');
  var send = document.getElementById('send');
  var result = document.getElementById('result');
  var status = document.getElementById('status');

  var examples = {
    login: 'mutation Login {\n  login(username: "admin", password: "healthcode2020") {\n    token\n  }\n}\n',
    cities: 'query Cities {\n  regions {\n    nodes {\n      code\n      name\n    }\n  }\n}\n'
  };
  Array.prototype.forEach.call(document.querySelectorAll('[data-example]'), function (b) {
    b.addEventListener('click', function () {
      query.value = examples[b.getAttribute('data-example')] || '';
      query.focus();
    });
  });
  if (!query.value.trim()) {
    query.value = examples.login;
  }

  function show(text, isError) {
    result.textContent = text;
    result.className = isError ? 'error' : '';
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = { query: query.value };
    var vars = variables.value.trim();
    if (vars) {
      try {
        body.variables = JSON.parse(vars);
      } catch (e) {
        show('变量不是合法的 JSON：' + e.message, true);
        return;
      }
    }
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    var t = token.value.trim().replace(/^bearer\s+/i, '');
    if (t) {
      headers.Authorization = 'Bearer ' + t;
    }
    send.disabled = true;
    status.textContent = '请求中…';
    fetch(endpoint, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (resp) {
        return resp.text().then(function (text) {
          status.textContent = 'HTTP ' + resp.status;
          var json;
          try {
            json = JSON.parse(text);
          } catch (e) {
            show(text, true);
            return;
          }
          show(JSON.stringify(json, null, 2), !resp.ok || !!json.errors);
          // After a login, keep the token for the next requests.
          var login = json && json.data && json.data.login;
          if (login && login.token) {
            token.value = login.token;
            status.textContent += '，已登录：令牌已填入上方“令牌”一栏';
          }
        });
      })
      .catch(function (e) {
        status.textContent = '请求失败';
        show(String(e), true);
      })
      .then(function () {
        send.disabled = false;
      });
  });

  // Ctrl-Enter (or Cmd-Enter) in the query sends it.
  query.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });
})();
