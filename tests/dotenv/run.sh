#!/usr/bin/env bash
# `env --format dotenv` against the real readers it writes for: hostile and
# generated passwords must come back unchanged from python-dotenv (PyPI) and npm `dotenv`
# (both of its parsers), or be refused.
#
# Installs the two pinned readers once into ${MLL_CACHE:-~/.cache/mlflow-login}/dotenv-py
# and .../dotenv-npm (a marker file records a finished install). PROPTEST_CASES sets the
# number of random batches (64 by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
# shellcheck source=tests/lib.sh
source tests/lib.sh

PY_SPEC='python-dotenv==1.2.4'
NPM_SPEC='dotenv@18.0.10'

cache=${MLL_CACHE:-$HOME/.cache/mlflow-login}
log() { printf 'tests/dotenv: %s\n' "$*" >&2; }

python=${MLL_PYTHON:-python3}
for tool in "$python" node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        log "missing $tool: apt-get install python3 python3-venv nodejs npm (or scripts/install-deps.sh)"
        exit 1
    fi
done

mkdir -p "$cache"
exec 9>"$cache/dotenv.lock"
flock -w 600 9 || { log "timed out waiting for $cache/dotenv.lock"; exit 1; }

py=$cache/dotenv-py
if [[ "$(cat "$py/.mll-installed" 2>/dev/null)" != "$PY_SPEC" ]]; then
    log "installing $PY_SPEC into $py"
    rm -rf "$py"
    "$python" -m venv "$py"
    "$py/bin/pip" install --quiet --disable-pip-version-check "$PY_SPEC"
    printf '%s' "$PY_SPEC" >"$py/.mll-installed"
fi

npm_dir=$cache/dotenv-npm
if [[ "$(cat "$npm_dir/.mll-installed" 2>/dev/null)" != "$NPM_SPEC" ]]; then
    log "installing $NPM_SPEC into $npm_dir"
    rm -rf "$npm_dir"
    mkdir -p "$npm_dir"
    (cd "$npm_dir" && npm install --silent --no-audit --no-fund --no-save "$NPM_SPEC" >/dev/null)
    printf '%s' "$NPM_SPEC" >"$npm_dir/.mll-installed"
fi
exec 9>&-

export MLL_DOTENV_PYTHON=$py/bin/python MLL_DOTENV_NPM=$npm_dir
export PROPTEST_CASES=${PROPTEST_CASES:-64}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}

cargo_test --lib --bins shell::formats::tests::real_ -- --ignored
