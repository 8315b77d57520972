#!/usr/bin/env bash
# The front end's build steps for the Makefile (docs/web.md):
#
#   web/build.sh            build dist/app/ when a source is newer than it (npm ci first when needed)
#   web/build.sh generate   regenerate src/api/generated/ from ../graph/schema and src/**/*.graphql
#   web/build.sh typecheck  vue-tsc over the whole project (TypeScript strict)
#   web/build.sh test       Vitest component tests
#   web/build.sh e2e        the end-to-end tests in Chromium against ../bin/healthcode
#
# Without Node.js and npm every step warns and exits 0: a Go build then embeds
# no application, and the server answers pages with instructions instead.
# HEALTHCODE_WEB_REQUIRED=1 turns that warning into a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
step="${1:-build}"

warn() { echo "web/build.sh: $*" >&2; }

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  warn "Node.js/npm not found: skipping '$step' (the binary serves a page that says how to build the front end)."
  warn "install Node.js 20.19+ with npm, then run 'make build' again."
  [ "${HEALTHCODE_WEB_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

install() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "web: npm ci ..." >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
    touch node_modules/.package-lock.json
  fi
}

stale() { # stale: dist/app is missing or older than a source
  [ -f dist/app/index.html ] || return 0
  [ -n "$(find index.html scan console public src package-lock.json vite.config.ts tsconfig.json ../graph/schema \
    -newer dist/app/index.html -type f -print -quit 2>/dev/null)" ]
}

case "$step" in
  build)
    install
    if stale; then
      echo "web: vite build ..." >&2
      npx vite build --logLevel warn
      touch dist/app/index.html
      node scripts/bundle-size.mjs
    fi
    ;;
  generate)
    install
    npx graphql-codegen --config codegen.ts --silent
    ;;
  typecheck)
    install
    npx vue-tsc --noEmit -p tsconfig.json
    ;;
  test)
    install
    npx vitest run
    ;;
  e2e)
    install
    node e2e/run.mjs
    ;;
  *)
    warn "unknown step $step"
    exit 2
    ;;
esac
