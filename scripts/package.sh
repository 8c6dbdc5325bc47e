#!/usr/bin/env bash
# Builds the Debian package with the Tauri bundler (@tauri-apps/cli from npm):
# mlflow-login-tray and mlflow-login in /usr/bin, the desktop entry, the icons.
#
#   scripts/package.sh                      # prints the path of the .deb
#   MLL_PACKAGE_FAST=1 scripts/package.sh   # the same layout, from the debug build
#
# MLL_PACKAGE_FAST is for tests of the packaging (tests/package/run.sh from `make test`):
# it bundles the debug binaries that `make test` has already built (`tauri bundle
# --debug`) instead of compiling every dependency a second time for the release profile,
# the longest step of a fresh machine's `make test`. What those tests check (the files,
# the desktop entry, the icons, both binaries start) does not depend on the profile. What
# ships is built in release, with whole-program LTO.
#
# The CLI (`tauri`) is installed once into $MLL_CACHE/tauri-cli at the pinned version.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}
cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}
tauri_cli_version=2.12.5

die() {
    printf 'package.sh: %s\n' "$*" >&2
    exit 1
}
command -v npm >/dev/null || die "npm not found: apt-get install npm"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found: apt-get install dpkg"

tools=$cache/tauri-cli
if [[ "$("$tools/node_modules/.bin/tauri" --version 2>/dev/null)" != "tauri-cli $tauri_cli_version" ]]; then
    echo "==> installing @tauri-apps/cli $tauri_cli_version into $tools"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund "@tauri-apps/cli@$tauri_cli_version" >&2
fi

cd "$root"
echo "==> building the UI"
scripts/build-ui.sh

if [[ -n "${MLL_PACKAGE_FAST:-}" ]]; then
    profile=debug
    echo "==> building mlflow-login and mlflow-login-tray (debug)"
    cargo build --locked -p mlflow-login -p mlflow-login-tray
else
    profile=release
    echo "==> building mlflow-login (release)"
    cargo build --release --locked -p mlflow-login
fi
cli_bin=$CARGO_TARGET_DIR/$profile/mlflow-login

# The CLI goes into the same package, next to the tray binary. The Debian package name is
# productName kebab-cased ("MLflow Login" would give "m-lflow-login"), so it is set here for
# the bundle only; the desktop entry keeps the display name (src-tauri/mlflow-login.desktop).
extra=$(mktemp "${TMPDIR:-/tmp}/mll-tauri-conf.XXXXXX.json")
trap 'rm -f "$extra"' EXIT
printf '{"productName":"mlflow-login","bundle":{"linux":{"deb":{"desktopTemplate":"mlflow-login.desktop","files":{"/usr/bin/mlflow-login":"%s"}}}}}\n' \
    "$cli_bin" >"$extra"

if [[ $profile == debug ]]; then
    echo "==> bundling the debug build (tauri bundle --debug --bundles deb)"
    (cd src-tauri && "$tools/node_modules/.bin/tauri" bundle --debug --bundles deb --config "$extra")
else
    echo "==> bundling (tauri build --bundles deb)"
    (cd src-tauri && "$tools/node_modules/.bin/tauri" build --bundles deb --config "$extra" -- --locked)
fi

deb=
for f in "$CARGO_TARGET_DIR/$profile"/bundle/deb/*.deb; do
    if [[ -z $deb || $f -nt $deb ]]; then deb=$f; fi
done
[[ -f "$deb" ]] || die "no .deb was produced"
echo "$deb"
