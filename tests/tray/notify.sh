#!/usr/bin/env bash
# The tray's notifications against a notification server on a private session bus
# (tests/tray/notify_server.py owns org.freedesktop.Notifications and records each Notify
# call): a server-supplied text reaches the body markup-escaped.
#
#   tests/tray/notify.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"
need dbus-run-session "apt-get install dbus"
need /usr/bin/python3 "apt-get install python3"
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null ||
    die "python3-dbus and python3-gi are missing: apt-get install python3-dbus python3-gi"

# Not yet on a private bus: wrap.
if [[ -z "${MLL_NOTIFY_BUS:-}" ]]; then
    MLL_NOTIFY_BUS=1 exec dbus-run-session -- "$0" "$@"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
export MLL_NOTIFY_LOG=$work/notify.log
/usr/bin/python3 "$here/notify_server.py" "$MLL_NOTIFY_LOG" >"$work/server.out" &
server_pid=$!
for _ in $(seq 100); do
    grep -q ready "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || die "the notification server did not start"
    sleep 0.1
done
grep -q ready "$work/server.out" || die "the notification server never owned org.freedesktop.Notifications"

cd "$root"
cargo_test --lib --bins notify -- --include-ignored
