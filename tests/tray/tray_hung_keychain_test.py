"""The tray under a Secret Service that never answers: the real tray binary on a
bus of its own where tests/fixtures/hung_secret_service.py owns org.freedesktop.secrets,
a StatusNotifier host on that bus, the menu read and clicked through com.canonical.dbusmenu.

The menu's first line says the keychain is not answering (in the CLI's words: "the keychain
did not answer within N s"), and the menu still works meanwhile: clicking the other server
switches the active one in config.toml, and the menu is rebuilt for it before the
keychain's answer about it (which never comes) is given up on.

Run by tests/tray/run.sh (under xvfb-run). Environment: MLL_TRAY_BIN. Needs dbus-daemon and
Debian's python3-dbus and python3-gi.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sni_host import Menu, Watcher, wait_for  # noqa: E402

TRAY = os.environ["MLL_TRAY_BIN"]
HUNG = os.path.join(HERE, "..", "fixtures", "hung_secret_service.py")
# The keychain bound (MLFLOW_LOGIN_KEYCHAIN_TIMEOUT; the tray's default with a display is
# 120 s): short for the test, long enough that the line for the switched-to server is seen
# while its keychain read is still waiting, on a loaded box too.
BOUND = 15
CONFIG = """active = "prod"

[servers.prod]
url = "http://127.0.0.1:9/prod"
username = "alice"

[servers.staging]
url = "http://127.0.0.1:9/staging"
username = "bob"
"""


def private_bus(work):
    """A session bus of our own, starting no services (no portal, no keyring): (address,
    dbus-daemon process)."""
    if shutil.which("dbus-daemon") is None:
        raise SystemExit("dbus-daemon is missing: apt-get install dbus")
    conf = os.path.join(HERE, "..", "faults", "session-bus.conf")
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={conf}", f"--address=unix:dir={work}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, text=True)
    return daemon.stdout.readline().strip(), daemon


def active_in(cfg):
    with open(os.path.join(cfg, "config.toml"), "rb") as f:
        return tomllib.load(f).get("active")


def main():
    work = tempfile.mkdtemp(prefix="mll-tray-hung.")
    cfg = os.path.join(work, "config")
    os.makedirs(cfg, mode=0o700)
    with open(os.path.join(cfg, "config.toml"), "w") as f:
        f.write(CONFIG)
    address, daemon = private_bus(work)
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "MLFLOW_LOGIN_CONFIG_DIR": cfg,
           "MLFLOW_LOGIN_KEYCHAIN_TIMEOUT": str(BOUND)}
    procs = [daemon]
    try:
        ready = os.path.join(work, "hung.ready")
        procs.append(subprocess.Popen(["/usr/bin/python3", HUNG, "--ready-file", ready], env=env,
                                      stdout=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(ready), 20, "the hung Secret Service to own org.freedesktop.secrets")

        bus = dbus.bus.BusConnection(address)
        watcher = Watcher(bus)
        tray = subprocess.Popen([TRAY], env=env)
        procs.append(tray)
        wait_for(lambda: watcher.items, 20, "the tray to register with the StatusNotifierWatcher")
        _, name, path = watcher.items[0]
        menu = Menu(bus, name, path)

        def line():
            return menu.items()[0]["label"]

        def line_until(predicate, timeout, what):
            def says():
                s = line()
                return predicate(s) and s

            try:
                return wait_for(says, timeout, what)
            except AssertionError as e:
                raise AssertionError(f"{e}; the line says {line()!r}") from None

        hung = f"the keychain did not answer within {BOUND} s"
        got = line_until(lambda s: s.startswith("prod — alice @ ") and hung in s, BOUND + 30,
                         "the menu line to say the keychain is not answering")
        print("status with a hung keychain:", got)

        # The menu works meanwhile: a click switches, and the menu follows at once, without
        # waiting on the keychain (which is asked about staging now, and hangs again).
        menu.click("staging")
        wait_for(lambda: active_in(cfg) == "staging", 10, "config.toml to have staging active")
        first = line_until(lambda s: s.startswith("staging — "), BOUND + 30, "the menu line to name staging")
        assert first == "staging — bob @ 127.0.0.1:9 — not checked yet", first
        checked = [i["label"] for i in menu.items() if i["toggle_type"] == "checkmark" and i["toggle_state"] == 1]
        assert "staging" in checked and "prod" not in checked, checked
        got = line_until(lambda s: hung in s, 2 * BOUND + 30, "the line to say so for staging too")
        assert got.startswith("staging — bob @ "), got
        print("after switching:", got)

        # Quit still works.
        menu.click("Quit")
        tray.wait(timeout=20)
        assert tray.returncode == 0, tray.returncode
        print("tray under a hung keychain: OK")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
