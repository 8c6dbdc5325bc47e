#!/usr/bin/env bash
# Benchmark of the MLflow auth plugin: per-request overhead against a hard-coded
# requests HTTPBasicAuth (target <= 50 us), processes per request (target 0), and the
# first request's cost of asking the program vs reading config + keychain with Python
# `keyring`; for single sign-on (the fixture IdP and proxy), the per-request overhead with a
# fresh token (same target) and the refreshes per token expiry with four processes (target
# 1). Prints a table; exits 1 when a target is missed.
#
#   tests/bench/plugin.sh          # starts the private keychain and the fixtures itself
#
# Option B's `keyring` lives in its own venv ($MLL_CACHE/keyring-venv, from PyPI once);
# the plugin never uses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ -z "${MLL_TEST_HOME:-}" || -z "${MLL_NGINX_URL:-}" ]]; then
    exec tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh "$0" "$@"
fi

die() {
    printf 'tests/bench/plugin.sh: error: %s\n' "$*" >&2
    exit 1
}

MLFLOW_LOGIN_BIN=$(tests/python/find-program.sh) || exit 1
export MLFLOW_LOGIN_BIN
py=$(tests/python/venv.sh) || exit 1

cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}
kr=$cache/keyring-venv
if [[ ! -x "$kr/bin/python" ]] || ! "$kr/bin/python" -c 'import keyring' 2>/dev/null; then
    echo "tests/bench/plugin.sh: installing keyring into $kr (for the comparison only)" >&2
    rm -rf "$kr"
    "$MLL_MLFLOW_PYTHON" -m venv "$kr"
    PIP_CACHE_DIR=$cache/pip-cache "$kr/bin/python" -m pip install --quiet --disable-pip-version-check keyring >&2 ||
        die "pip install keyring failed (needs PyPI once)"
fi

echo "program: $MLFLOW_LOGIN_BIN"
exec "$py" tests/bench/plugin.py --keyring-python "$kr/bin/python" "$@"
