#!/usr/bin/env bash
# Faults against real parts: a Secret Service that never answers, gnome-keyring
# killed and restarted, a locked keyring with no prompt possible, a read-only and a full
# config folder, and concurrent CLI processes killed with SIGKILL (tests/faults/stress.sh).
#
#   tests/faults/run.sh [hung|killed|restart|locked|readonly|full|stress ...]   (default: all)
#
# Each scenario runs in a world of its own (tests/faults/lib.sh): HOME, D-Bus session bus,
# keyring. Needs the debug CLI (cargo build -p mlflow-login, or MLL_BIN), dbus,
# gnome-keyring, python3-dbus + python3-gi, and root for the tmpfs of `full`/`readonly`.
# STRESS_CYCLES (default 15) sets the length of the stress run.
set -euo pipefail
# shellcheck source=tests/faults/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_tools

# Every command that needs the keychain, against a Secret Service that takes the calls
# and never answers: exit 5 with "did not answer within 10 s" (the headless bound), and
# the config as it was. `list` lists from the config and says the keychain did not answer.
scenario_hung() {
    world_up hung
    printf '[servers.x]\nurl = "http://127.0.0.1:9/x"\nusername = "u"\n' >"$W/config/config.toml"
    cp "$W/config/config.toml" "$W/before"
    hung_up
    local cmds=("login y --url http://127.0.0.1:9/y --username u --password-stdin --no-verify"
        "env x" "status x" "logout x" "list --json") i pids=()
    local start=$SECONDS
    for i in "${!cmds[@]}"; do
        mkdir -p "$W/$i"
        # shellcheck disable=SC2030,SC2086 # W is the subshell's own; the commands are word lists
        (W=$W/$i && mll_pw pw ${cmds[$i]} && echo "$rc" >"$W/rc") &
        pids+=($!)
    done
    wait "${pids[@]}"
    echo "  hung: ${#cmds[@]} commands returned after $((SECONDS - start)) s (bound 10 s each, run together)"
    # shellcheck disable=SC2031 # the subshells changed their own W, not this one
    local top=$W
    for i in 0 1 2 3 4; do
        W=$top/$i rc=$(cat "$top/$i/rc")
        if ((i < 4)); then
            expect_keychain_error timeout "${cmds[$i]} (hung keychain)"
            continue
        fi
        expect_rc 0 "list --json (hung keychain)"
        expect_in err "the keychain did not answer within 10 s" "list --json (hung keychain)"
        python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert [e["name"] for e in s]==["x"] and s[0]["has_secret"] is None, s' "$W/out" ||
            fail "list --json (hung keychain): want server x with has_secret null"
    done
    W=$top
    cmp -s "$W/before" "$W/config/config.toml" || fail "the config changed while the keychain hung"
}

# gnome-keyring killed (SIGKILL) mid-session: every keychain command fails with exit 5 and
# changes nothing; started again with the same files and password, everything is there.
scenario_killed() {
    world_up killed
    keyring_up
    mll_pw 'first pässword' login a --url http://127.0.0.1:9/a --username u --password-stdin --no-verify
    expect_rc 0 "login a"
    cp "$W/config/config.toml" "$W/before"
    kill -9 "$(owner_pid org.freedesktop.secrets)"
    wait_secrets down
    mll env a
    expect_keychain_error unavailable "env a (keyring killed)"
    mll_pw pw login b --url http://127.0.0.1:9/b --username u --password-stdin --no-verify
    expect_keychain_error unavailable "login b (keyring killed)"
    mll status a
    expect_keychain_error unavailable "status a (keyring killed)"
    mll logout a
    expect_keychain_error unavailable "logout a (keyring killed)"
    cmp -s "$W/before" "$W/config/config.toml" || fail "the config changed while the keyring was gone"

    keyring_up
    mll env a --format json
    expect_rc 0 "env a (keyring restarted)"
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["MLFLOW_TRACKING_PASSWORD"]=="first pässword"' "$W/out" ||
        fail "env a after the restart: the password did not survive"
    mll_pw 'second' login b --url http://127.0.0.1:9/b --username u --password-stdin --no-verify
    expect_rc 0 "login b (keyring restarted)"
    mll list --json
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert {e["name"]: e["has_secret"] for e in s}=={"a": True, "b": True}, s' "$W/out" ||
        fail "list --json after the restart: want a and b with passwords"
}

# One long-lived process (as the tray is) across a gnome-keyring restart: the vault
# reopens keyring's store instead of failing until the process restarts
# (crates/core/src/vault.rs, reopens_the_store_after_a_keyring_restart, which restarts it).
scenario_restart() {
    world_up restart
    keyring_up
    MLL_FAULTS_KEYRING_PASSWORD=$KEYRING_PASSWORD cargo_test -q --lib --bins \
        vault::tests::reopens_the_store_after_a_keyring_restart -- --ignored --exact >"$W/out" 2>&1 ||
        fail "the vault did not survive a keyring restart"
    owner_pid org.freedesktop.secrets >>"$W/keyring.pid"
}

# The login keyring locked and no display: no unlock prompt can appear, so each command
# fails at once with exit 5 and the fix; the fix (unlock) makes it work again.
scenario_locked() {
    world_up locked
    keyring_up
    mll_pw pw login a --url http://127.0.0.1:9/a --username u --password-stdin --no-verify
    expect_rc 0 "login a"
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null ||
        fail "could not lock the keyring"
    mll env a
    expect_keychain_error locked "env a (locked)"
    mll status a
    expect_keychain_error locked "status a (locked)"
    mll_pw pw login b --url http://127.0.0.1:9/b --username u --password-stdin --no-verify
    expect_keychain_error locked "login b (locked)"
    mll logout a
    expect_keychain_error locked "logout a (locked)"
    # The help's fix, headless: `gnome-keyring-daemon --unlock` unlocks only as it starts
    # (given to a running daemon, it leaves the keyring locked), so stop the daemon first.
    kill "$(owner_pid org.freedesktop.secrets)"
    wait_secrets down
    keyring_up
    mll env a --format json
    expect_rc 0 "env a (unlocked again)"
}

# A config write that cannot happen (read-only folder, or a full disk: a 64 KiB tmpfs
# filled up) fails with the OS's reason and the path, and leaves config.toml as it was.
# What a failed `login` wrote to the keychain first is reported by `doctor`.
config_write_fails() { # ro|full
    world_up "$1"
    [[ $EUID == 0 ]] || fail "the $1 scenario mounts a tmpfs: run as root (CI does)"
    mount -t tmpfs -o size=64k,mode=0700 mll-faults "$W/config" || fail "cannot mount a tmpfs on $W/config"
    keyring_up
    local n
    for n in a b; do
        mll_pw pw login $n --url "http://127.0.0.1:9/$n" --username u --password-stdin --no-verify
        expect_rc 0 "login $n"
    done
    cp "$W/config/config.toml" "$W/before"
    local reason
    if [[ $1 == ro ]]; then
        mount -o remount,ro "$W/config"
        reason="Read-only file system"
    else
        dd if=/dev/zero of="$W/config/fill" bs=4k >/dev/null 2>&1 || true
        reason="No space left on device"
    fi
    local args
    for args in "use a" "rename a c" "remove b" "login c --url http://127.0.0.1:9/c --username u --password-stdin --no-verify"; do
        # shellcheck disable=SC2086 # word lists
        mll_pw pw $args
        [[ $rc == 1 ]] || fail "$args ($1 config): exit $rc, want 1"
        expect_in err "$reason" "$args ($1 config)"
        expect_in err "$W/config" "$args ($1 config)"
        cmp -s "$W/before" "$W/config/config.toml" || fail "$args ($1 config): config.toml changed"
    done
    if [[ $1 == ro ]]; then mount -o remount,rw "$W/config"; else rm "$W/config/fill"; fi
    mll use b
    expect_rc 0 "use b (config writable again)"
    # Nothing lost: the failed `remove b` kept b's password with b.
    mll list --json
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert {e["name"]: e["has_secret"] for e in s}=={"a": True, "b": True}, s' "$W/out" ||
        fail "list --json after the $1 config: want a and b with passwords"
    # The failed `login c`: on a read-only folder the config lock cannot even be taken, so the
    # keychain is never written; on a full disk the lock is taken and the keychain written
    # (first, as always), then the config write fails: `doctor` names the entry left behind.
    local left
    left=$(secret-tool lookup service "${MLFLOW_LOGIN_KEYCHAIN_PREFIX}http://127.0.0.1:9/c" username basic:u 2>/dev/null) || true
    mll doctor
    if [[ $1 == ro ]]; then
        [[ -z "$left" ]] || fail "login c on a read-only config folder wrote the keychain"
    else
        [[ -n "$left" ]] || fail "login c on a full disk: want its keychain entry left for doctor to report"
        expect_in out "keychain entry with no server" "doctor after a failed login"
    fi
}
scenario_readonly() { config_write_fails ro; }
scenario_full() { config_write_fails full; }

scenario_stress() {
    STRESS_CYCLES=${STRESS_CYCLES:-15} "$faults_dir/stress.sh"
}

scenarios=("$@")
((${#scenarios[@]})) || scenarios=(hung killed restart locked readonly full stress)
for s in "${scenarios[@]}"; do
    declare -F "scenario_$s" >/dev/null || fail "unknown scenario $s"
    printf '== fault: %s\n' "$s"
    ("scenario_$s")
done
echo "faults: ${scenarios[*]}: passed"
