"""End to end, for real: the built tray app's windows driven through tauri-driver and
WebKitWebDriver, against the real nginx + MLflow fixture and the private gnome-keyring.

1. `--window login`: a wrong password for alice is refused, the message sits next to the
   password field, and nothing is stored (no server in `mlflow-login list`, no keychain
   entry); then the right one is stored (seen with `secret-tool` from outside, and by
   `mlflow-login env`), and the window process ends.
2. `--window servers`: "Use" on another server makes it the active one for the CLI.
3. "Add server…" with the name of an existing server is refused on the name field (both
   "Verify & save" and "Save without checking"), and the old password is still in the
   keychain (`secret-tool`).
4. "Log in again…" (servers window) on a bearer server with a CA bundle opens the dialog in
   token mode with the CA bundle filled; the check goes through that CA (the TLS fixture
   answers, and refuses a token); "Save without checking" keeps both (`list --json`).
5. Renaming in the servers window survives re-renders (a CLI `status` that changes the
   row's check, then the window's reload on focus, then "Verify all"): the same input,
   its text, caret/selection and focus intact; Enter renames (`list --json`).
6. Single sign-on in the dialog, against the real IdP and OIDC proxy fixtures, with the
   scripted browser as `$BROWSER` (tests/fixtures/oidc/browser.py): the issuer is found
   from the server (RFC 9728) when the URL is entered; "Sign in with browser" starts the
   browser with the URL the dialog shows to copy; Cancel during the wait ends it with
   nothing stored; signing in closes the dialog, `list --json` shows auth "sso", and
   `mlflow-login token sso` prints a token the proxy accepts.

Run by tests/e2e/run.sh (inside with-keyring.sh, with-servers.sh and xvfb-run).
Environment: MLL_TRAY_BIN, MLL_CLI_BIN, MLL_NGINX_URL, MLL_NGINX_SUBPATH_URL,
MLL_NGINX_TLS_URL, MLL_TLS_CA, MLL_ALICE_PW, MLL_BOB_PW, MLL_OIDC_PROXY_URL, MLL_OIDC_ISSUER,
MLL_OIDC_CLIENT_ID, MLL_OIDC_BROWSER; optional MLL_E2E_SHOTS=DIR saves the dialog showing the wrong-password error
(DIR/login-wrong-password.png, WebDriver's screenshot of the real window).

The WebDriver client is W3C JSON over the standard library's http.client (`Session`). Transport errors are retried a
bounded number of times (see `Session.request` for the one seen here, in tauri-driver);
commands with an effect only after checking the page that they did not run. WebDriver errors and assertions are never retried.
"""

import base64
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tray"))
from procs import app_processes  # noqa: E402

CLI = os.environ["MLL_CLI_BIN"]
APP = os.environ["MLL_TRAY_BIN"]
NGINX_URL = os.environ["MLL_NGINX_URL"]
SUBPATH_URL = os.environ["MLL_NGINX_SUBPATH_URL"]
TLS_URL = os.environ["MLL_NGINX_TLS_URL"]
TLS_CA = os.environ["MLL_TLS_CA"]
ALICE_PW = os.environ["MLL_ALICE_PW"]
BOB_PW = os.environ["MLL_BOB_PW"]
OIDC_PROXY_URL = os.environ["MLL_OIDC_PROXY_URL"]
OIDC_ISSUER = os.environ["MLL_OIDC_ISSUER"]
OIDC_CLIENT_ID = os.environ["MLL_OIDC_CLIENT_ID"]
OIDC_BROWSER = os.environ["MLL_OIDC_BROWSER"]

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
TIMINGS = []


def log(msg):
    print(msg, flush=True)


class Phase:
    """Times a step; the table is printed at the end."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.monotonic()
        log(f"--> {self.name}")

    def __exit__(self, *exc):
        ms = (time.monotonic() - self.t0) * 1000
        TIMINGS.append((self.name, ms))
        if exc[0] is None:
            log(f"    ok ({ms:.0f} ms)")


# ---- helpers -------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, interval=0.1):
    """Polls `cond` until it returns a truthy value; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def cli(env, *args, stdin=None, check=True):
    r = subprocess.run([CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"mlflow-login {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def servers(env):
    return json.loads(cli(env, "list", "--json").stdout)


def secret_lookup(env, service, username):
    """The password in the keychain, through the Secret Service API from outside (None if absent)."""
    r = subprocess.run(["secret-tool", "lookup", "service", service, "username", username], env=env,
                       capture_output=True, text=True, timeout=30)
    return r.stdout if r.returncode == 0 and r.stdout else None


def secret_services_for(env, username, prefix):
    """Every keychain entry of `username` whose service starts with the test's prefix."""
    r = subprocess.run(["secret-tool", "search", "--all", "username", username], env=env,
                       capture_output=True, text=True, timeout=30)
    found = []
    for line in (r.stdout + r.stderr).splitlines():
        key, _, value = line.partition(" = ")
        if key.strip() == "attribute.service" and value.startswith(prefix):
            found.append(value)
    return found


# ---- WebDriver client ----------------------------------------------------------------


class WebDriverError(Exception):
    def __init__(self, status, error, message):
        super().__init__(f"HTTP {status} {error}: {message}")
        self.error = error


TRANSPORT_ERRORS = (ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError)


class Session:
    def __init__(self, port):
        self.host, self.port = "127.0.0.1", port
        self.id = None

    def _send(self, method, path, body, timeout):
        """One HTTP exchange on a new connection (raises WebDriverError for an HTTP error,
        OSError/HTTPException for a transport error); `keep-alive` is for tauri-driver's pool
        towards WebKitWebDriver (see `request`)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Connection": "keep-alive"}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        if resp.status >= 400:
            try:
                v = json.loads(payload)["value"]
            except (ValueError, KeyError, TypeError):
                raise WebDriverError(resp.status, "unknown", payload[:300].decode(errors="replace")) from None
            raise WebDriverError(resp.status, v.get("error"), v.get("message"))
        return json.loads(payload)["value"] if payload else None

    def request(self, method, path, body=None, timeout=60, retries=4, done=None, repeatable=False):
        """One WebDriver command, retried after a transport error, at most `retries` times.

        tauri-driver 2.1.0 forwards every command, headers included, over a pooled
        connection to WebKitWebDriver, with hyper's retry of cancelled requests off. With
        urllib's `Connection: close` forwarded, WebKitWebDriver closed each pooled connection
        and about one command in twenty was sent on a closing one: tauri-driver then closes
        ours without an answer (RemoteDisconnected), and the command did not run. `_send`
        says `keep-alive` instead (no such error in 14 runs, against 10 errors in 10 runs before);
        the retry stays for safety. Reads are simply repeated. A command with an effect (typing,
        clicking) passes `done`, which looks at the page: if the effect is there after all,
        the command is not repeated; with neither `done` nor `repeatable` a POST is only
        retried when the connection was refused (nothing was sent).
        WebDriver errors (HTTP 4xx/5xx with a JSON body) are never retried."""
        retryable = method == "GET" or repeatable or done is not None
        for attempt in range(retries + 1):
            try:
                return self._send(method, path, body, timeout)
            except TRANSPORT_ERRORS as e:
                err = e
                # Refused: nothing was sent, always safe to repeat.
                if attempt == retries or not (retryable or isinstance(e, ConnectionRefusedError)):
                    raise
            log(f"    (transport error on {method} {path}: {err!r}; retry {attempt + 1}/{retries})")
            time.sleep(0.3 * (attempt + 1))
            if done is not None and done():
                log("    (the command had run after all; not repeated)")
                return None
        raise AssertionError("unreachable")

    # -- session --

    def start(self, args):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": APP, "args": args}}}}
        # Not repeatable: a session half made on a reset connection would leave an app behind.
        value = self.request("POST", "/session", caps, timeout=120)
        self.id = value["sessionId"]
        return value

    def delete(self):
        if self.id is None:
            return
        try:
            self.request("DELETE", f"/session/{self.id}", timeout=30, retries=1, repeatable=True)
        except (WebDriverError, AssertionError, *TRANSPORT_ERRORS) as e:
            log(f"    (ending the session: {e})")
        self.id = None

    def cmd(self, method, path, body=None, **kw):
        return self.request(method, f"/session/{self.id}{path}", body, **kw)

    # -- elements --

    def find(self, css):
        """The element, or None when there is none (yet)."""
        try:
            return self.cmd("POST", "/element", {"using": "css selector", "value": css}, repeatable=True)[ELEMENT]
        except WebDriverError as e:
            if e.error == "no such element":
                return None
            raise

    def wait_element(self, css, timeout=30):
        return wait_for(lambda: self.find(css), timeout, f"element {css}")

    def click(self, el, done=None):
        """`done`: whether the click's effect is already on the page (see `request`)."""
        self.cmd("POST", f"/element/{el}/click", {}, done=done)

    def click_css(self, css, timeout=30, done=None):
        """Finds and clicks. The servers page re-renders its list; a handle gone stale
        before the click (so nothing was clicked) is found again, at most three times."""
        for attempt in range(3):
            el = self.wait_element(css, timeout)
            try:
                return self.click(el, done)
            except WebDriverError as e:
                if e.error != "stale element reference" or attempt == 2:
                    raise
                log(f"    (stale handle for {css}; finding it again)")

    def class_of(self, css):
        """The class list of the element matching `css` (None if there is none), in one call."""
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.className : null;", css)

    def type(self, el, text):
        want = self.prop(el, "value") + text
        self.cmd("POST", f"/element/{el}/value", {"text": text}, done=lambda: self.prop(el, "value") == want)

    def text(self, el):
        return self.cmd("GET", f"/element/{el}/text")

    def prop(self, el, name):
        return self.cmd("GET", f"/element/{el}/property/{name}")

    def attr(self, el, name):
        return self.cmd("GET", f"/element/{el}/attribute/{name}")

    def js(self, script, *args):
        # Only read-only scripts here: repeatable.
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)}, repeatable=True)

    def js_do(self, script, *args, done=None, repeatable=False):
        """A script with an effect: retried only as `request` says (`done` or `repeatable`)."""
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)}, done=done,
                        repeatable=repeatable)

    def keys(self, el, text, done):
        """Sends keys (e.g. Enter, "\ue007") to `el`; `done` says whether they had their effect."""
        self.cmd("POST", f"/element/{el}/value", {"text": text}, done=done)

    # -- windows (the login dialog opens in the servers window's process) --

    def handles(self):
        return self.cmd("GET", "/window/handles")

    def handle(self):
        return self.cmd("GET", "/window")

    def switch_to(self, handle):
        self.cmd("POST", "/window", {"handle": handle}, repeatable=True)


def start_driver(env):
    port, native = free_port(), free_port()
    # tauri-driver reports proxy errors on stdout: keep them on ours.
    proc = subprocess.Popen(["tauri-driver", "--port", str(port), "--native-port", str(native)],
                            env={**env, "RUST_BACKTRACE": "0"})
    s = Session(port)

    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"tauri-driver exited with {proc.returncode}")
        try:
            s._send("GET", "/status", None, 5)
            return True
        except (WebDriverError, *TRANSPORT_ERRORS):
            return False

    wait_for(ready, 30, "tauri-driver to answer /status", interval=0.2)
    return proc, s


def stop_driver(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- the test ------------------------------------------------------------------------


def server_named(env, name):
    return next((x for x in servers(env) if x["name"] == name), None)


def submitted(s):
    """Whether the dialog took the form: it empties the password field on submit."""
    return s.prop(s.find("#password"), "value") == ""


def message_kind(s, field):
    """The kind of the message at `field` (`#FIELD-msg[data-kind]`), None when there is none."""
    return s.js("const e = document.querySelector(arguments[0]); return e ? e.getAttribute('data-kind') : null;",
                f"#{field}-msg")


def add_existing_name(s, env, prefix, driver):
    with Phase("Add server… with an existing name: refused on the name field, the old password kept"):
        prod = server_named(env, "prod")
        s.start(["--window", "login"])
        name = s.wait_element("#name")
        wait_for(lambda: s.js("return document.activeElement && document.activeElement.id") == "name", 15,
                 "the name field to have focus")
        # Carol's real password on prod's URL: were the name not refused, the check would pass
        # and prod (alice) would be replaced.
        s.type(name, "prod")
        s.type(s.find("#url"), NGINX_URL)
        s.type(s.find("#username"), "carol")
        for button in ("#submit", "#save-unchecked"):
            s.type(s.find("#password"), os.environ["MLL_CAROL_PW"])
            s.click(s.find(button), done=lambda: submitted(s))
            kind = wait_for(lambda: message_kind(s, "name"), 60, f"a message at the name field after {button}")
            log(f"    {button}: #name-msg [{kind}]: {s.text(s.find('#name-msg'))!r}")
            assert kind == "invalid_input", kind
            assert s.attr(s.find("#name"), "aria-invalid") == "true"
            assert s.js("return document.querySelector('#field-name #name-msg') !== null")
            assert s.attr(s.find("#outcome"), "data-kind") is None, s.attr(s.find("#outcome"), "data-kind")
            # Nothing changed: prod as it was, alice's password still there, none for carol.
            assert server_named(env, "prod") == prod, (server_named(env, "prod"), prod)
            assert secret_lookup(env, prefix + prod["url"], "basic:alice") == ALICE_PW, "alice's password is gone"
            assert secret_services_for(env, "basic:carol", prefix) == [], secret_services_for(env, "basic:carol", prefix)
            # Typing in the name field clears its message (x, then backspace: still "prod").
            s.keys(name, "x\ue003", done=lambda: message_kind(s, "name") is None)
            assert s.prop(name, "value") == "prod", s.prop(name, "value")
            assert message_kind(s, "name") is None
        s.delete()
        wait_for(lambda: not app_processes(driver.pid), 20, "the window process to exit")


def login_again_bearer_ca(s, env, prefix):
    with Phase("a token server with a CA bundle, through the CLI"):
        cli(env, "login", "tok", "--url", TLS_URL, "--auth", "bearer", "--ca-bundle", TLS_CA, "--password-stdin",
            "--no-verify", stdin="tok-old-" + secrets.token_hex(8))
        before = server_named(env, "tok")
        log(f"    list --json: {before}")
        assert before["auth"] == "bearer" and before["ca_bundle"] == TLS_CA, before

    with Phase("servers window: Log in again… on tok opens the dialog in token mode with the CA bundle"):
        button = 'button[data-focus="tok:login"]'
        s.wait_element(button)
        main_window = s.handle()
        s.click_css(button, done=lambda: len(s.handles()) > 1)
        dialog = wait_for(lambda: [h for h in s.handles() if h != main_window], 20, "the login dialog's window")[0]
        s.switch_to(dialog)
        wait_for(lambda: s.js("return document.activeElement && document.activeElement.id") == "password", 15,
                 "the token field to have focus (the dialog is set up)")
        assert s.prop(s.find("#name"), "value") == "tok"
        assert s.prop(s.find("#url"), "value") == before["url"], s.prop(s.find("#url"), "value")
        assert s.prop(s.find("#auth-bearer"), "checked") is True, "the dialog is not in token mode"
        assert s.prop(s.find("#auth-basic"), "checked") is False
        assert s.prop(s.find("#ca_bundle"), "value") == TLS_CA, s.prop(s.find("#ca_bundle"), "value")
        assert s.prop(s.find("#insecure"), "checked") is False
        assert s.prop(s.find("#advanced"), "open") is True, "the TLS settings are hidden"

    with Phase("Verify & save: checked through the CA bundle (the TLS fixture answers, and refuses a token)"):
        s.type(s.find("#password"), "tok-new-" + secrets.token_hex(8))
        s.click(s.find("#submit"), done=lambda: submitted(s))
        read = "return ['#password-msg', '#outcome', '#ca_bundle-msg', '#url-msg'].map(" \
               "c => document.querySelector(c)).map(e => e && e.getAttribute('data-kind')).find(k => k) || null"
        kind = wait_for(lambda: s.js(read), 60, "the check's message")
        log(f"    refused: [{kind}]")
        # Without the CA bundle this is a TLS error (unknown issuer); through it, nginx's 401.
        assert kind == "bad_credentials", kind
        assert server_named(env, "tok") == before, server_named(env, "tok")

    with Phase("Save without checking keeps token mode and the CA bundle"):
        token = "tok-new-" + secrets.token_hex(8)
        s.type(s.find("#password"), token)
        s.click(s.find("#save-unchecked"), done=lambda: submitted(s))
        outcome = s.find("#outcome")
        wait_for(lambda: "ok" in (s.attr(outcome, "class") or "").split(), 30, "the saved outcome")
        log(f"    #outcome: {s.text(outcome)!r}")
        after = server_named(env, "tok")
        log(f"    list --json: {after}")
        assert after["auth"] == "bearer", after
        assert after["ca_bundle"] == TLS_CA, after
        assert after["url"] == before["url"], after
        assert after.get("insecure_tls") in (None, False), after
        got = secret_lookup(env, prefix + after["url"], "bearer:")
        assert got == token, "secret-tool does not return the new token"
        # The dialog closes itself; the servers window stays.
        wait_for(lambda: s.handles() == [main_window], 20, "the login dialog to close")
        s.switch_to(main_window)


RENAME_STATE = """
const e = document.querySelector('li.server[data-name="staging"] .rename-input');
return e && {same: e.__mllMark === 1, value: e.value, start: e.selectionStart, end: e.selectionEnd,
             direction: e.selectionDirection, focused: document.activeElement === e};
"""


def rename_survives_rerender(s, env):
    with Phase("servers window: rename staging, caret and selection set"):
        s.click_css('button[data-focus="staging:more"]', done=lambda: s.find('button[data-focus="staging:rename"]'))
        s.click_css('button[data-focus="staging:rename"]', done=lambda: s.find(".rename-input"))
        field = s.wait_element('li.server[data-name="staging"] .rename-input')
        # It takes focus with its text selected: typing replaces the name.
        state = wait_for(lambda: (st := s.js(RENAME_STATE)) and st["focused"] and st, 10, "the rename field focused")
        assert (state["value"], state["start"], state["end"]) == ("staging", 0, 7), state
        s.keys(field, "stage-eu", done=lambda: s.prop(field, "value") == "stage-eu")
        assert s.prop(field, "value") == "stage-eu", s.prop(field, "value")
        # A selection made backwards ("ge-", caret at its start), and a mark on this very node.
        s.js_do("const e = arguments[0]; e.setSelectionRange(3, 6, 'backward'); e.__mllMark = 1;", {ELEMENT: field},
                repeatable=True)
        want = {"same": True, "value": "stage-eu", "start": 3, "end": 6, "direction": "backward", "focused": True}
        assert s.js(RENAME_STATE) == want, s.js(RENAME_STATE)
        kind_before = s.attr(s.find('li.server[data-name="staging"] .check-line'), "data-kind")
        log(f"    staging's check line before: [{kind_before}]")
        assert kind_before != "bad_credentials", kind_before

    with Phase("re-render: a CLI status changes staging's check, the window reloads on focus"):
        cli(env, "login", "staging", "--password-stdin", "--no-verify", stdin="not-" + BOB_PW[:6])
        r = cli(env, "status", "staging", "--json", check=False)
        log(f"    status --json: {r.stdout.strip()}")
        assert r.returncode != 0, r.returncode
        # The window reloads its list when it gets the focus back (from the CLI, say).
        s.js_do("window.dispatchEvent(new FocusEvent('focus'));", repeatable=True)
        wait_for(lambda: s.find('li.server[data-name="staging"] .check-line[data-kind="bad_credentials"]'), 15,
                 "staging's row to show the refused check")
        assert s.js(RENAME_STATE) == want, s.js(RENAME_STATE)

    with Phase("re-render: Verify all (every row checking, then its result)"):
        # The announcement for screen readers (visually hidden: read its textContent).
        live = lambda: s.js("return document.getElementById('live').textContent")  # noqa: E731
        assert "Checked all servers" not in live(), live()
        # Clicked from the page: a WebDriver click would take the focus from the rename field.
        s.js_do("document.getElementById('verify-all').click();", repeatable=True)
        wait_for(lambda: "Checked all servers" in live(), 60, "Verify all to finish")
        log(f"    #live: {live()!r}")
        assert s.find('li.server[data-name="staging"] .check-line[data-kind="bad_credentials"]'), "no check shown"
        assert s.js(RENAME_STATE) == want, s.js(RENAME_STATE)

    with Phase("Enter renames to the text as typed"):
        field = s.find('li.server[data-name="staging"] .rename-input')
        s.keys(field, "\ue007", done=lambda: server_named(env, "stage-eu") is not None)
        wait_for(lambda: server_named(env, "stage-eu") is not None, 15, "`list --json` to show stage-eu")
        assert server_named(env, "staging") is None
        wait_for(lambda: s.find('li.server[data-name="stage-eu"]'), 15, "the renamed row")


IMPORT_CALL = """
const [cmd, args] = arguments;
window.__mllImport = undefined;
window.__TAURI_INTERNALS__.invoke(cmd, args).then(
    (ok) => { window.__mllImport = {ok}; }, (err) => { window.__mllImport = {err}; });
"""


def import_list(s, env, cfg):
    """The servers window imports a team's list. The native file picker cannot be driven:
    the page calls the commands with a path, as the picker's answer would give them."""
    def call(cmd, args):
        s.js_do(IMPORT_CALL, cmd, args, repeatable=True)
        return wait_for(lambda: s.js("return window.__mllImport || null"), 30, f"{cmd} to answer")

    path = os.path.join(cfg, "team-servers.toml")
    with Phase("import a team's list from the servers window: plan, then import with no replace ticked"):
        with open(path, "w") as f:
            f.write(f'[servers.team-a]\nurl = "{NGINX_URL}"\nusername = "alice"\n\n'
                    f'[servers.prod]\nurl = "{SUBPATH_URL}"\nusername = "alice"\n')
        before = {x["name"]: x["url"] for x in servers(env)}
        plan = call("import_plan", {"path": path})
        log(f"    import_plan: {plan}")
        got = {x["name"]: x["action"] for x in plan["ok"]["servers"]}
        assert got == {"team-a": "add", "prod": "differs"}, got
        # Not ticked: prod keeps its settings.
        done = call("import_apply", {"path": path, "replace": []})
        log(f"    import_apply: {done}")
        results = {x["name"]: (x["result"], x["needsLogin"]) for x in done["ok"]}
        # team-a's URL and user are prod's, whose password is in the keychain: no login needed.
        assert results == {"team-a": ("added", False), "prod": ("kept", False)}, results
        after = {x["name"]: x["url"] for x in servers(env)}
        assert after == {**before, "team-a": after["team-a"]}, (before, after)
        wait_for(lambda: s.find('li.server[data-name="team-a"]') or
                 s.js_do("window.dispatchEvent(new FocusEvent('focus'));", repeatable=True), 15, "the team-a row")

    with Phase("a damaged list: kind config, its file and line"):
        with open(path, "a") as f:
            f.write('password = "hunter2"\n')
        err = call("import_plan", {"path": path})["err"]
        log(f"    import_plan error: {err}")
        assert err["kind"] == "config", err
        assert err["message"].startswith(f"{path}:8"), err
        assert "hunter2" not in json.dumps(err), err


def sso_browser(tmp):
    """A `$BROWSER` that runs the scripted browser in the mode written to `tmp/mode` (the
    app's environment is fixed when the driver starts; the mode changes per case), and logs
    each URL it is started with to `tmp/urls`. Returns (mode file, URL log)."""
    mode, urls, wrapper = (os.path.join(tmp, n) for n in ("mode", "urls", "browser.sh"))
    with open(mode, "w") as f:
        f.write("ok")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"MLL_BROWSER_MODE=$(cat '{mode}') MLL_BROWSER_LOG='{urls}' exec '{OIDC_BROWSER}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return wrapper, mode, urls


def proxy_accepts(token):
    """The HTTP status of an MLflow API call through the OIDC proxy with `token`."""
    req = urllib.request.Request(OIDC_PROXY_URL.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def sso_dialog(s, env, driver, mode_file, url_log):
    def visible(css):
        return s.js("const e = document.querySelector(arguments[0]); return !!e && !e.closest('[hidden]');", css)

    def urls_opened():
        try:
            with open(url_log) as f:
                return [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    with Phase("Add server… in single sign-on mode: the issuer found from the server"):
        s.start(["--window", "login"])
        name = s.wait_element("#name")
        wait_for(lambda: s.js("return document.activeElement && document.activeElement.id") == "name", 15,
                 "the name field to have focus")
        s.type(name, "sso")
        s.click_css('label[for="auth-sso"]', done=lambda: s.prop(s.find("#auth-sso"), "checked") is True)
        assert not visible("#password"), "the password field shows in SSO mode"
        assert visible("#issuer") and visible("#client_id")
        s.type(s.find("#url"), OIDC_PROXY_URL)
        # Leaving the URL field (a `change`) asks the server who its identity provider is.
        s.click(s.find("#client_id"))
        issuer = wait_for(lambda: s.prop(s.find("#issuer"), "value"), 30, "the issuer filled from the server")
        log(f"    issuer from sso_hints: {issuer!r}")
        assert issuer.rstrip("/") == OIDC_ISSUER.rstrip("/"), (issuer, OIDC_ISSUER)
        if not s.prop(s.find("#client_id"), "value"):
            s.type(s.find("#client_id"), OIDC_CLIENT_ID)
        assert s.text(s.find("#submit")) == "Sign in with browser", s.text(s.find("#submit"))

    with Phase("Sign in with browser, then Cancel during the wait: nothing stored"):
        with open(mode_file, "w") as f:
            f.write("no-redirect")  # signs in at the IdP but never comes back: the app waits
        s.click(s.find("#submit"), done=lambda: visible("#sso-wait"))
        shown = wait_for(lambda: s.js("const e = document.querySelector('#sso_url'); return e && e.value"), 60,
                         "the sign-in URL in the dialog")
        opened = wait_for(urls_opened, 30, "the browser to be started")
        log(f"    browser started with the URL the dialog shows: {opened[-1] == shown}")
        assert opened[-1] == shown, (opened, shown)
        assert shown.startswith(OIDC_ISSUER), shown
        # Where the sign-in goes, as core found it, shown in the wait before the browser opened.
        line = s.text(s.find("#sso-signing-in"))
        log(f"    #sso-signing-in: {line!r}")
        server_host = urllib.parse.urlsplit(OIDC_PROXY_URL).netloc
        assert line == f"Signing in at {OIDC_ISSUER.rstrip('/')} for {server_host}", (line, server_host)
        s.click(s.find("#cancel"), done=lambda: not visible("#sso-wait"))
        wait_for(lambda: not visible("#sso-wait") and visible("#fields"), 30, "the wait to end and the form to return")
        assert s.attr(s.find("#outcome"), "data-kind") is None, s.attr(s.find("#outcome"), "data-kind")
        assert server_named(env, "sso") is None, servers(env)
        assert app_processes(driver.pid), "Cancel closed the dialog"

    with Phase("Sign in with browser: signed in, the dialog closes, auth sso stored"):
        with open(mode_file, "w") as f:
            f.write("ok")
        s.click(s.find("#submit"), done=lambda: visible("#sso-wait") or "ok" in (s.class_of("#outcome") or ""))
        outcome = s.find("#outcome")
        wait_for(lambda: "ok" in (s.attr(outcome, "class") or "").split(), 90, "the signed-in outcome")
        log(f"    #outcome: {s.text(outcome)!r}")
        wait_for(lambda: not app_processes(driver.pid), 20, "the window process to exit")
        s.delete()
        saved = server_named(env, "sso")
        log(f"    list --json: {saved}")
        assert saved and saved["auth"] == "sso", saved
        assert saved["url"].rstrip("/") == OIDC_PROXY_URL.rstrip("/"), saved

    with Phase("mlflow-login token sso: a token the proxy accepts"):
        token = cli(env, "token", "sso").stdout.strip()
        assert token, "no token printed"
        status = proxy_accepts(token)
        log(f"    the proxy answers {status} with it (and {proxy_accepts('not-a-token')} without)")
        assert status == 200, status


def main():
    # Under with-keyring.sh's throwaway HOME, removed with it.
    cfg = tempfile.mkdtemp(prefix="mll-e2e-cfg.", dir=os.environ.get("MLL_TEST_HOME"))
    prefix = f"mll-e2e-{secrets.token_hex(4)}:"
    env = dict(os.environ)
    env["MLFLOW_LOGIN_CONFIG_DIR"] = cfg
    env["MLFLOW_LOGIN_KEYCHAIN_PREFIX"] = prefix
    browser, mode_file, url_log = sso_browser(cfg)
    env["BROWSER"] = browser
    assert servers(env) == [], servers(env)

    driver, s = start_driver(env)
    try:
        # ---- 1. the login dialog ------------------------------------------------------
        with Phase("open --window login (WebDriver session to interactive form)"):
            s.start(["--window", "login"])
            name = s.wait_element("#name")
            wait_for(lambda: s.js("return document.activeElement && document.activeElement.id") == "name", 15,
                     "the name field to have focus (the page is set up)")
            title = s.js("return document.title")
            log(f"    window title: {title!r}")

        with Phase("wrong password: refused, shown at the password field, nothing stored"):
            s.type(name, "prod")
            s.type(s.find("#url"), NGINX_URL)
            s.type(s.find("#username"), "alice")
            s.type(s.find("#password"), "not-" + ALICE_PW[:6])
            # The page empties the password field the moment the form is submitted.
            submitted = lambda: s.prop(s.find("#password"), "value") == ""  # noqa: E731
            s.click(s.find("#submit"), done=submitted)
            msg = s.find("#password-msg")
            kind = wait_for(lambda: s.attr(msg, "data-kind"), 60, "a message at the password field")
            text = s.text(msg)
            log(f"    #password-msg [{kind}]: {text!r}")
            assert kind == "bad_credentials", kind
            assert text.strip(), "empty message"
            assert "error" in (s.attr(msg, "class") or ""), s.attr(msg, "class")
            assert s.attr(s.find("#password"), "aria-invalid") == "true"
            # It is the password field's own message (inside #field-password), not a banner.
            assert s.js("return document.querySelector('#field-password #password-msg') !== null")
            assert s.text(s.find("#outcome")) == "", s.text(s.find("#outcome"))
            # The password left the page with the request.
            assert s.prop(s.find("#password"), "value") == ""
            shot_dir = os.environ.get("MLL_E2E_SHOTS")
            if shot_dir:
                os.makedirs(shot_dir, exist_ok=True)
                with open(os.path.join(shot_dir, "login-wrong-password.png"), "wb") as f:
                    f.write(base64.b64decode(s.cmd("GET", "/screenshot", timeout=60)))
            # Nothing stored: no server, no keychain entry.
            assert servers(env) == [], servers(env)
            for url in (NGINX_URL, NGINX_URL + "/"):
                assert secret_lookup(env, prefix + url, "basic:alice") is None, url
            assert secret_services_for(env, "basic:alice", prefix) == [], secret_services_for(env, "basic:alice", prefix)

        with Phase("right password: stored, window process ends"):
            s.type(s.find("#password"), ALICE_PW)
            # Typing clears the old message.
            assert s.attr(s.find("#password-msg"), "data-kind") is None
            s.click(s.find("#submit"), done=submitted)
            outcome = s.find("#outcome")
            wait_for(lambda: "ok" in (s.attr(outcome, "class") or "").split(), 60, "the success outcome")
            line = s.text(outcome)
            log(f"    #outcome: {line!r}")
            assert "Signed in as alice" in line, line
            t_ok = time.monotonic()
            # The dialog closes itself (after 1.2 s) and its process exits.
            wait_for(lambda: not app_processes(driver.pid), 20, "the window process to exit")
            log(f"    window process gone {(time.monotonic() - t_ok) * 1000:.0f} ms after 'Signed in'")
            s.delete()

        with Phase("stored: CLI list, secret-tool from outside, mlflow-login env"):
            listed = servers(env)
            assert [(x["name"], x["active"]) for x in listed] == [("prod", True)], listed
            url = listed[0]["url"]
            assert url.rstrip("/") == NGINX_URL.rstrip("/"), (url, NGINX_URL)
            got = secret_lookup(env, prefix + url, "basic:alice")
            assert got == ALICE_PW, "secret-tool lookup does not return alice's password"
            out = cli(env, "env", "--format", "json").stdout
            vars_ = json.loads(out)
            log(f"    env --format json keys: {sorted(vars_)}")
            assert vars_.get("MLFLOW_TRACKING_PASSWORD") == ALICE_PW, "env does not print alice's password"
            assert vars_.get("MLFLOW_TRACKING_USERNAME") == "alice", vars_.get("MLFLOW_TRACKING_USERNAME")
            assert vars_.get("MLFLOW_TRACKING_URI", "").rstrip("/") == NGINX_URL.rstrip("/"), vars_.get(
                "MLFLOW_TRACKING_URI")

        # ---- 2. switch servers in the servers window ---------------------------------
        with Phase("add staging (bob) through the CLI"):
            cli(env, "login", "staging", "--url", SUBPATH_URL, "--username", "bob", "--password-stdin", stdin=BOB_PW)
            assert [x["name"] for x in servers(env) if x["active"]] == ["prod"]

        with Phase("open --window servers, click Use on staging"):
            s.start(["--window", "servers"])
            use = 'li.server[data-name="staging"] button[data-focus="staging:use"]'
            s.wait_element(use)
            prod_class = s.class_of('li.server[data-name="prod"]')
            assert "active" in (prod_class or "").split(), prod_class
            s.click_css(use, done=lambda: [x["name"] for x in servers(env) if x["active"]] == ["staging"])
            wait_for(lambda: [x["name"] for x in servers(env) if x["active"]] == ["staging"], 15,
                     "`mlflow-login list --json` to show staging active")

            wait_for(lambda: "active" in (s.class_of('li.server[data-name="staging"]') or "").split(), 15,
                     "the staging row to show Active")
            assert s.find('li.server[data-name="prod"] button[data-focus="prod:use"]'), "no Use button on prod"
            got = json.loads(cli(env, "env", "--format", "json").stdout)
            assert got.get("MLFLOW_TRACKING_USERNAME") == "bob", got.get("MLFLOW_TRACKING_USERNAME")
            assert got.get("MLFLOW_TRACKING_PASSWORD") == BOB_PW, "env does not print bob's password"

        with Phase("close the servers window"):
            s.delete()
            wait_for(lambda: not app_processes(driver.pid), 20, "the window process to exit")

        # ---- 3. "Add server…" never replaces a server ---------------------------------
        add_existing_name(s, env, prefix, driver)

        # ---- 4. "Log in again…" keeps a token server's settings ------------------------
        s.start(["--window", "servers"])
        login_again_bearer_ca(s, env, prefix)

        # ---- 5. renaming survives re-renders --------------------------------------------
        rename_survives_rerender(s, env)

        # ---- 6. "Import servers…" (the commands, called with a path) --------------------
        import_list(s, env, cfg)

        with Phase("close the servers window"):
            s.delete()
            wait_for(lambda: not app_processes(driver.pid), 20, "the window process to exit")

        # ---- 7. single sign-on through the browser -----------------------------------------
        sso_dialog(s, env, driver, mode_file, url_log)
    finally:
        s.delete()
        stop_driver(driver)

    log("timings:")
    for name, ms in TIMINGS:
        log(f"  {ms:8.0f} ms  {name}")
    log("e2e login test: OK")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        raise
