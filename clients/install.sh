#!/usr/bin/env bash
# Installs the Node packages of the client checks (tests/test_clients_*.py, the GraphiQL
# build) from the lockfile: `npm ci` only when package-lock.json changed since the last one.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.sha256
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$wanted" >"$stamp"
