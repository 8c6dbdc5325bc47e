#!/usr/bin/env bash
# Repeats the suites that drive real windows, shells and servers, and counts failures.
#
#   tests/flaky.sh [RUNS]      # make flaky RUNS=10
#
# Each run starts its own private keychain and fixture servers (with-keyring.sh,
# with-servers.sh) and runs the real tray menu test, the WebDriver end-to-end test and the
# real-shell suite. Prints one line per suite and run, then a table of failures; exits 1
# when any run failed. Logs of failed runs are kept under $MLL_CACHE/flaky/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"

runs=${1:-${RUNS:-10}}
[[ $runs =~ ^[0-9]+$ && $runs -gt 0 ]] || die "RUNS must be a positive number, not '$runs'"
logs=${MLL_CACHE:-$HOME/.cache/mlflow-login}/flaky
mkdir -p "$logs"

suites=(tray e2e shells)
declare -A failed=([tray]=0 [e2e]=0 [shells]=0)
suite_cmd() {
    case $1 in
        tray) echo "MLL_PROFILE=debug tests/tray/run.sh" ;;
        e2e) echo "MLL_NO_BUILD=1 tests/e2e/run.sh" ;;
        shells) echo "tests/shell/run.sh" ;;
    esac
}

build_app debug
for ((i = 1; i <= runs; i++)); do
    for suite in "${suites[@]}"; do
        log=$logs/$suite-$i.log
        if tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh bash -c "$(suite_cmd "$suite")" >"$log" 2>&1; then
            echo "run $i/$runs $suite: passed"
            rm -f "$log"
        else
            echo "run $i/$runs $suite: FAILED (log: $log)"
            failed[$suite]=$((failed[$suite] + 1))
        fi
    done
done

echo
total=0
for suite in "${suites[@]}"; do
    printf '%-8s %d of %d runs failed\n' "$suite" "${failed[$suite]}" "$runs"
    total=$((total + failed[$suite]))
done
((total == 0))
