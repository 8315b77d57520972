#!/usr/bin/env bash
# Installs what the platform needs on a fresh Debian machine: the PostgreSQL
# server binaries and Redis; with the argument "test", also Chromium and the
# CJK fonts that the web front end's end-to-end tests drive and read (Debian's
# packages: a test never downloads a browser of its own). As root it uses
# apt-get; otherwise it says what to install. Go must already be on PATH (the
# project is a Go module); Node.js 20+ with npm builds the front end
# (web/build.sh skips it, with a warning, when missing).
set -euo pipefail

missing=()
pg_ok=0
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && pg_ok=1
done
[ -n "${PG_BIN:-}" ] && [ -x "${PG_BIN}/postgres" ] && pg_ok=1
[ "$pg_ok" = 1 ] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ "${1:-}" = test ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "healthcode needs these Debian packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start their own servers; the platform runs its own, so stop them.
service postgresql stop >/dev/null 2>&1 || true
service redis-server stop >/dev/null 2>&1 || true
