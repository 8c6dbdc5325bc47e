#!/usr/bin/env bash
# `make test`: what a fresh clone needs (Debian packages, tauri-driver, the UI bundle, the
# debug build, the fixtures' downloads), then every suite (tests/run-all.sh) against a
# private keychain and the fixture servers. Ends with each step's time, also on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
# shellcheck source=tests/lib.sh
source tests/lib.sh
# shellcheck source=tests/steps.sh
source tests/steps.sh
steps_begin

step scripts/install-deps.sh --tauri-driver

# The fixtures' downloads need no compiler and mostly wait for PyPI and npm: on a fresh
# machine they run beside the UI build and cargo's, instead of after them. Their time is
# noted when they end; the wait below is what they add to the run.
prepare_log=$(mktemp "${TMPDIR:-/tmp}/mll-prepare.XXXXXX")
(
    start=$SECONDS rc=0
    tests/fixtures/prepare.sh >"$prepare_log" 2>&1 || rc=$?
    printf '%5ds  %s\n' $((SECONDS - start)) "tests/fixtures/prepare.sh (beside the next two steps)" >>"$MLL_STEP_TIMES"
    exit "$rc"
) &
prepare=$!

# The name the table shows for the wait (a pid would say nothing).
wait_for_fixture_downloads() { wait "$prepare"; }

step scripts/build-ui.sh
step cargo build --workspace
if ! step wait_for_fixture_downloads; then
    cat "$prepare_log" >&2
    die "the fixtures' downloads failed (tests/fixtures/prepare.sh; its output is above)"
fi
rm -f "$prepare_log"

step tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/run-all.sh
