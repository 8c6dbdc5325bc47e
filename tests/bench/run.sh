#!/usr/bin/env bash
# `make bench`: every benchmark, in one run, each printing a table of ratios against its
# baseline. Release builds; a private keychain and the fixture servers, as in `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ -z "${_MLL_BENCH_INNER:-}" ]]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mlflow-login/target}
    cargo build --release -p mlflow-login
    _MLL_BENCH_INNER=1 exec tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh "$0" "$@"
fi

bin=$CARGO_TARGET_DIR/release/mlflow-login
status=0
run() {
    printf '\n== %s\n' "$1"
    shift
    "$@" || { echo "(failed: $*)"; status=1; }
}
run "CLI" tests/bench/cli.sh "$bin"
# The hook beside a reference commit's (MLL_BENCH_REF, default 4d0889e), built once.
ref_bin=$(tests/bench/ref-cli.sh) || { echo "(could not build the reference CLI)"; status=1; ref_bin=""; }
[[ -x tests/bench/hook.sh ]] && run "shell hook per prompt" tests/bench/hook.sh "$bin" ${ref_bin:+"$ref_bin"}
[[ -x tests/bench/plugin.sh ]] && run "MLflow auth plugin per request" env MLFLOW_LOGIN_BIN="$bin" tests/bench/plugin.sh
[[ -x tests/bench/tray.sh ]] && run "tray app idle" tests/bench/tray.sh
# The proxy beside a reference commit's (MLL_BENCH_PROXY_REF, default 7212e3b: forwarding
# through hyper-util's pooled client, before the proxy's own pool), built once.
proxy_ref=$(tests/bench/ref-build.sh mlflow-login "${MLL_BENCH_PROXY_REF:-7212e3b}") ||
    { echo "(could not build the reference proxy)"; status=1; proxy_ref=""; }
run "local proxy vs direct and nginx" tests/bench/proxy.sh "$bin" ${proxy_ref:+"$proxy_ref"}
exit $status
