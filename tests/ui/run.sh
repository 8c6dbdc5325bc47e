#!/usr/bin/env bash
# The UI suite: build ui/dist when its inputs changed (scripts/build-ui.sh, which installs
# the npm packages when the lock changed), check that a second build leaves it alone
# (tests/ui/build_test.sh), run the vitest unit tests, then the Playwright checks of the
# built pages in Debian's Chromium (which also refresh the screenshots in ui/screenshots/).
#
#   tests/ui/run.sh            everything
#   CHROMIUM=/path/to/chromium tests/ui/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../../ui"

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

../scripts/build-ui.sh
"$here/build_test.sh"
npm run typecheck
npm test
CHROMIUM="$chromium" npm run pages-fake-backend
