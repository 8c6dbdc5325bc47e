#!/usr/bin/env bash
# Every test suite, cheap to real, stopping at the first that fails.
#
# `make test` runs this as
#   tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/run-all.sh
# so a private unlocked keychain (MLL_TEST_HOME) and the fixture servers (MLL_*, see
# tests/fixtures/up.sh) are there. Run alone, suites that need them must fail saying so.
#
# Order: cheap to real. Each suite fails (never skips) when a tool or fixture it needs is
# missing, saying how to get it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

root=$PWD
# shellcheck source=tests/lib.sh
source tests/lib.sh
# Each step's time, printed at the end (also when a step fails): where `make test` goes.
# shellcheck source=tests/steps.sh
source tests/steps.sh
steps_begin

# The fixtures answer as the tests expect (cheap; catches an MLflow/nginx drift first).
if [[ -n "${MLL_FX_DIR:-}" ]]; then
    step tests/fixtures/selfcheck.sh "$MLL_FX_DIR"
fi

# Our own shell scripts.
# Tracked and new (not ignored) files, so a script not yet committed is checked too.
mapfile -t scripts < <(git ls-files --cached --others --exclude-standard -- 'scripts/*.sh' 'tests/*.sh' .ci/run 2>/dev/null || true)
if ((${#scripts[@]} == 0)); then
    scripts=(scripts/*.sh tests/*.sh tests/fixtures/*.sh .ci/run)
fi
step shellcheck "${scripts[@]}"

# Test builds select the whole workspace (cargo_test, tests/lib.sh): a `cargo test -p` in a
# suite would compile the shared dependencies once more, for that crate's feature set.
one_selection() {
    local found
    found=$(grep -nE '^[^#]*cargo[[:space:]]+test[^#]*[[:space:]](-p|--package)[[:space:]]' "${scripts[@]}" Makefile || true)
    found+=$(grep -nE '^[^#]*(cargo_test|cargo[[:space:]]+test)[^#]*[[:space:]]--lib([[:space:]]|$)' "${scripts[@]}" Makefile | grep -v -- '--bins' || true)
    [[ -z "$found" ]] || {
        printf '%s\n' "$found"
        echo "test builds select the workspace: use cargo_test (tests/lib.sh) with --lib --bins, --bin or --test, and a filter"
        return 1
    }
}
step one_selection

# Every integration test target (a file in crates/*/tests or src-tauri/tests) is run by
# name by a step here or by a suite's script: a new file left out of both fails here.
every_test_named() {
    local file name missing=0
    for file in crates/*/tests/*.rs src-tauri/tests/*.rs; do
        name=$(basename "$file" .rs)
        grep -qE -- "--test $name( |\$)" tests/run-all.sh tests/*/run.sh || {
            echo "$file: no step runs it (cargo_test --test $name in tests/run-all.sh or a suite)"
            missing=1
        }
    done
    return "$missing"
}
step every_test_named

# House style: formatted, and clippy-clean with warnings as errors.
step cargo fmt --all --check
step cargo clippy --workspace --all-targets -- -D warnings
# Every cargo step selects the whole workspace (cargo_test, tests/lib.sh) and picks its
# tests by target and name: one feature set, so each dependency is compiled once.
# Unit and snapshot tests of the workspace (the CLI's too), core's structure and plugin
# contract, the tray's tauri::test command tests. The CLI's integration tests need the
# fixtures and come below.
step cargo_test --lib --bins --test plugin_contract --test structure --test bindings --test commands
# The tray's lib has no test of the names below.
# The verifier against the real nginx + MLflow fixtures, row by row.
step cargo_test --lib --bins verify::tests::real_fixture -- --ignored --exact
# Single sign-on against the real IdP (oidc-provider), its scripted browser and the
# mod_auth_openidc proxy: discovery, both flows, refresh rotation, replay, revocation. One
# test at a time: the device test forces slow_down for the next poll of any client.
step cargo_test --lib --bins oidc::tests::real -- --ignored --test-threads 1
# The vault (keyring 4) against the real Secret Service (gnome-keyring).
step cargo_test --lib --bins vault::tests::real_keychain -- --ignored --exact
# The CLI against the real keychain and the real nginx + MLflow fixtures (servers:
# team lists exported and imported; import: plain-text credentials into the keychain;
# workspaces: MLflow with --enable-workspaces behind its auth app;
# trust: project files without the hook, and a second local user's files (needs root).
step cargo_test --test outcomes --test flow --test input --test servers --test import --test trust --test workspaces
# MLflow's own access control, against its real basic-auth app: who the server says you
# are, a user without permission, the password change; single sign-on to the real
# mlflow-oidc-auth (its identity with groups, personal access tokens). One at a time: a
# minted personal token replaces the user's previous one.
step cargo_test --test identity
step cargo_test --test oidc_auth -- --test-threads 1
# Single sign-on through the CLI: login with the scripted browser and with the device code,
# fresh tokens in env/exec/token across an expiry, an ended session, logout's revocation.
# One at a time: a test ends every session of the IdP's user.
step cargo_test --test sso -- --test-threads 1
# The local proxy against the real fixtures: curl and MLflow's Python client through it to
# nginx, the sub-path, MLflow's auth app and the SSO proxy (a run across three token
# lifetimes), attacks seen from nginx's log, a second local user (useradd), faults, a large
# artifact with bounded memory. One at a time: a test ends every session of the IdP's user.
tests/proxy/node/install.sh # the Node MLflow client
step cargo_test --test proxy -- --test-threads 1
# Faults against real parts, each in a world of its own: a Secret Service that never
# answers, gnome-keyring killed and restarted, a locked keyring with no display, a
# read-only and a full config folder, commands killed with SIGKILL mid-change (a short
# run: STRESS_CYCLES=15; `make stress` runs a long one).
step tests/faults/run.sh
# Real bash, zsh, fish, dash: hooks, round trips (PROPTEST_CASES random batches, 64 by
# default), zero processes per prompt.
step tests/shell/run.sh
# `env --format dotenv` read back by the real python-dotenv and npm dotenv.
step tests/dotenv/run.sh
# The UI: vitest + mockIPC, then Playwright in Debian's Chromium.
step tests/ui/run.sh
# The MLflow auth plugin (pytest) with the real MLflow client.
step tests/python/run.sh
# The tray app: tauri::test commands, the real tray menu over D-Bus under Xvfb, a hung keychain.
MLL_PROFILE=debug step tests/tray/run.sh
# Notifications against a notification server on a private bus: server text arrives escaped.
step tests/tray/notify.sh
# The real app end to end through tauri-driver + WebKitWebDriver: wrong password, right
# password (in the keychain, seen by secret-tool), switching servers.
MLL_NO_BUILD=1 step tests/e2e/run.sh
# The .deb (Tauri bundler) installs with dpkg -i and runs. Bundled from the debug build
# the suites above used (MLL_PACKAGE_FAST): what is tested here is the packaging, and a
# release build would compile every dependency a second time; `make build` / `make
# package` still build what ships.
MLL_PACKAGE_FAST=1 step tests/package/run.sh
echo
echo "all suites passed"
