#!/usr/bin/env bash
# Installs what the client checks (tests/test_clients_*.py) need: the Node packages from the
# lockfile, and Debian's Chromium for the GraphiQL browser test.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
