#!/usr/bin/env bash
# The tray app's tests: the tauri::test command tests (mock runtime, in-memory vault; the
# single sign-on ones against the real IdP of the SSO fixtures), then
# the tray menu for real (tests/tray/tray_menu_test.py): the built binary under Xvfb, the
# private gnome-keyring, the nginx fixture (checks the CLI records), the SSO fixtures, the
# workspaces fixture (the workspace submenu, and a hooked bash that follows it), a
# StatusNotifier host and a notification server on the private bus, the menu through
# com.canonical.dbusmenu; then the tray on a bus of its own where the Secret Service never
# answers (tests/tray/tray_hung_keychain_test.py); then the idle tray under strace: one
# trust store read from start to its first check's result, no listening socket
# (tests/tray/tray_idle_test.py).
#
#   tests/tray/run.sh                 # wraps itself in with-keyring.sh, with-servers.sh, xvfb-run
#   MLL_PROFILE=debug tests/tray/run.sh   # test a debug build (default: release, as make build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"
need xvfb-run "apt-get install xvfb"
need /usr/bin/python3 "apt-get install python3"
need xsel "apt-get install xsel"
need strace "apt-get install strace"
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null ||
    die "python3-dbus and python3-gi are missing: apt-get install python3-dbus python3-gi"

# From the caller's HOME: with-keyring.sh gives the tests a throwaway one.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}

# Not yet inside the private keychain, the fixture servers and a display: wrap.
with_fixtures servers "$0" "$@"
if [[ -z "${DISPLAY:-}" ]]; then
    exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

profile=${MLL_PROFILE:-release}
cd "$root"

# The tray's unit tests (its lib and bin) need none of this and run with the workspace's
# (`cargo test --workspace`, the first test step of tests/run-all.sh).
echo "==> tauri::test command tests"
cargo_test --bins --test bindings --test commands

echo "==> tauri::test single sign-on against the real IdP, its scripted browser as \$BROWSER"
BROWSER=$MLL_OIDC_BROWSER cargo_test --test dialog_sso -- --ignored

echo "==> build ($profile)"
build_app "$profile"
app_bins "$profile"
"$MLL_TRAY_BIN" --version

echo "==> tray menu through dbusmenu"
/usr/bin/python3 "$here/tray_menu_test.py"

echo "==> tray menu with a Secret Service that never answers"
/usr/bin/python3 "$here/tray_hung_keychain_test.py"

echo "==> the idle tray: one trust store read at start, nothing listening"
/usr/bin/python3 "$here/tray_idle_test.py"
