#!/usr/bin/env bash
# Tray benchmark: mlflow-login-tray against a bare Tauri 2 tray app, in the same run, and
# against a tray on tray-icon + tao without Tauri (the other stack considered).
#
#   tests/bench/tray.sh [IDLE_SECONDS]     # default 60 (or $MLL_BENCH_IDLE)
#
# Release builds of all three (the baselines from tests/bench/bare-tray/ and tao-tray/,
# same CARGO_TARGET_DIR, same Cargo.lock versions, same profile). Each runs under Xvfb with the private
# gnome-keyring and a StatusNotifier host on a private bus (tests/tray/bench_driver.py):
#   ready      ms from start until the icon registered with the StatusNotifierWatcher
#              (median of five starts, after one uncounted warm-up start)
#   RSS, PSS   the app's whole process tree (/proc/*/smaps_rollup), after the idle period
#   WebKit     WebKit processes alive in the tree
#   sys/min    syscalls per minute over the idle period (strace -c -f)
# The app is measured idle, with the login dialog open (opened from the menu), and idle
# again after the dialog was closed. Targets: RSS, PSS <= 1.1x bare; 0 WebKit
# processes with no window; no wake-ups but the slow timer; ready <= 300 ms.
# Beside them, idle, the tray of a reference commit (MLL_BENCH_TRAY_REF, default 5797607:
# main just before the local proxy was merged, built once by tests/bench/ref-build.sh):
# a tray that has never been asked for a proxy must cost what it cost before proxies
# existed (RSS, PSS and syscalls per minute; the table prints the ratios).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}
idle=${1:-${MLL_BENCH_IDLE:-60}}

# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"
for tool in strace:strace xvfb-run:xvfb xdotool:xdotool; do
    need "${tool%%:*}" "apt-get install ${tool#*:}"
done
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || die "apt-get install python3-dbus python3-gi"

with_fixtures keychain "$0" "$@"
if [[ -z "${DISPLAY:-}" ]]; then
    exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

cd "$root"
if [[ "${MLL_BENCH_NO_BUILD:-}" != 1 ]]; then # 1: measure the binaries already built
    echo "==> release builds" >&2
    build_app release >&2
    for base in bare-tray tao-tray; do
        cp Cargo.lock "tests/bench/$base/Cargo.lock"
        cargo build --release --manifest-path "tests/bench/$base/Cargo.toml" >&2
    done
fi
rel=$CARGO_TARGET_DIR/release
ref_tray=$("$here/ref-build.sh" mlflow-login-tray "${MLL_BENCH_TRAY_REF:-5797607}")

# The app with one server and a stored password (a closed port: its start-up check fails
# fast and the icon shows "failed"; no network while idle).
cfg=$(mktemp -d "${TMPDIR:-/tmp}/mll-bench-cfg.XXXXXX")
trap 'rm -rf "$cfg"' EXIT
export MLFLOW_LOGIN_CONFIG_DIR=$cfg
export MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-bench-$RANDOM$RANDOM:"
printf 'pw' | "$rel/mlflow-login" login prod --url http://127.0.0.1:9 --username alice --password-stdin --no-verify >&2

results=$(mktemp)
echo "==> bare tray (${idle} s idle)" >&2
/usr/bin/python3 "$root/tests/tray/bench_driver.py" bare "$rel/bare-tray" "$idle" >>"$results"
echo "==> tray-icon + tao tray, no Tauri (${idle} s idle)" >&2
/usr/bin/python3 "$root/tests/tray/bench_driver.py" tao "$rel/tao-tray" "$idle" >>"$results"
echo "==> mlflow-login-tray before the proxy (${MLL_BENCH_TRAY_REF:-5797607}, ${idle} s idle)" >&2
/usr/bin/python3 "$root/tests/tray/bench_driver.py" ref "$ref_tray" "$idle" >>"$results"
echo "==> mlflow-login-tray (${idle} s idle, login dialog, ${idle} s idle)" >&2
/usr/bin/python3 "$root/tests/tray/bench_driver.py" app "$rel/mlflow-login-tray" "$idle" --login-dialog >>"$results"

/usr/bin/python3 - "$results" "$idle" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bare = next(r for r in rows if r["app"] == "bare")
print(f"\nTray benchmark, idle {sys.argv[2]} s per phase (ratios to the bare Tauri tray)\n")
print(f"{'app / phase':28} {'RSS MB':>8} {'x':>5} {'PSS MB':>8} {'x':>5} {'procs':>5} {'WebKit':>6} {'sys/min':>8} {'ready ms':>8}")
for r in rows:
    name = f"{r['app']} / {r['phase']}"
    rss, pss = r["rss_kb"] / 1024, r["pss_kb"] / 1024
    print(f"{name:28} {rss:8.1f} {r['rss_kb']/bare['rss_kb']:5.2f} {pss:8.1f} {r['pss_kb']/bare['pss_kb']:5.2f} "
          f"{r['processes']:5d} {r['webkit']:6d} {r['syscalls_per_min']:8.1f} {str(r.get('ready_ms', '')):>8}")
ref = next((r for r in rows if r["app"] == "ref"), None)
app = next((r for r in rows if r["app"] == "app" and r["phase"] == "idle"), None)
if ref and app:
    print(f"\nidle tray, today / before the proxy: RSS {app['rss_kb'] / ref['rss_kb']:.2f}x, "
          f"PSS {app['pss_kb'] / ref['pss_kb']:.2f}x, syscalls per minute {app['syscalls_per_min']:.1f} vs "
          f"{ref['syscalls_per_min']:.1f}")
plain = bare.get("window_ready_ms")
for r in rows:
    if "dialog_mapped_ms" in r:
        ratio = f", {r['dialog_mapped_ms'] / plain:.2f}x" if plain else ""
        print(f"\nlogin dialog open-to-interactive: {r['dialog_mapped_ms']} ms from the menu click to the loaded"
              f" window (a window process started on demand); a plain Tauri window: {plain} ms{ratio}")
    if "closed_by" in r:
        print(f"login dialog closed by: {r['closed_by']}")
PY
rm -f "$results"
