#!/usr/bin/env bash
# Create or reuse the venv with the MLflow auth plugin installed, and print its python.
#
#   py=$(tests/python/venv.sh)     # -> ${MLL_CACHE:-$HOME/.cache/mlflow-login}/plugin-venv-HASH/bin/python
#
# The plugin is installed with `pip install -e python/` into its own venv, which sees the
# fixture venv's packages (MLflow 3.17.2, pytest; tests/fixtures/mlflow-venv.sh) through a
# .pth file: the shared fixture venv itself is never changed. Reinstalled only when
# python/pyproject.toml or the fixture venv changes; the source is live (editable).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD

die() {
    printf 'tests/python/venv.sh: error: %s\n' "$*" >&2
    exit 1
}

fixture_py=${MLL_MLFLOW_PYTHON:-}
if [[ -z "$fixture_py" ]]; then
    fixture_py=$(tests/fixtures/mlflow-venv.sh)/bin/python || die "tests/fixtures/mlflow-venv.sh failed"
fi
[[ -x "$fixture_py" ]] || die "$fixture_py is not executable; run tests/fixtures/mlflow-venv.sh"

cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}
# One venv per checkout: the install is editable (it points at this checkout's source), so
# two checkouts sharing one would each test the other's plugin, or delete it mid-run.
venv=$cache/plugin-venv-$(printf '%s' "$repo" | sha256sum | cut -c1-12)
mkdir -p "$cache"
exec 9>"$cache/plugin-venv.lock"
flock -w 600 9 || die "timed out waiting for $cache/plugin-venv.lock"
fixture_site=$("$fixture_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
want="$fixture_site $(sha256sum python/pyproject.toml | cut -d' ' -f1) $repo"
if [[ ! -f "$venv/.mll-installed" || "$(cat "$venv/.mll-installed")" != "$want" ]]; then
    echo "tests/python/venv.sh: installing the plugin into $venv" >&2
    rm -rf "$venv"
    "$fixture_py" -m venv --without-pip "$venv"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # After the venv's own site-packages: the plugin's install wins over anything there.
    printf '%s\n' "$fixture_site" >"$site/zz-mll-fixture-venv.pth"
    # The build backend (setuptools, wheel) comes from PyPI, once per venv; pip's cache
    # lives with ours, since with-keyring.sh gives every run a new HOME.
    PIP_CACHE_DIR=$cache/pip-cache "$venv/bin/python" -m pip install --quiet \
        --disable-pip-version-check --no-deps -e python/ >&2 ||
        die "pip install -e python/ failed (see above; it needs PyPI for setuptools once)"
    printf '%s\n' "$want" >"$venv/.mll-installed"
fi
flock -u 9

"$venv/bin/python" - <<'PY' || die "the plugin is not registered on mlflow.request_auth_provider in $venv (delete the venv and rerun)"
import importlib.metadata as m, sys
eps = [e for e in m.entry_points(group="mlflow.request_auth_provider") if e.name == "mlflow-login"]
sys.exit(0 if eps else 1)
PY
printf '%s\n' "$venv/bin/python"
