# Sourced by the test scripts, after they set $root (the repository): die, need, and the
# build of the app they test.
# shellcheck shell=bash

: "${root:?the caller sets root}"

# die MESSAGE: prints "tests/x/y.sh: MESSAGE" and exits 1.
die() {
    printf '%s: %s\n' "${0#"$root"/}" "$*" >&2
    exit 1
}

# need COMMAND HOW-TO-INSTALL: fails, saying how to get it, when COMMAND is missing.
need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"
}

# cargo_test ARGS...: `cargo test` with the whole workspace selected; ARGS pick the tests
# (--exclude, --lib, --bin NAME, --test NAME, a filter). Cargo resolves dependency features
# for the packages selected, so `cargo test -p CRATE` alone would compile the shared
# dependencies (tokio and the ~150 crates above it) once more for CRATE's own feature set,
# two to three minutes on a fresh machine for each such set. One selection, one build.
# A selection of --lib alone leaves the CLI (a binary, no library) out of the resolve and
# is another set again: name --bins with it (or an integration test).
cargo_test() {
    cargo test --workspace "$@"
}

# build_app PROFILE: builds the tray and the CLI, debug or release. A release CLI is built on
# its own: built together, cargo would give it the tray's tokio features (see Cargo.toml).
build_app() {
    if [[ $1 == release ]]; then
        cargo build --release -p mlflow-login
        cargo build --release -p mlflow-login-tray
    else
        cargo build -p mlflow-login-tray -p mlflow-login
    fi
}

# app_bins PROFILE: exports MLL_TRAY_BIN and MLL_CLI_BIN, the binaries of that build.
app_bins() {
    export MLL_TRAY_BIN=$CARGO_TARGET_DIR/$1/mlflow-login-tray MLL_CLI_BIN=$CARGO_TARGET_DIR/$1/mlflow-login
}

# with_fixtures keychain|servers "$0" "$@": runs the calling script again inside the fixture
# wrappers it needs and is not yet inside: the private keychain (tests/fixtures/with-keyring.sh),
# and for `servers` also the fixture servers (with-servers.sh). `make test` starts every
# suite inside both, so there this returns at once. The one way scripts set fixtures up.
with_fixtures() {
    local need=$1 wrap=()
    shift
    [[ -n "${MLL_TEST_HOME:-}" ]] || wrap+=("$root/tests/fixtures/with-keyring.sh")
    if [[ $need == servers && -z "${MLL_NGINX_URL:-}" ]]; then
        wrap+=("$root/tests/fixtures/with-servers.sh")
    fi
    if ((${#wrap[@]})); then
        exec "${wrap[@]}" "$@"
    fi
}
