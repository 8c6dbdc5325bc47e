#!/usr/bin/env bash
# Print the mlflow-login program the plugin's tests and benchmark use: $MLFLOW_LOGIN_BIN,
# else the newest of $CARGO_TARGET_DIR/{debug,release}/mlflow-login, else the one on PATH.
# Fails, saying how to build it, when there is none or it lacks the `credential` command.
set -euo pipefail

die() {
    printf 'tests/python/find-program.sh: error: %s\n' "$*" >&2
    exit 1
}

bin=${MLFLOW_LOGIN_BIN:-}
if [[ -z "$bin" ]]; then
    target=${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}
    for candidate in "$target/debug/mlflow-login" "$target/release/mlflow-login"; do
        if [[ -x "$candidate" && (-z "$bin" || "$candidate" -nt "$bin") ]]; then
            bin=$candidate
        fi
    done
    [[ -n "$bin" ]] || bin=$(command -v mlflow-login || true)
fi
if [[ -n "${MLFLOW_LOGIN_BIN:-}" && ! -x "$bin" ]]; then
    die "MLFLOW_LOGIN_BIN=$MLFLOW_LOGIN_BIN is not an executable file"
fi
[[ -n "$bin" && -x "$bin" ]] ||
    die "the mlflow-login program was not found: build it (export CARGO_TARGET_DIR=\$HOME/.cache/mlflow-login/target; cargo build -p mlflow-login) or set MLFLOW_LOGIN_BIN"
"$bin" credential --help >/dev/null 2>&1 ||
    die "$bin has no \`credential\` command: rebuild it (cargo build -p mlflow-login)"
printf '%s\n' "$bin"
