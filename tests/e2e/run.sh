#!/usr/bin/env bash
# End to end through WebDriver: the built tray app's login dialog and servers window,
# driven by tauri-driver + WebKitWebDriver under Xvfb, against the real nginx + MLflow
# fixture and the private gnome-keyring (tests/e2e/login_test.py says what is checked).
#
#   tests/e2e/run.sh                        # wraps itself in with-keyring.sh, with-servers.sh, xvfb-run
#   MLL_PROFILE=release tests/e2e/run.sh    # test a release build (default: debug)
#   MLL_NO_BUILD=1 tests/e2e/run.sh         # use the binaries as built
#   MLL_E2E_RUNS=5 tests/e2e/run.sh         # repeat the test (flakiness check), same fixtures
#   MLL_E2E_SHOTS=DIR tests/e2e/run.sh      # also save the real dialog with the wrong-password error
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"

# cargo installs tauri-driver here; with-keyring.sh keeps CARGO_HOME pointing at it.
export PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
need tauri-driver "cargo install tauri-driver --locked --version 2.1.0 (or scripts/install-deps.sh --tauri-driver)"
need WebKitWebDriver "apt-get install webkit2gtk-driver"
need xvfb-run "apt-get install xvfb"
need secret-tool "apt-get install libsecret-tools"
need /usr/bin/python3 "apt-get install python3"
version=$(tauri-driver --version 2>/dev/null || true)
[[ -z $version || $version == *2.1.0* ]] ||
    echo "tests/e2e/run.sh: warning: tested with tauri-driver 2.1.0, found '$version'" >&2

# shellcheck source=tests/e2e/app.sh
source "$root/tests/e2e/app.sh"
"$MLL_TRAY_BIN" --version

runs=${MLL_E2E_RUNS:-1}
for ((i = 1; i <= runs; i++)); do
    echo "==> WebDriver end to end (run $i of $runs)"
    /usr/bin/python3 "$here/login_test.py"
done
