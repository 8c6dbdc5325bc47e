# Sourced by tests/e2e/run.sh and tests/e2e/screenshots.sh (with $root set and tests/lib.sh
# sourced):
# re-runs the caller inside the private keychain, the fixture servers and a display when it
# is not there yet, builds the app unless MLL_NO_BUILD=1, and sets MLL_TRAY_BIN/MLL_CLI_BIN.
# shellcheck shell=bash

: "${root:?the caller sets root}"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}

if [[ -z "${MLL_TEST_HOME:-}" ]]; then
    exec "$root/tests/fixtures/with-keyring.sh" "$0" "$@"
fi
if [[ -z "${MLL_NGINX_URL:-}" ]]; then
    exec "$root/tests/fixtures/with-servers.sh" "$0" "$@"
fi
if [[ -z "${DISPLAY:-}" ]]; then
    exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

profile=${MLL_PROFILE:-debug}
cd "$root" || exit 1
if [[ "${MLL_NO_BUILD:-}" != 1 ]]; then
    echo "==> build ($profile, UI from ui/dist)"
    scripts/build-ui.sh # cheap when nothing changed: it hashes its inputs
    build_app "$profile"
fi
app_bins "$profile"
[[ -x $MLL_TRAY_BIN && -x $MLL_CLI_BIN ]] ||
    die "build first: cargo build -p mlflow-login-tray -p mlflow-login (missing $MLL_TRAY_BIN or $MLL_CLI_BIN)"
