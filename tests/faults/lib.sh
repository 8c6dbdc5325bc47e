# shellcheck shell=bash
# Helpers of the fault tests (tests/faults/run.sh, tests/faults/stress.sh): a private
# world per scenario, with its own HOME, its own D-Bus session bus and, when asked, its own
# gnome-keyring or a Secret Service that never answers.
#
# The bus is a dbus-daemon of our own with no service directories: nothing is started on
# demand, so a keyring that was killed stays gone until the test restarts it (a desktop
# session would start a fresh, locked one: the locked scenario covers that).

faults_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$faults_dir/../.." && pwd)
# cargo_test (its own need and fail follow).
root=$repo_root
# shellcheck source=tests/lib.sh
source "$repo_root/tests/lib.sh"
BIN=${MLL_BIN:-${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}/debug/mlflow-login}
KEYRING_PASSWORD=mll-faults-keyring

need() { # command, how to get it
    command -v "$1" >/dev/null 2>&1 || fail "'$1' is missing: $2"
}

fail() {
    echo "FAIL: $*" >&2
    for f in "${W:-/nonexistent}"/out "${W:-/nonexistent}"/err; do
        [[ -s "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

check_tools() {
    [[ -x "$BIN" ]] || fail "no CLI at $BIN: cargo build -p mlflow-login (or set MLL_BIN)"
    need dbus-daemon "apt-get install dbus"
    need dbus-send "apt-get install dbus"
    need gnome-keyring-daemon "apt-get install gnome-keyring"
    need secret-tool "apt-get install libsecret-tools"
    /usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || fail "python3-dbus / python3-gi are missing: apt-get install python3-dbus python3-gi"
}

# world_up NAME: a fresh world in $W; exports HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS and the
# CLI's config dir and keychain prefix. No display: no unlock prompt can appear.
world_up() {
    # cargo and rustup (the restart scenario) keep the caller's, not the world's HOME.
    export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
    W=$(mktemp -d "${TMPDIR:-/tmp}/mll-fault-$1.XXXXXX")
    mkdir -p "$W/home/.local/share" "$W/home/.config" "$W/run" "$W/config"
    chmod 700 "$W" "$W/run"
    export HOME=$W/home XDG_RUNTIME_DIR=$W/run XDG_DATA_HOME=$W/home/.local/share XDG_CONFIG_HOME=$W/home/.config
    export MLFLOW_LOGIN_CONFIG_DIR=$W/config MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-faults-$$:" NO_COLOR=1
    unset DISPLAY WAYLAND_DISPLAY MLFLOW_LOGIN_KEYCHAIN_TIMEOUT GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_TRACKING_TOKEN
    local addr
    addr=$(dbus-daemon --config-file="$faults_dir/session-bus.conf" --address="unix:dir=$W/run" --fork \
        --print-address=1 --print-pid=3 3>"$W/bus.pid") ||
        fail "dbus-daemon did not start"
    export DBUS_SESSION_BUS_ADDRESS=$addr
    trap world_down EXIT
}

# Stops what world_up and the scenario started (by the pids we recorded), removes $W.
world_down() {
    local pid
    [[ -n "${W:-}" && -d "$W" ]] || return 0
    cat "$W"/*.pid 2>/dev/null | while read -r pid; do
        kill "$pid" 2>/dev/null || true
    done
    mountpoint -q "$W/config" && umount -l "$W/config"
    rm -rf "$W"
    W=
}

# The pid of the process owning NAME on our bus (empty when nobody owns it).
owner_pid() {
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null | awk '{ print $2 }'
}

# Waits until the Secret Service name is owned (up) or not (down).
wait_secrets() { # up|down
    local i
    for ((i = 0; i < 200; i++)); do
        if [[ -n "$(owner_pid org.freedesktop.secrets)" ]]; then
            [[ $1 == up ]] && return 0
        else
            [[ $1 == down ]] && return 0
        fi
        sleep 0.05
    done
    fail "org.freedesktop.secrets never went $1"
}

# Starts (or restarts) gnome-keyring with the world's login keyring, unlocked with
# KEYRING_PASSWORD (a new keyring the first time, the same files after).
keyring_up() {
    printf '%s' "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 ||
        fail "gnome-keyring-daemon --unlock failed"
    wait_secrets up
    owner_pid org.freedesktop.secrets >>"$W/keyring.pid"
}

# The never-answering Secret Service (tests/fixtures/hung_secret_service.py).
hung_up() {
    "$repo_root/tests/fixtures/hung_secret_service.py" >/dev/null &
    echo $! >>"$W/hung.pid"
    wait_secrets up
}

# mll ARGS...: the CLI, bounded by `timeout 60` so a hang fails the test instead of
# blocking it; stdout in $W/out, stderr in $W/err; the exit status in $rc.
mll() {
    rc=0
    timeout -k 5 60 "$BIN" "$@" <"${MLL_STDIN:-/dev/null}" >"$W/out" 2>"$W/err" || rc=$?
    [[ $rc != 124 && $rc != 137 ]] || fail "mlflow-login $* did not return within 60 s"
}

# mll_pw PASSWORD ARGS...: the CLI with PASSWORD on stdin.
mll_pw() {
    local pw=$1
    shift
    printf '%s' "$pw" >"$W/stdin"
    MLL_STDIN=$W/stdin mll "$@"
    rm -f "$W/stdin"
}

expect_rc() { # code, what
    [[ $rc == "$1" ]] || fail "$2: exit $rc, want $1"
}

expect_in() { # file, text, what
    grep -qF -- "$2" "$W/$1" || fail "$3: $1 does not say '$2'"
}

# The keychain error of one kind: exit 5, the kind's own message and its help line.
expect_keychain_error() { # kind, what
    expect_rc 5 "$2"
    case $1 in
    timeout) expect_in err "the keychain did not answer within 10 s" "$2" && expect_in err "help: the Secret Service may be hung" "$2" ;;
    locked) expect_in err "the keychain is locked" "$2" && expect_in err "help: unlock your keyring" "$2" ;;
    unavailable) expect_in err "the keychain is not available" "$2" && expect_in err "help: start a Secret Service" "$2" ;;
    *) fail "unknown kind $1" ;;
    esac
}
