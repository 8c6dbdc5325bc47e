#!/usr/bin/env bash
# Installs the .deb (scripts/package.sh) with dpkg -i and runs both binaries' --version,
# then removes the package again. Needs root (CI runs as root) and a built package:
#
#   tests/package/run.sh [PATH.deb]     # default: build it with scripts/package.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}

[[ $(id -u) -eq 0 ]] || { echo "tests/package/run.sh: dpkg -i needs root (run with sudo)" >&2; exit 1; }
deb=${1:-$("$root/scripts/package.sh" | tail -n 1)}
echo "==> dpkg -i $deb"
dpkg-deb --contents "$deb"
dpkg -i "$deb"
trap 'dpkg -r mlflow-login >/dev/null 2>&1 || true' EXIT

fail() {
    echo "tests/package/run.sh: $*" >&2
    exit 1
}
v=$(/usr/bin/mlflow-login --version) || fail "mlflow-login --version failed"
[[ $v == "mlflow-login "* ]] || fail "unexpected: $v"
t=$(/usr/bin/mlflow-login-tray --version) || fail "mlflow-login-tray --version failed"
[[ $t == "mlflow-login-tray "* ]] || fail "unexpected: $t"
desktop=$(dpkg -L mlflow-login | grep -E '^/usr/share/applications/.*\.desktop$') || fail "no desktop entry"
grep -q '^Exec=mlflow-login-tray' "$desktop" || fail "the desktop entry does not start mlflow-login-tray: $(cat "$desktop")"
dpkg -L mlflow-login | grep -q '^/usr/share/icons/hicolor/.*/apps/' || fail "no icons installed"
echo "$v / $t, desktop entry $desktop: OK"
