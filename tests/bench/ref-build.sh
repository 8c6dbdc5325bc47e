#!/usr/bin/env bash
# Build one binary of a reference commit (release) and print its path, so a benchmark can
# measure it beside today's in the same run: a regression then shows as a ratio, not as a
# figure compared with one measured on another day under another load.
#
#   tests/bench/ref-build.sh PACKAGE COMMIT     # PACKAGE: mlflow-login or mlflow-login-tray
#
# The commit is checked out as a git worktree in the cache and built with its own
# Cargo.lock (--locked); the binary is kept per package and commit, so a second run builds
# nothing. Built into $MLL_BENCH_REF_TARGET if set (a target folder that already holds
# today's release dependencies builds only the workspace's crates; they are cleaned out of
# it afterwards and today's binary put back, so today's next build compiles them again),
# else a target folder of its own in the cache. The tray is built with the placeholder
# page its build script writes when ui/dist is missing: the idle tray opens no window, so
# it never loads a page.
# Progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

package=${1:?usage: ref-build.sh PACKAGE COMMIT}
ref=${2:?usage: ref-build.sh PACKAGE COMMIT}
sha=$(git rev-parse --verify --quiet "$ref^{commit}") || {
    echo "ref-build.sh: no commit $ref in this repository" >&2
    exit 1
}
cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}/bench-ref
bin=$cache/$package-${sha:0:12}
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
    target=${MLL_BENCH_REF_TARGET:-$cache/target}
    today=$target/release/$package
    if [[ -n "${MLL_BENCH_REF_TARGET:-}" ]]; then
        # A target folder shared with today's build: cargo names the workspace's own crates
        # by their path in the workspace, so the reference's build takes the place of
        # today's, and today's next build finds it fresh (it is newer than today's sources)
        # and puts the reference's binary at today's path. So the workspace's crates are
        # cleaned out of it after the build (today's next build compiles them again), and
        # today's binary is kept aside and put back, however this script ends.
        if [[ -e "$today" ]]; then cp -p "$today" "$bin.today"; fi
        put_back_today() {
            trap - EXIT
            local packages=()
            mapfile -t packages < <(cd "$src" && cargo metadata --no-deps --format-version 1 |
                python3 -c 'import json, sys; print("\n".join("-p\n" + p["name"] for p in json.load(sys.stdin)["packages"]))')
            if ((${#packages[@]} == 0)) ||
                ! (cd "$src" && CARGO_TARGET_DIR=$target cargo clean -q --release "${packages[@]}" >&2); then
                echo "ref-build.sh: could not clean the reference's crates out of $target: cargo clean there" >&2
            fi
            if [[ -e "$bin.today" ]]; then mv "$bin.today" "$today"; else rm -f "$today"; fi
        }
        trap put_back_today EXIT
    fi
    echo "ref-build.sh: building $package at ${sha:0:12} (once; kept in $cache)" >&2
    (cd "$src" && CARGO_TARGET_DIR=$target cargo build --release --locked -p "$package" >&2)
    cp "$today" "$bin.tmp"
    if [[ -n "${MLL_BENCH_REF_TARGET:-}" ]]; then put_back_today; fi
    mv "$bin.tmp" "$bin"
    git worktree remove --force "$src"
fi
printf '%s\n' "$bin"
