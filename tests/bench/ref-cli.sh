#!/usr/bin/env bash
# Build the mlflow-login CLI of a reference commit (release) and print the binary's path,
# so a benchmark can measure it beside today's in the same run: a regression then shows as
# a ratio, not as a figure compared with one measured on another day under another load.
#
#   tests/bench/ref-cli.sh [COMMIT]     # default: $MLL_BENCH_REF, else 4d0889e
#
# 4d0889e is the end of the shell work, whose hook figures the prompt must stay within
# 10 % of. The commit is checked out as a git worktree in the cache and built with its own
# Cargo.lock (--locked) into its own target folder; the binary is kept per commit, so a
# second run builds nothing. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

ref=${1:-${MLL_BENCH_REF:-4d0889e}}
sha=$(git rev-parse --verify --quiet "$ref^{commit}") || {
    echo "ref-cli.sh: no commit $ref in this repository" >&2
    exit 1
}
cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}/bench-ref
bin=$cache/mlflow-login-${sha:0:12}
if [[ -x "$bin" ]]; then
    printf '%s\n' "$bin"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [[ ! -x "$bin" ]]; then
    src=$cache/src-${sha:0:12}
    if [[ ! -d "$src" ]]; then
        git worktree prune
        git worktree add --detach "$src" "$sha" >&2
    fi
    echo "ref-cli.sh: building mlflow-login at ${sha:0:12} (once; kept in $cache)" >&2
    (cd "$src" && CARGO_TARGET_DIR=$cache/target cargo build --release --locked -p mlflow-login >&2)
    cp "$cache/target/release/mlflow-login" "$bin.tmp"
    mv "$bin.tmp" "$bin"
    git worktree remove --force "$src"
fi
printf '%s\n' "$bin"
