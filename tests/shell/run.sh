#!/usr/bin/env bash
# Shell integration suite: snapshots, shellcheck, generated-password and property-test
# round trips (core),
# then real bash/zsh/fish/dash in tmux against the real keychain (crates/cli/tests/shell.rs).
#
# Runs inside tests/fixtures/with-keyring.sh and with-servers.sh (the single sign-on tests
# need the fixture IdP and proxy); started alone, it starts them itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

root=$PWD
# shellcheck source=tests/lib.sh
source tests/lib.sh
with_fixtures servers "$root/tests/shell/run.sh" "$@"
missing=()
if [[ -z "${MLL_OIDC_PROXY_URL:-}" ]]; then
    echo "tests/shell/run.sh: no SSO fixtures (MLL_OIDC_PROXY_URL): run it as tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/shell/run.sh" >&2
    exit 1
fi
for tool in bash zsh fish dash tmux strace shellcheck curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "tests/shell/run.sh: missing ${missing[*]}: apt-get install ${missing[*]} (or scripts/install-deps.sh)" >&2
    exit 1
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}
# The property tests' random batches: a fixed count here, more under `make fuzz`.
export PROPTEST_CASES=${PROPTEST_CASES:-64}

cargo_test --lib --bins shell::
cargo_test --bin mlflow-login doctor
# The tmux/strace tests are timing-sensitive on 2 cores: two at a time is plenty.
cargo_test --test shell -- --test-threads 2
