#!/usr/bin/env bash
# The MLflow auth plugin's tests (python/tests, pytest) against the real fixtures.
#
#   tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/python/run.sh [PYTEST ARGS...]
#
# Needs the private keychain (with-keyring.sh: MLL_TEST_HOME) and the fixture servers
# (with-servers.sh: MLL_MLFLOW_PYTHON, MLL_NGINX_URL, ...), and starts them itself when
# they are not around it and the mlflow-login program
# (tests/python/find-program.sh); the single sign-on tests need the fixture IdP and proxy
# (MLL_OIDC_*). Each missing piece fails the run saying how to get it.
# The plugin runs from its own venv (tests/python/venv.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

root=$PWD
# shellcheck source=tests/lib.sh
source tests/lib.sh
with_fixtures servers "$root/tests/python/run.sh" "$@"
fixtures='run me as: tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/python/run.sh'
[[ -n "${MLL_MLFLOW_PYTHON:-}" ]] || die "no fixture servers (MLL_MLFLOW_PYTHON not set); $fixtures"
# test_sso.py: four processes across three token expiries, against the SSO fixtures.
[[ -n "${MLL_OIDC_PROXY_URL:-}" && -n "${MLL_OIDC_ADMIN_URL:-}" ]] ||
    die "no SSO fixtures (MLL_OIDC_PROXY_URL / MLL_OIDC_ADMIN_URL not set); $fixtures"

MLFLOW_LOGIN_BIN=$(tests/python/find-program.sh) || exit 1
export MLFLOW_LOGIN_BIN
py=$(tests/python/venv.sh) || exit 1

# pytest exits 5 when it collected nothing: a failure here, never a pass.
rc=0
"$py" -m pytest -p no:cacheprovider python/tests "$@" || rc=$?
if ((rc == 5)); then
    die "pytest collected no tests"
fi
exit "$rc"
