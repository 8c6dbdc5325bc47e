"""The idle tray does no work it does not need: the real tray binary, traced by strace,
with one server whose port is closed (its start-up check fails at once), a StatusNotifier
host on the session bus and the private gnome-keyring.

From start until the check's result is on the menu line, the OS trust store is read once:
for the check's client. The workspaces are asked of a server only once a check is done
and the server answered it (a server that is down lists none), so no second client is
built beside the check; an idle tray keeps the memory each one used. And nothing
listens: the local proxies start on first use.

The trust store is the PEM file in SSL_CERT_FILE (a copy of the system's, so that its opens
are told apart), which rustls-native-certs reads instead of the system's.

Run by tests/tray/run.sh (under xvfb-run, with-keyring.sh). Environment: MLL_TRAY_BIN,
MLL_CLI_BIN. Needs strace, and Debian's python3-dbus and python3-gi.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sni_host import Menu, Watcher, wait_for  # noqa: E402

TRAY = os.environ["MLL_TRAY_BIN"]
CLI = os.environ["MLL_CLI_BIN"]
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def listening_inodes():
    """The socket inodes of every TCP socket in LISTEN state on this machine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    inodes.add(fields[9])
    return inodes


def socket_inodes(pid):
    """The socket inodes among the open files of `pid`."""
    inodes = set()
    fds = f"/proc/{pid}/fd"
    for fd in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def main():
    if shutil.which("strace") is None:
        raise SystemExit("strace is missing: apt-get install strace")
    if not os.path.exists(SYSTEM_BUNDLE):
        raise SystemExit(f"{SYSTEM_BUNDLE} is missing: apt-get install ca-certificates")
    work = tempfile.mkdtemp(prefix="mll-tray-idle.")
    cfg = os.path.join(work, "config")
    os.makedirs(cfg, mode=0o700)
    bundle = os.path.join(work, "roots.pem")
    shutil.copy(SYSTEM_BUNDLE, bundle)
    trace = os.path.join(work, "strace.log")
    env = {**os.environ, "MLFLOW_LOGIN_CONFIG_DIR": cfg, "SSL_CERT_FILE": bundle,
           "MLFLOW_LOGIN_KEYCHAIN_PREFIX": f"mll-tray-idle-{os.getpid()}:"}
    subprocess.run([CLI, "login", "prod", "--url", "http://127.0.0.1:9", "--username", "alice",
                    "--password-stdin", "--no-verify"], input=b"pw", env=env, check=True,
                   stdout=subprocess.DEVNULL)

    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    traced = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace, TRAY], env=env)
    try:
        wait_for(lambda: watcher.items, 60, "the tray to register with the StatusNotifierWatcher")
        _, name, path = watcher.items[0]
        menu = Menu(bus, name, path)
        tray_pid = int(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus").GetConnectionUnixProcessID(
            name, dbus_interface="org.freedesktop.DBus"))

        def checked():
            line = menu.items()[0]["label"]
            return line.startswith("prod — ") and not line.endswith("not checked yet") and line

        line = wait_for(checked, 60, "the start-up check's result on the menu line")
        print("after the start-up check:", line)

        listening = socket_inodes(tray_pid) & listening_inodes()
        assert not listening, f"the idle tray listens on {len(listening)} TCP socket(s)"

        menu.click("Quit")
        traced.wait(timeout=30)
    finally:
        if traced.poll() is None:
            traced.terminate()
            traced.wait(timeout=30)

    with open(trace) as f:
        reads = [line.strip() for line in f if f'"{bundle}"' in line]
    shutil.rmtree(work, ignore_errors=True)
    assert len(reads) == 1, (f"the trust store was read {len(reads)} times from start to the first check's "
                             "result; once is the check's client:\n" + "\n".join(reads))
    print("trust store reads from start to the first check's result: 1; listening sockets: none")


if __name__ == "__main__":
    main()
