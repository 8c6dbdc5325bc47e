#!/usr/bin/env bash
# The UI suite: install the front end's npm packages (only when needed), build ui/dist,
# run the vitest unit tests, then the Playwright checks of the built pages in Debian's
# Chromium (which also refresh the screenshots in ui/screenshots/).
#
#   tests/ui/run.sh            everything
#   CHROMIUM=/path/to/chromium tests/ui/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../ui"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
    echo "error: $chromium not found; the UI checks need Debian's Chromium" >&2
    echo "help: apt-get install chromium   (or set CHROMIUM=/path/to/chromium)" >&2
    exit 1
fi
if ! command -v npm >/dev/null; then
    echo "error: npm not found; the UI needs Node.js 20.19 or newer" >&2
    echo "help: apt-get install nodejs npm, or install Node.js from nodejs.org" >&2
    exit 1
fi

# `npm ci` wipes and reinstalls node_modules: only when it is missing or the lock changed.
stamp=node_modules/.mll-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules ]] || [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
    npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
fi

npm run build
npm test
CHROMIUM="$chromium" npm run e2e
