#!/usr/bin/env bash
# Builds the front end into ui/dist (src-tauri embeds it). `npm ci` only when
# node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../ui"
command -v npm >/dev/null || { echo "build-ui.sh: npm is missing: apt-get install nodejs npm" >&2; exit 1; }
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
