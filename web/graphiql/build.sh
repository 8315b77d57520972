#!/usr/bin/env bash
# Builds the offline GraphiQL assets for dev mode: installs the exact versions
# pinned in package-lock.json (npm ci, only when node_modules is missing or
# older than the lock) and copies the four browser bundles the GraphiQL page
# loads into ../static/graphiql/, where web.Handler() serves them at
# /graphiql/*. The copies are build output (ignored by git); init.js next to
# them is committed.
#
# Without npm, or when the install fails, it warns and exits 0: the binary
# still builds, and GET /graphql in dev mode then shows a simple built-in
# console with instructions instead of GraphiQL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../static/graphiql"
cd "$here"

warn() { echo "web/graphiql/build.sh: $*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
  warn "npm not found: GraphiQL assets not built (GET /graphql in dev mode shows a simple console instead)."
  warn "install Node.js 20+ with npm, then run web/graphiql/build.sh again."
  exit 0
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "web/graphiql: npm ci (GraphiQL, React) ..." >&2
  if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2; then
    warn "npm ci failed: GraphiQL assets not updated (GET /graphql in dev mode shows a simple console when they are missing)."
    exit 0
  fi
  touch node_modules/.package-lock.json
fi

mkdir -p "$out"
copy() { # copy SRC NAME: update $out/NAME only when its content differs
  if [ ! -f "$1" ]; then
    warn "missing $1 (is package-lock.json current?)"
    exit 1
  fi
  if ! cmp -s "$1" "$out/$2"; then
    cp "$1" "$out/$2.tmp" && mv -f "$out/$2.tmp" "$out/$2"
  fi
}
copy node_modules/react/umd/react.production.min.js react.production.min.js
copy node_modules/react-dom/umd/react-dom.production.min.js react-dom.production.min.js
copy node_modules/graphiql/graphiql.min.js graphiql.min.js
copy node_modules/graphiql/graphiql.min.css graphiql.min.css
