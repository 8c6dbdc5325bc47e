"""The resolver against a stand-in program: matching, caching, errors, redaction.

The stand-in prints the JSON a test wrote to a file and counts its runs, so the cache
logic is tested without a keychain. The same behaviours against the real program and
servers are in test_real.py.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import pickle
import stat
import sys
import threading
import time
import traceback

import pytest
import requests

import mlflow_login
from mlflow_login import _resolver
from mlflow_login._resolver import (
    LoginRequiredError,
    MlflowLoginError,
    NoCredentialError,
    ProgramError,
    Resolver,
    UnknownServerError,
    normalize,
    tracking_url_guess,
)

SECRET = "s3cr3t-üñí:$'\"`\\"
# Core's sample answers and rules (crates/core/tests/plugin_contract.rs writes it).
CONTRACT = os.path.join(os.path.dirname(__file__), "contract.generated.json")


class Fake:
    """A stand-in `mlflow-login` program and the config dir it reports."""

    def __init__(self, tmp_path, monkeypatch):
        self.dir = tmp_path / "cfg"
        self.dir.mkdir()
        self.doc_file = tmp_path / "doc.json"
        self.runs_file = tmp_path / "runs"
        self.runs_file.write_text("")
        prog = tmp_path / "mlflow-login"
        prog.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"open({str(self.runs_file)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
            f"doc = json.load(open({str(self.doc_file)!r}))\n"
            "import time; time.sleep(doc.get('sleep', 0))\n"
            "if 'exit' in doc:\n"
            "    sys.stderr.write(doc['stderr']); sys.exit(doc['exit'])\n"
            "from mlflow_login._resolver import _Snapshot, normalize\n"
            "from mlflow_login._errors import MlflowLoginError\n"
            f"contract = json.load(open({str(CONTRACT)!r}))['answers']\n"
            "pick = None\n"
            "if '--url' in sys.argv:\n"
            "    # the choice is the plugin's own (tested against core's in test_contract.py)\n"
            "    snap = _Snapshot(None, '.', doc.get('active'), [(normalize(s['url']), s['name']) for s in doc['servers']])\n"
            "    snap.headers = {s['name']: s['name'] for s in doc['servers']}\n"
            "    name = snap.lookup(sys.argv[sys.argv.index('--url') + 1])\n"
            "    pick = None if isinstance(name, MlflowLoginError) else next(s for s in doc['servers'] if s['name'] == name)\n"
            "# the answer's fields are core's (contract.generated.json), not written here\n"
            "server_keys = contract['basic']['servers'][0].keys()\n"
            "credential_keys = contract['sso']['credential'].keys()\n"
            "credential = None\n"
            "if pick and pick.get('secret'):\n"
            "    credential = {k: None for k in credential_keys}\n"
            "    credential.update(scheme=pick['auth'], username=pick['username'], secret=pick['secret'])\n"
            "    credential.update({k: pick[k] for k in ('expires_at', 'refresh_at', 'fingerprint') if k in pick})\n"
            "out = {k: None for k in contract['basic']}\n"
            "out.update(version=doc.get('version', 1), config_dir=doc['config_dir'], state='', active=doc.get('active'),\n"
            "           servers=[{k: s[k] for k in server_keys} for s in doc['servers']], server=pick and pick['name'],\n"
            "           credential=credential)\n"
            "assert out.keys() == contract['basic'].keys() and (credential is None or credential.keys() == credential_keys)\n"
            "print(json.dumps(out))\n"
        )
        prog.chmod(prog.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("MLFLOW_LOGIN_BIN", str(prog))
        monkeypatch.setenv("MLFLOW_LOGIN_CONFIG_DIR", str(self.dir))
        self.servers = []
        self.active = None

    def add(self, name, url, username="alice", secret=SECRET, auth="basic"):
        self.servers.append({"name": name, "url": url, "username": username, "secret": secret, "auth": auth})
        return self

    def write(self, bump=True, **extra):
        """Writes the doc and bumps the state file, as the real CLI does on a change (a
        single sign-on refresh does not: ``bump=False``)."""
        doc = {"config_dir": str(self.dir), "servers": self.servers, "active": self.active, **extra}
        self.doc_file.write_text(json.dumps(doc))
        if not bump:
            return
        tmp = self.dir / ".state.tmp"
        tmp.write_text(f"{time.time_ns()}\n")
        os.replace(tmp, self.dir / "state")

    @property
    def runs(self) -> int:
        return len(self.runs_file.read_text().splitlines())


@pytest.fixture
def fake(tmp_path, monkeypatch):
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    return Fake(tmp_path, monkeypatch)


def basic(user, pw):
    # UTF-8, as the product sends passwords (requests' own helper would use latin-1).
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def prepared(url):
    return requests.Request("GET", url).prepare()


# -- URL normalisation: core's cases are in test_contract.py; user info is the plugin's own --


@pytest.mark.parametrize(
    "url, want",
    [
        ("https://Example.COM:443/mlflow/", "https://example.com/mlflow"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("https://h/a/b/", "https://h/a/b"),
        ("HTTP://H:8080/Mlflow/api?x=1#f", "http://h:8080/Mlflow/api"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("https://u:p@h/x", "https://h/x"),
    ],
)
def test_normalize(url, want):
    assert normalize(url) == want


def test_tracking_url_guess():
    assert tracking_url_guess("https://h/mlflow/api/2.0/mlflow/runs/get?run_id=1") == "https://h/mlflow"
    assert tracking_url_guess("http://h:5000/ajax-api/2.0/mlflow/x") == "http://h:5000"
    assert tracking_url_guess("http://h:5000/") == "http://h:5000"


# -- matching --------------------------------------------------------------------------


def test_longest_prefix_and_segment_boundary(fake):
    fake.add("root", "http://h:8080", "carol", "pw-root").add("sub", "http://h:8080/mlflow", "bob", "pw-sub").write()
    r = Resolver()
    assert r.header_for("http://h:8080/mlflow/api/2.0/mlflow/x?y=1") == basic("bob", "pw-sub")
    assert r.header_for("http://H:8080/api/2.0/mlflow/x") == basic("carol", "pw-root")
    assert r.header_for("http://h:8080/mlflow2/api") == basic("carol", "pw-root")
    assert r.header_for("http://h:8080/mlflow") == basic("bob", "pw-sub")
    assert fake.runs == 2, "one run per server, then from memory"
    for _ in range(100):
        r.header_for("http://h:8080/mlflow/api/2.0/mlflow/runs/log-metric")
        r.header_for("http://h:8080/api/2.0/mlflow/runs/log-metric")
    assert fake.runs == 2


def test_same_url_two_accounts_follows_the_active_one(fake):
    fake.add("a", "http://h", "alice", "pa").add("b", "http://h", "bob", "pb")
    fake.active = "b"
    fake.write()
    r = Resolver()
    assert r.header_for("http://h/api") == basic("bob", "pb")
    fake.active = "a"
    fake.write()
    assert r.header_for("http://h/api") == basic("alice", "pa")
    fake.active = None
    fake.write()
    assert r.header_for("http://h/api") == basic("alice", "pa"), "no active one: the first by name"
    assert fake.runs == 3


def test_unknown_url_fails_clearly_without_a_run(fake):
    fake.add("prod", "https://prod.example.com/mlflow").write()
    r = Resolver()
    r.header_for("https://prod.example.com/mlflow/api/2.0/mlflow/x")
    runs = fake.runs
    with pytest.raises(UnknownServerError) as e:
        r.header_for("http://127.0.0.1:5000/api/2.0/mlflow/runs/create?token=abc")
    msg = str(e.value)
    assert "http://127.0.0.1:5000/api/2.0/mlflow/runs/create" in msg
    assert "token=abc" not in msg, "the query can hold anything: left out"
    assert "mlflow-login login NAME --url http://127.0.0.1:5000 --username USER" in msg
    assert "prod (https://prod.example.com/mlflow)" in msg
    assert fake.runs == runs
    with pytest.raises(UnknownServerError):
        r.header_for("https://prod.example.com/mlflow2/api")  # not a segment boundary


def test_state_change_reloads_once(fake):
    fake.add("prod", "http://h", "alice", "p1").write()
    r = Resolver()
    assert r.header_for("http://h/api") == basic("alice", "p1")
    fake.servers[0]["secret"] = "p2"
    fake.write()
    assert r.header_for("http://h/api") == basic("alice", "p2")
    assert r.header_for("http://h/api") == basic("alice", "p2")
    assert fake.runs == 2


def test_config_edit_without_state_bump_reloads(fake):
    fake.add("prod", "http://h", "alice", "p1").write()
    r = Resolver()
    r.header_for("http://h/api")
    (fake.dir / "config.toml").write_text("# edited\n")
    fake.servers.append({"name": "sub", "url": "http://h/sub", "username": "bob", "secret": "p3", "auth": "basic"})
    fake.doc_file.write_text(json.dumps({"config_dir": str(fake.dir), "servers": fake.servers}))
    assert r.header_for("http://h/sub/api") == basic("bob", "p3")


def test_bearer(fake):
    fake.add("tok", "https://h", "bot", "tkn", auth="bearer").write()
    assert Resolver().header_for("https://h/api") == "Bearer tkn"


def test_no_password_stored(fake):
    fake.add("prod", "http://h", "alice", None).write()
    r = Resolver()
    for _ in range(3):
        with pytest.raises(NoCredentialError, match='no password is stored for the MLflow Login server "prod": run `mlflow-login login prod`'):
            r.header_for("http://h/api")
    assert fake.runs == 1, "the missing password is remembered until the state changes"


def test_program_failure_is_reported_and_not_retried_per_request(fake, monkeypatch):
    fake.add("prod", "http://h").write(exit=5, stderr="error: the keychain is locked: unlock it\n")
    r = Resolver()
    for _ in range(5):
        with pytest.raises(ProgramError, match=r"the keychain failed \(exit code 5\): error: the keychain is locked"):
            r.header_for("http://h/api")
    assert fake.runs == 1
    monkeypatch.setattr(_resolver, "RETRY_AFTER_S", 0.0)
    r._snapshot.until = 0
    fake.write()
    assert r.header_for("http://h/api") == basic("alice", SECRET)


def test_the_program_is_never_taken_from_the_current_folder(monkeypatch, tmp_path):
    """A cloned repository may hold a program named mlflow-login; the plugin hands its
    answer passwords. An empty or relative PATH entry means the current folder (and
    Windows' shutil.which looks there first): neither is searched. Security point 15."""
    here, real = tmp_path / "repo", tmp_path / "bin"
    for d in (here, real):
        d.mkdir()
        prog = d / "mlflow-login"
        prog.write_text("#!/bin/sh\n")
        prog.chmod(0o755)
    monkeypatch.chdir(here)
    monkeypatch.delenv("MLFLOW_LOGIN_BIN", raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", "repo", str(real)]))
    assert _resolver.find_program() == str(real / "mlflow-login")
    monkeypatch.setenv("PATH", os.pathsep.join(["", "."]))
    with pytest.raises(ProgramError, match="not found on PATH"):
        _resolver.find_program()


def test_missing_program(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_LOGIN_BIN", str(tmp_path / "nope"))
    with pytest.raises(ProgramError, match="MLFLOW_LOGIN_BIN is .* not an executable"):
        Resolver().header_for("http://h/api")
    monkeypatch.delenv("MLFLOW_LOGIN_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProgramError, match="not found on PATH: install MLflow Login, or set MLFLOW_LOGIN_BIN"):
        Resolver().header_for("http://h/api")


def test_wrong_protocol_version(fake):
    fake.add("prod", "http://h").write(version=99)
    with pytest.raises(ProgramError, match="does not speak version 1"):
        Resolver().header_for("http://h/api")


def test_threads_share_one_run(fake):
    fake.add("prod", "http://h", "alice", "p").write()
    r = Resolver()
    results = in_threads(8, lambda: [r.header_for("http://h/api/2.0/mlflow/x") for _ in range(50)])
    assert {h for hs in results for h in hs} == {basic("alice", "p")}
    assert fake.runs == 1


def in_threads(n, work):
    """Runs `work` in `n` threads at once; returns their results (raises their first error)."""
    results, errors = [], []

    def run():
        try:
            results.append(work())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# -- the auth object ---------------------------------------------------------------------


def test_userinfo_in_a_request_url_reaches_neither_argv_nor_errors(fake):
    # A URL like MLFLOW_TRACKING_URI=https://user:pass@host: requests keeps the userinfo in
    # the prepared request's URL.
    fake.add("prod", "http://h", "alice", SECRET).write()
    auth = mlflow_login.MlflowLoginAuth()
    req = prepared("http://bob:hunter2@h/api/2.0/mlflow/experiments/search")
    assert "hunter2" in req.url
    assert auth(req).headers["Authorization"] == basic("alice", SECRET)
    with pytest.raises(UnknownServerError) as e:
        auth(prepared("http://bob:hunter2@other:5000/api/2.0/mlflow/runs/create"))
    shown = " ".join([str(e.value), repr(e.value), e.value.url, e.value.tracking_url])
    assert "hunter2" not in shown and "bob" not in shown, shown
    assert "http://other:5000/api/2.0/mlflow/runs/create" in shown
    with pytest.raises(MlflowLoginError) as e:
        normalize("bob:hunter2@h/x")
    assert "hunter2" not in str(e.value)
    argv = fake.runs_file.read_text()
    assert "credential --url http://h/api" in argv, argv
    assert "hunter2" not in argv and "bob" not in argv, argv


@pytest.mark.parametrize(
    "url, want",
    [
        ("https://u:p@h:1/a@b?c@d", "https://h:1/a@b?c@d"),
        ("https://u@h", "https://h"),
        ("https://a@b:p@h/x", "https://h/x"),
        ("u:p@h/x", "h/x"),
        ("https://h/a@b", "https://h/a@b"),
        ("https://h?x=a@b", "https://h?x=a@b"),
    ],
)
def test_without_userinfo(url, want):
    assert _resolver.without_userinfo(url) == want


def test_no_password_for_this_machine_goes_through_a_proxy(fake, monkeypatch):
    fake.add("local", "http://127.0.0.1:5000").add("named", "http://localhost:5000").add("remote", "http://h").write()
    for var in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    auth = mlflow_login.MlflowLoginAuth()
    for url in ("http://127.0.0.1:5000/api/2.0/mlflow/x", "http://localhost:5000/api", "http://u:pw@[::1]:5000/api"):
        with pytest.raises(MlflowLoginError, match="NO_PROXY") as e:
            auth(prepared(url))
        assert "pw" not in str(e.value)
    # A remote server keeps its proxy; NO_PROXY, or no proxy at all, lets loopback through.
    assert auth(prepared("http://h/api"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert auth(prepared("http://127.0.0.1:5000/api"))
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("ALL_PROXY", "http://proxy.example:3128")
    with pytest.raises(MlflowLoginError, match="NO_PROXY"):
        auth(prepared("http://localhost:5000/api"))
    monkeypatch.delenv("ALL_PROXY")
    assert auth(prepared("http://localhost:5000/api"))


def test_auth_object_replaces_any_authorization_header(fake):
    fake.add("prod", "http://h", "alice", SECRET).write()
    auth = mlflow_login.MlflowLoginAuth()
    req = prepared("http://h/api/2.0/mlflow/experiments/search")
    req.headers["Authorization"] = basic("mallory", "wrong")
    assert auth(req).headers["Authorization"] == basic("alice", SECRET)


def test_nothing_shows_the_secret(fake):
    fake.add("prod", "http://h", "alice", SECRET).add("empty", "http://e", "bob", None).write()
    auth = mlflow_login.MlflowLoginAuth()
    auth(prepared("http://h/api"))
    texts = [repr(auth), str(auth), repr(auth.resolver), str(auth.resolver), repr(auth.resolver._snapshot)]
    texts += [repr(h) for h in auth.resolver._snapshot.headers.values()]
    errors = []
    for url in ("http://e/api", "http://unknown/api"):
        try:
            auth(prepared(url))
        except MlflowLoginError as e:
            errors.append(e)
    assert len(errors) == 2
    for e in errors:
        texts += [str(e), repr(e), "".join(traceback.format_exception(e))]
    token = basic("alice", SECRET).split()[1]
    for text in texts:
        assert SECRET not in text and token not in text, text
    with pytest.raises(TypeError):
        pickle.dumps(auth.resolver._snapshot.headers["prod"])
    assert pickle.loads(pickle.dumps(auth)).resolver._snapshot is None


def test_plugin_status_names_the_entry_point(fake):
    status = mlflow_login.plugin_status()
    assert status["entry_point"] == "mlflow_login.provider:MlflowLoginAuthProvider"
    assert status["program"] == os.environ["MLFLOW_LOGIN_BIN"]
    assert status["ok"] is True


def test_provider_is_registered_with_mlflow():
    from mlflow.tracking.request_auth.registry import fetch_auth

    first = fetch_auth("mlflow-login")
    assert isinstance(first, mlflow_login.MlflowLoginAuth)
    assert fetch_auth("mlflow-login") is first, "one auth object (and cache) per process"


def test_status_command_for_doctor(fake):
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "mlflow_login", "status"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["entry_point"] == "mlflow_login.provider:MlflowLoginAuthProvider" and status["ok"]
    env = dict(os.environ, MLFLOW_LOGIN_BIN="/nonexistent/mlflow-login")
    proc = subprocess.run([sys.executable, "-m", "mlflow_login"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "not an executable file" in json.loads(proc.stdout)["program_error"]


def test_warm_requests_start_no_process(fake):
    fake.add("prod", "http://h", "alice", "p").write()
    auth = mlflow_login.MlflowLoginAuth()
    req = prepared("http://h/api/2.0/mlflow/runs/log-metric")
    auth(req)
    spawned = []

    def hook(event, args):
        if event in ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.exec", "os.system"):
            spawned.append(event)

    sys.addaudithook(hook)  # cannot be removed: it only records into this test's list
    for i in range(1000):
        auth(prepared(f"http://h/api/2.0/mlflow/runs/get?run_id={i}"))
    assert spawned == [] and fake.runs == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_fork_while_locked_does_not_hang(fake):
    fake.add("prod", "http://h", "alice", "p").write()
    r = Resolver()
    r.header_for("http://h/api")
    with r._lock:
        pid = os.fork()
        if pid == 0:  # the child: its lock must be a fresh one
            ok = r._lock.acquire(timeout=5)
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# -- single sign-on: fresh tokens, one run per expiry --------------------------------------


class Clock:
    """The resolver's wall clock, moved by hand."""

    def __init__(self, monkeypatch, t=1_800_000_000.0):
        self.t = t
        monkeypatch.setattr(_resolver, "_now", lambda: self.t)


# How long before expiry the fake program says to refresh (its ``refresh_at``). The real
# margin is core's alone (crates/core/src/oidc/tokens.rs; test_contract.py checks that the
# plugin keeps core's refresh_at): the plugin only follows what the program says.
MARGIN_S = 10


def sso(fake, token, expires_at, **more):
    more.setdefault("refresh_at", expires_at - MARGIN_S)
    fake.servers = [
        {"name": "corp", "url": "https://h", "username": None, "secret": token, "auth": "bearer", "expires_at": expires_at, **more}
    ]
    return fake


def test_sso_token_is_cached_until_near_expiry_then_fetched_once(fake, monkeypatch):
    clock = Clock(monkeypatch)
    t0 = clock.t
    # 100 s left, due 10 s before its expiry.
    sso(fake, "at1", t0 + 100).write()
    r = Resolver()
    assert r.header_for("https://h/api/2.0/mlflow/runs/get") == "Bearer at1"
    clock.t = t0 + 89.9
    for _ in range(100):
        assert r.header_for("https://h/api/2.0/mlflow/runs/get") == "Bearer at1"
    assert fake.runs == 1
    # The program refreshed it meanwhile (the state file does not change on a refresh).
    sso(fake, "at2", t0 + 190).write(bump=False)
    clock.t = t0 + 90
    assert r.header_for("https://h/api/2.0/mlflow/runs/get") == "Bearer at2"
    assert r.header_for("https://h/api/2.0/mlflow/experiments/search") == "Bearer at2"
    assert fake.runs == 2
    assert "--url https://h/api/2.0/mlflow/runs/get" in fake.runs_file.read_text().splitlines()[-1]


def test_the_refresh_time_is_the_programs_never_the_plugins(fake, monkeypatch):
    clock = Clock(monkeypatch)
    now = clock.t
    assert _resolver.refresh_time({"expires_at": now + 3600, "refresh_at": now + 3000}, now) == now + 3000
    assert _resolver.refresh_time({"expires_at": now + 3600, "refresh_at": now + 3599}, now) == now + 3599
    # No margin of the plugin's own: without a refresh time, the token lasts to its expiry.
    assert _resolver.refresh_time({"expires_at": now + 3600}, now) == now + 3600
    assert _resolver.refresh_time({"expires_at": None}, now) == float("inf")
    assert _resolver.refresh_time({}, now) == float("inf")


def test_a_token_already_due_does_not_start_a_process_per_request(fake, monkeypatch):
    clock = Clock(monkeypatch)
    sso(fake, "at1", clock.t).write()  # expires now: a clock that disagrees with the program's
    r = Resolver()
    for _ in range(50):
        assert r.header_for("https://h/api") == "Bearer at1"
    assert fake.runs == 1


def test_threads_share_one_renewal(fake, monkeypatch):
    clock = Clock(monkeypatch)
    t0 = clock.t
    sso(fake, "at1", t0 + 100).write()
    r = Resolver()
    r.header_for("https://h/api")
    sso(fake, "at2", t0 + 200).write(bump=False, sleep=0.3)
    clock.t = t0 + 95
    assert in_threads(8, lambda: r.header_for("https://h/api/2.0/mlflow/x")) == ["Bearer at2"] * 8
    assert fake.runs == 2


def test_refused_refresh_says_log_in_again(fake, monkeypatch):
    clock = Clock(monkeypatch)
    t0 = clock.t
    sso(fake, "at1", t0 + 100).write()
    r = Resolver()
    r.header_for("https://h/api")
    fake.write(
        bump=False,
        exit=3,
        stderr='error: cannot get a fresh single sign-on token for "corp"\nCaused by: refused\nhelp: log in again: mlflow-login login corp\n',
    )
    clock.t = t0 + 95
    for _ in range(5):
        with pytest.raises(LoginRequiredError, match=r"log in again with `mlflow-login login corp`") as e:
            r.header_for("https://h/api")
        assert isinstance(e.value, MlflowLoginError)
        assert "at1" not in str(e.value)
    assert fake.runs == 2, "the refusal is remembered for a moment, not asked per request"
    # Logging in again rewrites the state: the next request asks again.
    sso(fake, "at3", t0 + 300).write()
    assert r.header_for("https://h/api") == "Bearer at3"


def test_refused_on_the_first_request_names_the_command_too(fake):
    fake.add("corp", "https://h", None, "x", auth="bearer").write(
        exit=3, stderr="error: cannot get a fresh single sign-on token\nhelp: log in again: mlflow-login login corp\n"
    )
    with pytest.raises(LoginRequiredError, match="log in again.*mlflow-login login corp"):
        Resolver().header_for("https://h/api")


def test_unreachable_provider_keeps_the_token_while_it_lasts(fake, monkeypatch):
    clock = Clock(monkeypatch)
    t0 = clock.t
    sso(fake, "at1", t0 + 100).write()
    r = Resolver()
    r.header_for("https://h/api")
    fake.write(bump=False, exit=1, stderr="error: cannot reach the identity provider\n")
    clock.t = t0 + 95
    assert r.header_for("https://h/api") == "Bearer at1"
    assert r.header_for("https://h/api") == "Bearer at1"
    assert fake.runs == 2, "asked once, then not again for RETRY_AFTER_S"
    clock.t += _resolver.RETRY_AFTER_S
    sso(fake, "at2", t0 + 200).write(bump=False)
    assert r.header_for("https://h/api") == "Bearer at2"
    assert fake.runs == 3
    # Once it has expired, the failure is the answer.
    fake.write(bump=False, exit=1, stderr="error: cannot reach the identity provider\n")
    clock.t = t0 + 200
    with pytest.raises(ProgramError, match="cannot reach the identity provider"):
        r.header_for("https://h/api")


def test_renewal_keeps_other_servers_cached(fake, monkeypatch):
    clock = Clock(monkeypatch)
    t0 = clock.t
    sso(fake, "at1", t0 + 100)
    fake.add("prod", "http://p", "alice", "pw").write()
    r = Resolver()
    assert r.header_for("https://h/api") == "Bearer at1"
    assert r.header_for("http://p/api") == basic("alice", "pw")
    fake.servers[0].update(secret="at2", expires_at=t0 + 200, refresh_at=t0 + 200 - MARGIN_S)
    fake.write(bump=False)
    clock.t = t0 + 95
    assert r.header_for("https://h/api") == "Bearer at2"
    assert r.header_for("http://p/api") == basic("alice", "pw")
    assert fake.runs == 3


# -- a token the server refuses before its expiry: one renewal, one retry --------------


def fp(token):
    """The fingerprint the program gives for `token` (crates/core/src/oidc/tokens.rs)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class Server:
    """A real HTTP server on loopback that accepts only the bearer tokens in `accepted`
    and records every request (its Authorization header and body)."""

    def __init__(self, accepted):
        self.accepted = set(accepted)
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization")
                outer.seen.append((auth, body))
                ok = auth in {f"Bearer {t}" for t in outer.accepted}
                text = b"{}" if ok else b'{"error_code": "UNAUTHENTICATED"}'
                self.send_response(200 if ok else 401)
                if not ok:
                    self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = do_any

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    s = Server(["at2"])
    yield s
    s.close()


def refused_world(fake, server, monkeypatch, **more):
    """An SSO server whose cached token at1 the server refuses; the program's next answer
    is at2 (its refresh). Returns the session and the auth object, warm on at1."""
    clock = Clock(monkeypatch)
    t0 = clock.t
    fake.servers = [
        {
            "name": "corp",
            "url": server.url,
            "username": None,
            "secret": "at1",
            "auth": "bearer",
            "expires_at": t0 + 3600,
            "fingerprint": fp("at1"),
        }
    ]
    fake.write()
    auth = mlflow_login.MlflowLoginAuth(Resolver())
    assert auth.resolver.header_for(server.url + "/api") == "Bearer at1"
    fake.servers[0].update(secret="at2", expires_at=t0 + 3600, fingerprint=fp("at2"), **more)
    fake.write(bump=False)  # a refresh does not change the state file
    return requests.Session(), auth


def refused_runs(fake):
    return [line for line in fake.runs_file.read_text().splitlines() if "--refused" in line]


def test_a_refused_sso_token_is_renewed_and_the_request_sent_once_more(fake, server, monkeypatch):
    session, auth = refused_world(fake, server, monkeypatch)
    r = session.post(server.url + "/api/2.0/mlflow/runs/create", data=b'{"x": 1}', auth=auth, timeout=30)
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [401]
    assert r.request.headers["Authorization"] == "Bearer at2"
    assert server.seen == [("Bearer at1", b'{"x": 1}'), ("Bearer at2", b'{"x": 1}')]
    assert fake.runs == 2
    assert refused_runs(fake) == [f"credential --url {server.url}/api/2.0/mlflow/runs/create --refused {fp('at1')}"]
    # The next request has the new token: no 401, no run.
    r = session.get(server.url + "/api/2.0/mlflow/experiments/search", auth=auth, timeout=30)
    assert (r.status_code, r.history) == (200, [])
    assert fake.runs == 2


def test_threads_refused_together_share_one_renewal(fake, server, monkeypatch):
    session, auth = refused_world(fake, server, monkeypatch, sleep=0.3)
    # Every thread's request goes out with at1 before any renewal.
    sent = threading.Barrier(8)
    inner = auth.resolver.credential_for

    def after_lookup(url):
        found = inner(url)
        sent.wait(timeout=10)
        return found

    monkeypatch.setattr(auth.resolver, "credential_for", after_lookup)

    def one():
        r = requests.get(server.url + "/api/2.0/mlflow/runs/get", auth=auth, timeout=30)
        return r.status_code, [h.status_code for h in r.history]

    assert in_threads(8, one) == [(200, [401])] * 8
    assert len(refused_runs(fake)) == 1, fake.runs_file.read_text()
    assert sorted(a for a, _ in server.seen) == ["Bearer at1"] * 8 + ["Bearer at2"] * 8


def test_a_body_that_cannot_be_sent_again_gets_the_401_and_the_next_request_the_new_token(fake, server, monkeypatch):
    session, auth = refused_world(fake, server, monkeypatch)
    r = session.post(server.url + "/api/2.0/mlflow/upload", data=iter([b"chunk"]), auth=auth, timeout=30)
    assert (r.status_code, r.history) == (401, [])
    assert len(refused_runs(fake)) == 1
    r = session.post(server.url + "/api/2.0/mlflow/upload", data=iter([b"chunk"]), auth=auth, timeout=30)
    assert (r.status_code, r.request.headers["Authorization"]) == (200, "Bearer at2")
    assert fake.runs == 2


def test_one_retry_per_request_never_a_loop(fake, server, monkeypatch):
    session, auth = refused_world(fake, server, monkeypatch)
    server.accepted = set()  # the new token is refused too
    r = session.get(server.url + "/api", auth=auth, timeout=30)
    assert r.status_code == 401
    assert [h.status_code for h in r.history] == [401]
    assert [a for a, _ in server.seen] == ["Bearer at1", "Bearer at2"]
    assert len(refused_runs(fake)) == 1
    # The token the refusal brought is refused too: the next requests get their 401 without
    # a refresh each (at most one per REFUSED_RENEW_EVERY_S).
    for _ in range(3):
        r = session.get(server.url + "/api", auth=auth, timeout=30)
        assert (r.status_code, r.history) == (401, [])
    assert len(refused_runs(fake)) == 1
    assert len(server.seen) == 5
    # A minute later, one more try; the program hands out the same token: nothing to retry with.
    later = _resolver._now() + _resolver.REFUSED_RENEW_EVERY_S + 1
    monkeypatch.setattr(_resolver, "_now", lambda: later)
    r = session.get(server.url + "/api", auth=auth, timeout=30)
    assert (r.status_code, r.history) == (401, [])
    assert refused_runs(fake)[-1].endswith(f"--refused {fp('at2')}")
    assert len(refused_runs(fake)) == 2


def test_a_refused_renewal_that_fails_says_why(fake, server, monkeypatch):
    session, auth = refused_world(fake, server, monkeypatch)
    fake.write(
        bump=False,
        exit=3,
        stderr='error: cannot get a fresh single sign-on token for "corp"\nhelp: log in again: mlflow-login login corp\n',
    )
    with pytest.raises(LoginRequiredError, match="log in again with `mlflow-login login corp`"):
        session.get(server.url + "/api", auth=auth, timeout=30)
    assert len(refused_runs(fake)) == 1


@pytest.mark.parametrize("auth_kind", ["basic", "bearer"])
def test_passwords_and_fixed_tokens_are_not_retried(fake, server, auth_kind):
    fake.add("prod", server.url, "alice", "pw", auth=auth_kind).write()
    auth = mlflow_login.MlflowLoginAuth(Resolver())
    r = requests.get(server.url + "/api", auth=auth, timeout=30)
    assert (r.status_code, r.history) == (401, [])
    assert r.request.hooks["response"] == []
    assert fake.runs == 1
