#!/usr/bin/env bash
# scripts/build-ui.sh builds only when the UI's inputs changed, and otherwise leaves ui/dist
# untouched (mtimes too: cargo re-embeds and relinks the tray when they change).
#
# Runs on a copy of ui/ (sharing its node_modules) so the real ui/dist is never rebuilt
# by the test: build, build again (nothing happens), touch a source (nothing happens: the
# inputs are hashed by content), edit a source (it rebuilds), delete dist (it rebuilds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# node_modules installed and stamped by the real script, so the copy never runs `npm ci`
# (which would wipe the shared node_modules).
"$root/scripts/build-ui.sh" >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/mll-build-ui.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/scripts" "$work/ui"
cp "$root/scripts/build-ui.sh" "$work/scripts/"
for f in src test index.html package.json package-lock.json tsconfig.json vite.config.ts svelte.config.js; do
    cp -r "$root/ui/$f" "$work/ui/"
done
ln -s "$root/ui/node_modules" "$work/ui/node_modules"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# Every file of dist with its mtime (ns) and size.
snapshot() { (cd "$work/ui/dist" && find . -printf '%p %T@ %s\n' | LC_ALL=C sort); }
build() { "$work/scripts/build-ui.sh" 2>&1; }

echo "-- first build"
build >"$work/log1" || { cat "$work/log1"; fail "the first build failed"; }
[[ -f "$work/ui/dist/index.html" ]] || fail "no dist/index.html after the first build"
first="$(snapshot)"

echo "-- second build, nothing changed"
out="$(build)" || { echo "$out"; fail "the second build failed"; }
[[ "$out" == *"ui/dist is up to date"* ]] || { echo "$out"; fail "the second build ran again"; }
[[ "$(snapshot)" == "$first" ]] || fail "the second build changed ui/dist"

echo "-- a source touched, its content unchanged"
touch "$work/ui/src/main.ts" "$work/ui/package-lock.json"
out="$(build)" || { echo "$out"; fail "the build after touch failed"; }
[[ "$(snapshot)" == "$first" ]] || fail "touching a source (same content) rebuilt ui/dist"

echo "-- a source edited"
echo "// edited by tests/ui/build_test.sh" >>"$work/ui/src/main.ts"
out="$(build)" || { echo "$out"; fail "the build after an edit failed"; }
[[ "$out" != *"up to date"* ]] || fail "editing src/main.ts did not rebuild"
second="$(snapshot)"
[[ "$second" != "$first" ]] || fail "editing src/main.ts left ui/dist as it was"
out="$(build)"
[[ "$out" == *"up to date"* && "$(snapshot)" == "$second" ]] || fail "the build after the rebuild ran again"

echo "-- the config edited"
echo "// edited" >>"$work/ui/vite.config.ts"
out="$(build)"
[[ "$out" != *"up to date"* ]] || fail "editing vite.config.ts did not rebuild"

echo "-- dist deleted"
rm -rf "$work/ui/dist"
out="$(build)"
[[ -f "$work/ui/dist/index.html" ]] || { echo "$out"; fail "a deleted ui/dist was not rebuilt"; }

echo "build-ui.sh: builds only on change: OK"
