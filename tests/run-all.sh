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

# Each step's time, printed at the end (also when a step fails): where `make test` goes.
times=()
report_times() {
    ((${#times[@]})) || return 0
    printf '\n==> time per step\n'
    printf '%s\n' "${times[@]}"
}
trap report_times EXIT

step() {
    printf '\n==> %s\n' "$*"
    local start=$SECONDS rc=0
    "$@" || rc=$?
    times+=("$(printf '%5ds  %s' $((SECONDS - start)) "$*")")
    return "$rc"
}

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

# House style: formatted, and clippy-clean with warnings as errors.
step cargo fmt --all --check
step cargo clippy --workspace --all-targets -- -D warnings
# Unit and snapshot tests of the workspace, the tray's tauri::test command tests.
step cargo test --workspace --exclude mlflow-login
# The ignored tests of core's lib are selected as the step above selects (the workspace but
# the CLI), so they are built with the same features: `-p mlflow-login-core` alone would
# compile every dependency again for core's own feature set (a minute and a half on a fresh
# machine). The tray's lib has no test of these names.
# The verifier against the real nginx + MLflow fixtures, row by row.
step cargo test --workspace --exclude mlflow-login --lib verify::tests::real_fixture -- --ignored --exact
# Single sign-on against the real IdP (oidc-provider), its scripted browser and the
# mod_auth_openidc proxy: discovery, both flows, refresh rotation, replay, revocation. One
# test at a time: the device test forces slow_down for the next poll of any client.
step cargo test --workspace --exclude mlflow-login --lib oidc::tests::real -- --ignored --test-threads 1
# The vault (keyring 4) against the real Secret Service (gnome-keyring).
step cargo test --workspace --exclude mlflow-login --lib vault::tests::real_keychain -- --ignored --exact
# The CLI against the real keychain and the real nginx + MLflow fixtures (servers:
# team lists exported and imported; import: plain-text credentials into the keychain;
# workspaces: MLflow with --enable-workspaces behind its auth app;
# trust: project files without the hook, and a second local user's files (needs root).
step cargo test -p mlflow-login --bins --test outcomes --test flow --test input --test servers --test import --test trust --test workspaces
# MLflow's own access control, against its real basic-auth app: who the server says you
# are, a user without permission, the password change; single sign-on to the real
# mlflow-oidc-auth (its identity with groups, personal access tokens). One at a time: a
# minted personal token replaces the user's previous one.
step cargo test -p mlflow-login --test identity
step cargo test -p mlflow-login --test oidc_auth -- --test-threads 1
# Single sign-on through the CLI: login with the scripted browser and with the device code,
# fresh tokens in env/exec/token across an expiry, an ended session, logout's revocation.
# One at a time: a test ends every session of the IdP's user.
step cargo test -p mlflow-login --test sso -- --test-threads 1
# The local proxy against the real fixtures: curl and MLflow's Python client through it to
# nginx, the sub-path, MLflow's auth app and the SSO proxy (a run across three token
# lifetimes), attacks seen from nginx's log, a second local user (useradd), faults, a large
# artifact with bounded memory. One at a time: a test ends every session of the IdP's user.
(cd tests/proxy/node && npm ci --no-audit --no-fund --silent) # the Node MLflow client
step cargo test -p mlflow-login --test proxy -- --test-threads 1
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
