"""The tray menu for real: the built tray binary, the real gnome-keyring, a StatusNotifier
host on the private session bus, the menu read and clicked through com.canonical.dbusmenu.

Run by tests/tray/run.sh (inside tests/fixtures/with-keyring.sh and xvfb-run).
Environment: MLL_TRAY_BIN, MLL_CLI_BIN (built binaries).
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import app_processes, descendants  # noqa: E402
from sni_host import Menu, Watcher, pump, wait_for  # noqa: E402

TRAY = os.environ["MLL_TRAY_BIN"]
CLI = os.environ["MLL_CLI_BIN"]


def cli(env, *args, stdin=None):
    r = subprocess.run([CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"mlflow-login {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def active(env):
    return [s["name"] for s in json.loads(cli(env, "list", "--json")) if s["active"]]


def checked(menu):
    return sorted(i["label"] for i in menu.items() if i["toggle_type"] == "checkmark" and i["toggle_state"] == 1)


def maps(pid):
    """The files mapped into a process."""
    with open(f"/proc/{pid}/maps") as f:
        return f.read()


def webkit_children(pid):
    """WebKit processes among the tray's descendants."""
    return [comm for _, comm in descendants(pid) if "WebKit" in comm]


def main():
    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    cfg = tempfile.mkdtemp(prefix="mll-tray-cfg.")
    env = dict(os.environ)
    env["MLFLOW_LOGIN_CONFIG_DIR"] = cfg
    env["MLFLOW_LOGIN_KEYCHAIN_PREFIX"] = f"mll-tray-test-{secrets.token_hex(4)}:"
    # Checks go to a closed port: fast, and never a real server.
    for name, user in (("prod", "alice"), ("staging", "bob")):
        cli(env, "login", name, "--url", "http://127.0.0.1:9", "--username", user, "--password-stdin", "--no-verify",
            stdin="pw-" + secrets.token_hex(4))
    assert active(env) == ["prod"], active(env)

    t0 = time.monotonic()
    tray = subprocess.Popen([TRAY], env={**env, "SHELL": "/usr/bin/fish"})
    try:
        wait_for(lambda: watcher.items, 20, "the tray to register with the StatusNotifierWatcher")
        ready_ms = (watcher.items[0][0] - t0) * 1000
        print(f"tray registered after {ready_ms:.0f} ms")
        _, name, path = watcher.items[0]
        menu = Menu(bus, name, path)

        # The menu as a panel sees it: status line, radio list, every action.
        wait_for(lambda: menu.find("prod") is not None, 10, "the server list in the menu")
        labels = [i["label"] for i in menu.items() if i["type"] != "separator"]
        print("menu:", labels)
        for want in ("Verify now", "Log in…", "Add server…", "Manage servers…", "Copy shell setup",
                     "Open MLflow UI", "Start at login", "Quit"):
            assert want in labels, (want, labels)
        status = menu.items()[0]
        assert status["label"].startswith("prod — alice @ 127.0.0.1:9"), status
        assert not status["enabled"], status
        wait_for(lambda: checked(menu) == ["prod"], 10, "prod ticked")

        # The background check after start reaches the closed port: the line says so.
        wait_for(lambda: "unreachable" in menu.items()[0]["label"], 20, "the first check in the status line")
        print("status:", menu.items()[0]["label"])

        # Click a server: the CLI sees it active.
        menu.click("staging")
        wait_for(lambda: active(env) == ["staging"], 5, "`mlflow-login list` to show staging active")
        wait_for(lambda: checked(menu) == ["staging"], 5, "the tick on staging")

        # The CLI switches: the radio item follows within a second (inotify, no polling).
        t1 = time.monotonic()
        cli(env, "use", "prod")
        wait_for(lambda: checked(menu) == ["prod"], 5, "the tick to move back to prod")
        moved_ms = (time.monotonic() - t1) * 1000
        print(f"radio item moved {moved_ms:.0f} ms after `mlflow-login use prod`")
        assert moved_ms < 1000, moved_ms

        # A server added by the CLI appears.
        cli(env, "login", "dev", "--url", "http://127.0.0.1:9/dev", "--username", "carol", "--password-stdin",
            "--no-verify", stdin="x")
        wait_for(lambda: menu.find("dev") is not None, 5, "the new server in the menu")

        # Logging out turns the line to "no password stored".
        cli(env, "logout", "prod")
        wait_for(lambda: "no password stored" in menu.items()[0]["label"], 5, "the logged-out status line")

        # Copy shell setup puts the init line for $SHELL on the clipboard (read with xsel).
        menu.click("Copy shell setup")
        want = "mlflow-login init fish | source"  # the tray runs with SHELL=/usr/bin/fish

        def clipboard():
            r = subprocess.run(["xsel", "--clipboard", "--output"], capture_output=True, text=True, timeout=5)
            return r.stdout == want

        wait_for(clipboard, 5, f"the clipboard to hold {want!r}")

        # The tray never made a webview.
        assert webkit_children(tray.pid) == [], webkit_children(tray.pid)

        # GTK's OpenGL stack stays out of the tray (src-tauri/src/gl.rs)...
        gl_libs = ("libGLX_", "libLLVM", "_dri.so")  # a GL vendor library, LLVM, a Mesa driver
        tray_maps = maps(tray.pid)
        loaded = [lib for lib in gl_libs if lib in tray_maps]
        assert not loaded, loaded
        # ...and what the tray starts does not inherit that: the window process of "Manage
        # servers…" has no GDK_GL and loads GL as any GTK app does (so the check above can fail).
        menu.click("Manage servers…")
        window = wait_for(lambda: app_processes(tray.pid), 10, "the window process")[0]
        try:
            with open(f"/proc/{window}/environ", "rb") as f:
                assert b"GDK_GL=" not in f.read()
            wait_for(lambda: "libGLX_" in maps(window), 20, "GTK in the window process to load a GL vendor library")
        finally:
            os.kill(window, 15)
        print("tray without the GL stack; its window process with GTK's default: OK")

        # Quit from the menu ends the process.
        menu.click("Quit")
        deadline = time.monotonic() + 10
        while tray.poll() is None and time.monotonic() < deadline:
            pump(0.05)
        assert tray.returncode == 0, tray.returncode
        print("tray menu test: OK")
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()


if __name__ == "__main__":
    main()
