#!/usr/bin/env bash
# Installs the Node MLflow client (package-lock.json) into tests/proxy/node/node_modules,
# only when it is missing or the lock file changed (a stamp records the lock's hash), one
# install at a time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v npm >/dev/null || { echo "tests/proxy/node/install.sh: npm is missing (node >= 20.18 and npm come with the machine image)" >&2; exit 1; }
exec 9>.install.lock
flock -w 600 9 || { echo "tests/proxy/node/install.sh: timed out waiting for $PWD/.install.lock" >&2; exit 1; }
stamp=node_modules/.mll-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -d node_modules && "$(cat "$stamp" 2>/dev/null || true)" == "$want" ]]; then
    exit 0
fi
npm ci --no-audit --no-fund --silent
echo "$want" >"$stamp"
