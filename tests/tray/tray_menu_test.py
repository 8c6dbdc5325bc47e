"""The tray menu for real: the built tray binary, the real gnome-keyring, a StatusNotifier
host on the private session bus, the menu read and clicked through com.canonical.dbusmenu.

Run by tests/tray/run.sh (inside tests/fixtures/with-keyring.sh, with-servers.sh and
xvfb-run). Environment: MLL_TRAY_BIN, MLL_CLI_BIN (built binaries), MLL_NGINX_URL and
MLL_ALICE_PW (the nginx fixture, for checks the CLI records and the tray shows), and the SSO
fixtures (tests/fixtures/oidc/README.md: MLL_OIDC_PROXY_URL, MLL_OIDC_ADMIN_URL,
MLL_OIDC_BROWSER) for the tray's background renewal of an SSO token, and the workspaces
fixture (MLL_WS_URL, MLL_WS_BOTH_USER, MLL_WS_BOTH_PW) for the workspace submenu.
"""

import json
import os
import re
import secrets
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from procs import app_processes, descendants  # noqa: E402
from sni_host import Menu, Watcher, pump, wait_for  # noqa: E402

TRAY = os.environ["MLL_TRAY_BIN"]
CLI = os.environ["MLL_CLI_BIN"]
NGINX_URL = os.environ["MLL_NGINX_URL"]
ALICE_PW = os.environ["MLL_ALICE_PW"]
OIDC_PROXY_URL = os.environ["MLL_OIDC_PROXY_URL"]
OIDC_ADMIN_URL = os.environ["MLL_OIDC_ADMIN_URL"]
OIDC_BROWSER = os.environ["MLL_OIDC_BROWSER"]
# Short enough to cross a few expiries in a test, long enough for the tray's check to land.
SSO_TTL = 8


def cli(env, *args, stdin=None, check=True):
    r = subprocess.run([CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
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


def cli_checks_show(env, menu):
    """A CLI `login`, then a CLI `status`, each turn fx's menu line to its result.

    fx is alice on the nginx fixture. The tray checks a server only when it becomes the active
    one; after that every change of the line comes from what the CLI recorded."""

    def line():
        return menu.items()[0]["label"]

    def shows(state):
        label = line()
        return label.startswith("fx — alice @ ") and f" — {state} " in label and label

    def changes_to(state, after):
        t = time.monotonic()
        got = wait_for(lambda: shows(state), 5, f"the menu line to show {state!r} after `mlflow-login {after}`")
        print(f"menu line {got!r} {(time.monotonic() - t) * 1000:.0f} ms after `mlflow-login {after}`")

    cli(env, "login", "fx", "--url", NGINX_URL, "--username", "alice", "--password-stdin", "--no-verify",
        stdin="not-" + ALICE_PW[:6])
    cli(env, "use", "fx")
    # The switch: the tray checks fx itself, with the wrong password.
    wait_for(lambda: shows("wrong password"), 20, "the tray's own check of fx (wrong password)")

    cli(env, "login", "fx", "--password-stdin", stdin=ALICE_PW)
    changes_to("OK", "login fx")

    # A wrong password stored unchecked is not a refusal yet; `status` records one.
    cli(env, "login", "fx", "--password-stdin", "--no-verify", stdin="still-not-" + ALICE_PW[:6])
    pump(1)  # room for a refresh, were the line to change without a check
    assert not shows("wrong password"), line()
    status = json.loads(cli(env, "status", "fx", "--json", check=False))
    assert [s["outcome"]["kind"] for s in status] == ["bad_credentials"], status
    changes_to("wrong password", "status fx")


def idp(path, body=None):
    """A test route of the IdP fixture (GET, or POST with a JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{OIDC_ADMIN_URL.rstrip('/')}/{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def register_client(ttl):
    """A client of our own (so counters are ours alone), with `ttl` s access tokens."""
    issuer = OIDC_ADMIN_URL.rstrip("/").removesuffix("/test")
    body = {"application_type": "native", "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
            "response_types": ["code"], "redirect_uris": ["http://127.0.0.1/callback"], "mll_access_token_ttl": ttl}
    req = urllib.request.Request(f"{issuer}/reg", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["client_id"]


class Notifications:
    """tests/tray/notify_server.py on the session bus: owns org.freedesktop.Notifications
    and records each Notify call the tray makes."""

    def __init__(self, work):
        self.log = os.path.join(work, "notify.log")
        out = os.path.join(work, "notify.out")
        with open(out, "w") as f:
            self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "notify_server.py"), self.log],
                                         stdout=f)
        wait_for(lambda: "ready" in open(out).read() or self.proc.poll() is not None, 20,
                 "the notification server to start")
        assert self.proc.poll() is None, "the notification server did not own org.freedesktop.Notifications"

    def calls(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def checked_at(env, name):
    """When the last check of `name` was recorded (the checks file), or None."""
    try:
        with open(os.path.join(env["MLFLOW_LOGIN_CONFIG_DIR"], "checks.json")) as f:
            return json.load(f)["servers"].get(name, {}).get("checked_at")
    except FileNotFoundError:
        return None


def sso_renewal(env, menu, notifications):
    """The tray renews the active SSO server's token before it expires, with nothing else
    asking for it (no CLI call uses the token meanwhile), and says "sign-in ended" when the
    identity provider ends the session, in the menu line and in one notification that says
    to log in again."""
    client = register_client(SSO_TTL)

    def refreshes(outcome):
        stats = idp("stats").get("by_client", {}).get(client, {})
        return stats.get("refresh", {}).get(outcome, 0)

    cli({**env, "BROWSER": OIDC_BROWSER}, "login", "sso", "--url", OIDC_PROXY_URL, "--sso", "--client-id", client)
    cli(env, "use", "sso")
    wait_for(lambda: menu.items()[0]["label"].startswith("sso — ") and " — OK " in menu.items()[0]["label"], 20,
             "the tray's check of sso (OK)")
    assert refreshes("ok") == 0, "a refresh before any token was near expiry"
    t = time.monotonic()
    # Three lifetimes: every renewal sets the timer for the next token.
    wait_for(lambda: refreshes("ok") >= 2, 3 * SSO_TTL + 10, "two renewals by the tray")
    print(f"the tray renewed the SSO token twice in {time.monotonic() - t:.1f} s (tokens live {SSO_TTL} s)")
    assert refreshes("invalid_grant") == 0, "a refresh token was reused"
    token = cli(env, "token", "sso").strip()
    assert token, "no token after the renewals"

    # The identity provider ends the session: the next renewal is refused.
    idp("revoke-grants", {"user": "alice"})
    wait_for(lambda: "sign-in ended" in menu.items()[0]["label"], 2 * SSO_TTL + 10,
             "the menu line to say the sign-in ended")
    print("status after the IdP ended the session:", menu.items()[0]["label"])

    def about_sso():
        return [c for c in notifications.calls() if c["body"].startswith("sso: ")]

    wait_for(about_sso, 10, "a notification that the sign-in ended")
    # Checking again finds the session still ended: no second notification.
    before = checked_at(env, "sso")
    menu.click("Verify now")
    wait_for(lambda: checked_at(env, "sso") != before, 20, "the check of Verify now to be recorded")
    pump(1)  # room for a notification, were one to follow the check
    calls = about_sso()
    assert len(calls) == 1, calls
    body = calls[0]["body"]
    print("notification:", calls[0])
    assert calls[0]["summary"] == "MLflow Login", calls[0]
    assert body.startswith("sso: the single sign-on session ended: "), body
    assert body.endswith(". Log in again from the tray menu (Log in…)."), body
    assert token not in body, "the access token in the notification"
    # No token of any kind: nothing that looks like a JWT or a long opaque token.
    assert not re.search(r"eyJ|[A-Za-z0-9_\-]{24,}", body), body


def listening(pid):
    """The TCP ports process `pid` listens on (its sockets in the kernel's table)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.append(int(fields[1].split(":")[1], 16))
    return ports


def local_proxy(env, menu, tray, opened):
    """The local proxy: nothing listens before first use; the copied tracking URI reaches
    the real nginx fixture with the stored password; the browser link signs a browser in."""
    assert listening(tray.pid) == [], listening(tray.pid)
    cli(env, "login", "web", "--url", os.environ["MLL_NGINX_URL"], "--username", "alice", "--password-stdin",
        stdin=os.environ["MLL_ALICE_PW"])
    cli(env, "use", "web")
    wait_for(lambda: checked(menu) == ["web"], 5, "web ticked")
    # The switch's check rebuilds the menu when it ends: click after it, not during it.
    wait_for(lambda: " OK at " in menu.items()[0]["label"], 20, "the check of web in the status line")
    assert listening(tray.pid) == [], "a proxy before first use"
    menu.click("Copy tracking URI for R, Java and other clients")

    def copied():
        r = subprocess.run(["xsel", "--clipboard", "--output"], capture_output=True, text=True, timeout=5)
        return r.stdout if r.stdout.startswith("http://127.0.0.1:") else None

    uri = wait_for(copied, 10, "the tracking URI on the clipboard")
    with urllib.request.urlopen(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1", timeout=20) as r:
        assert r.status == 200, r.status
        assert "experiments" in json.loads(r.read()), "not MLflow's answer"
    assert len(listening(tray.pid)) == 1, listening(tray.pid)
    # "Open MLflow in browser": the browser ($BROWSER, through xdg-open) gets a one-time link.
    menu.click("Open MLflow in browser")
    link = wait_for(lambda: open(opened).read().strip() if os.path.exists(opened) else None, 10, "the browser")
    assert link.startswith(uri.split("/")[0] + "//" + uri.split("/")[2] + "/mlflow-login/open/"), link
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(link, timeout=20)
    except urllib.error.HTTPError as e:
        assert e.code == 303, e.code
        assert "HttpOnly" in e.headers["Set-Cookie"], e.headers
    print("local proxy: none before first use, one after; tracking URI and browser link work: OK")


def workspace_items(menu):
    """The labels of the menu's workspace submenu: its title, then its items."""
    return [i["label"] for i in menu.items() if i["label"].startswith("Workspace")]


class HookedBash:
    """An interactive bash with the hook (`eval "$(mlflow-login init bash)"`), fed on a pipe:
    the hook runs before each prompt, as in a terminal."""

    def __init__(self, env):
        self.proc = subprocess.Popen(["bash", "--norc", "--noprofile", "-i"], env={**env, "PS1": "$ "},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.send(f'eval "$({CLI} init bash)"')

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def workspace_at_next_prompt(self):
        """MLFLOW_WORKSPACE after one more prompt (an empty command: the hook runs)."""
        self.send(":")
        self.send('echo "ws=${MLFLOW_WORKSPACE-unset}"')
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        assert ready, "bash did not answer"
        line = self.proc.stdout.readline().strip()
        assert line.startswith("ws="), line
        return line[3:]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def workspaces(env, menu, notifications):
    """The active server's workspaces as a submenu, from the real workspaces fixture (MLflow
    with --enable-workspaces behind its basic-auth app; wanda may use team-a and team-b).
    A server without workspaces has no submenu; a click selects a workspace by core's rule,
    and a hooked bash exports it at its next prompt; one the server does not list for the
    user is refused, said in a notification, and nothing changes."""
    # "web" (the nginx fixture, no workspaces) is active and checked: no submenu.
    pump(1)
    assert workspace_items(menu) == [], workspace_items(menu)
    cli(env, "login", "ws", "--url", os.environ["MLL_WS_URL"], "--username", os.environ["MLL_WS_BOTH_USER"],
        "--password-stdin", stdin=os.environ["MLL_WS_BOTH_PW"])
    cli(env, "use", "ws/team-a")
    wait_for(lambda: workspace_items(menu) == ["Workspace: team-a"], 20, "the workspace submenu")
    wait_for(lambda: menu.find("team-b") is not None, 5, "team-b in the submenu")
    assert checked(menu) == ["team-a", "ws"], checked(menu)
    wait_for(lambda: menu.items()[0]["label"].startswith("ws / team-a — wanda @ "), 5, "server and workspace named")
    bash = HookedBash(env)
    try:
        assert bash.workspace_at_next_prompt() == "team-a"
        # The switch's check rebuilds the menu when it ends: click after it, not during it.
        wait_for(lambda: " OK at " in menu.items()[0]["label"], 20, "the check of ws in the status line")
        menu.click("team-b")

        def selected():
            return [s.get("workspace") for s in json.loads(cli(env, "list", "--json")) if s["name"] == "ws"]

        wait_for(lambda: selected() == ["team-b"], 20, "`mlflow-login list` to show team-b")
        wait_for(lambda: checked(menu) == ["team-b", "ws"], 5, "the tick on team-b")
        wait_for(lambda: menu.items()[0]["label"].startswith("ws / team-b — "), 5, "the menu line to name team-b")
        assert bash.workspace_at_next_prompt() == "team-b"
    finally:
        bash.close()

    # walt may use team-a only. team-b, selected without asking, stays in the submenu,
    # checked; choosing it in the menu asks the server: refused, and nothing changes.
    cli(env, "login", "walt", "--url", os.environ["MLL_WS_URL"], "--username", os.environ["MLL_WS_A_USER"],
        "--password-stdin", stdin=os.environ["MLL_WS_A_PW"])
    cli(env, "use", "--no-verify", "walt/team-b")
    # The workspaces are asked once the switch's check is done: wait for walt's own list,
    # not ws's (whose submenu has the same title).
    wait_for(lambda: menu.items()[0]["label"].startswith("walt / team-b — ")
             and workspace_items(menu) == ["Workspace: team-b"], 20, "walt's workspace submenu")
    wait_for(lambda: menu.find("team-a") is not None, 5, "team-a, the one walt may use")
    # The switch's check rebuilds the menu when it ends: click after it, not during it.
    wait_for(lambda: menu.items()[0]["label"].startswith("walt / team-b — ")
             and not menu.items()[0]["label"].endswith("not checked yet"), 20, "the check of walt")
    menu.click("team-b")

    def refused():
        return [c["body"] for c in notifications.calls() if c["body"].startswith("walt: workspace team-b")]

    body = wait_for(refused, 20, "a notification that team-b was not selected")[0]
    assert "not selected" in body and "team-a" in body, body
    # The tick GTK took off the clicked item is put back: the menu shows the config.
    wait_for(lambda: checked(menu) == ["team-b", "walt"], 5, "team-b still ticked")
    assert [s.get("workspace") for s in json.loads(cli(env, "list", "--json")) if s["name"] == "walt"] == ["team-b"]
    print("workspaces: submenu from the server, a click selects, a hooked bash follows, a refusal is said: OK")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


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

    notifications = Notifications(tempfile.mkdtemp(prefix="mll-tray-notify."))
    t0 = time.monotonic()
    opened = os.path.join(tempfile.mkdtemp(prefix="mll-tray-browser."), "opened")
    browser = os.path.join(os.path.dirname(opened), "browser.sh")
    with open(browser, "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    os.chmod(browser, 0o755)
    # xdg-open (behind Tauri's opener) asks the desktop's default for http: ours, in the
    # throwaway HOME, so no real browser starts.
    home = env["HOME"]
    data_home = env.get("XDG_DATA_HOME", os.path.join(home, ".local/share"))
    config_home = env.get("XDG_CONFIG_HOME", os.path.join(home, ".config"))
    os.makedirs(os.path.join(data_home, "applications"), exist_ok=True)
    os.makedirs(config_home, exist_ok=True)
    with open(os.path.join(data_home, "applications", "mll-test-browser.desktop"), "w") as f:
        f.write(f"[Desktop Entry]\nType=Application\nName=Test browser\nExec={browser} %u\n"
                "MimeType=x-scheme-handler/http;\n")
    with open(os.path.join(config_home, "mimeapps.list"), "w") as f:
        f.write("[Default Applications]\nx-scheme-handler/http=mll-test-browser.desktop\n")
    tray = subprocess.Popen([TRAY], env={**env, "SHELL": "/usr/bin/fish", "BROWSER": browser})
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
                     "Open MLflow in browser", "Copy tracking URI for R, Java and other clients",
                     "Start at login", "Quit"):
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

        # Checks the CLI records show in the menu line of the running tray: no
        # restart, no switch, no check of the tray's own.
        cli_checks_show(env, menu)

        # Single sign-on: renewed in the background; a session the IdP ends is said.
        sso_renewal(env, menu, notifications)

        # Copy shell setup puts the init line for $SHELL on the clipboard (read with xsel).
        menu.click("Copy shell setup")
        want = "mlflow-login init fish | source"  # the tray runs with SHELL=/usr/bin/fish

        def clipboard():
            r = subprocess.run(["xsel", "--clipboard", "--output"], capture_output=True, text=True, timeout=5)
            return r.stdout == want

        wait_for(clipboard, 5, f"the clipboard to hold {want!r}")

        local_proxy(env, menu, tray, opened)
        workspaces(env, menu, notifications)

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
        notifications.stop()


if __name__ == "__main__":
    main()
