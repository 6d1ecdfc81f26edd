#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (root): the test bed's Debian
# packages and the npm dependencies (with the pinned Node 24 that npm scripts run on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/testbed/install-deps.sh
command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
# npm ci only when the lock file changed since the last install: warm runs skip it.
stamp=node_modules/.pvmove-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
