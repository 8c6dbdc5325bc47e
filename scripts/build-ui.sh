#!/usr/bin/env bash
# Builds the front end into ui/dist (src-tauri embeds it), only when its inputs changed.
#
# The inputs are the UI's sources (src/), index.html, the package and lock files, the
# vite/svelte/TypeScript config and the Node.js version. Their hash is kept next to ui/dist
# (ui/.dist-inputs.sha256) after a good build; when it matches and ui/dist is there, nothing
# runs and ui/dist is left as it is, mtimes too, so cargo does not re-embed it and relink
# the tray. `npm ci` runs only when node_modules is missing or the lock file changed.
#
#   scripts/build-ui.sh          build if needed
#   MLL_UI_FORCE=1 scripts/build-ui.sh   build anyway
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../ui"
command -v npm >/dev/null || { echo "build-ui.sh: npm is missing: apt-get install nodejs npm" >&2; exit 1; }

# `npm ci` wipes and reinstalls node_modules: only when it is missing or the lock changed.
lock_stamp=node_modules/.mll-lock.sha256
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules ]] || [[ "$(cat "$lock_stamp" 2>/dev/null || true)" != "$lock_hash" ]]; then
    npm ci --no-audit --no-fund
    echo "$lock_hash" >"$lock_stamp"
fi

# Every file the bundle is made from, by content (a checkout that only touches mtimes
# does not rebuild), plus the Node.js that builds it.
inputs_hash() {
    {
        node --version
        find src index.html package.json package-lock.json tsconfig.json vite.config.ts svelte.config.js \
            -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1
}

stamp=.dist-inputs.sha256
want="$(inputs_hash)"
if [[ -z "${MLL_UI_FORCE:-}" && -f dist/index.html && "$(cat "$stamp" 2>/dev/null || true)" == "$want" ]]; then
    echo "build-ui.sh: ui/dist is up to date"
    exit 0
fi
rm -f "$stamp"
npm run build
echo "$want" >"$stamp"
