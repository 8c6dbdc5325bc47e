"""Single sign-on through the plugin, everything real: the `mlflow-login` program, the
private gnome-keyring, the fixture IdP (oidc-provider, rotating refresh tokens that end the
session when one is replayed) and the mod_auth_openidc proxy in front of MLflow.

Four Python processes use MLflow's client through the plugin across three access-token
expiries: no request is refused, each process runs the program once per token (never per
request), and the IdP sees one refresh per expiry (counted for this test's own client,
registered with a short token lifetime, tests/fixtures/oidc/README.md).

A token the proxy refuses while its expiry says it is fresh: the plugin refreshes it once
and sends the request again; the MLflow call succeeds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import mlflow_login
from conftest import need_env

pytestmark = pytest.mark.real

# Access-token lifetime of this test's client: core refreshes at 90% of it (1 s before).
TTL = 10
EXPIRIES = 3
PROCESSES = 4


class Oidc:
    def __init__(self):
        self.issuer = need_env("MLL_OIDC_ISSUER")
        self.proxy = need_env("MLL_OIDC_PROXY_URL")
        self.admin = need_env("MLL_OIDC_ADMIN_URL")
        self.browser = need_env("MLL_OIDC_BROWSER")
        need_env("MLL_OIDC_USER")
        need_env("MLL_OIDC_PASSWORD")

    def register(self, ttl: int) -> str:
        r = requests.post(
            f"{self.issuer}/reg",
            json={
                "application_type": "native",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
                "response_types": ["code"],
                "redirect_uris": ["http://127.0.0.1/callback"],
                "mll_access_token_ttl": ttl,
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return r.json()["client_id"]

    def refresh_events(self, client: str) -> list[dict]:
        r = requests.get(f"{self.admin}/events", params={"client_id": client}, timeout=30)
        r.raise_for_status()
        return [e for e in r.json()["events"] if e["endpoint"] == "token" and e["grant_type"] == "refresh_token"]


@pytest.fixture
def oidc():
    need_env("MLL_TEST_HOME")
    return Oidc()


def sso_login(cli, oidc: Oidc, name: str, client: str) -> None:
    """`login NAME --url PROXY --sso --client-id CLIENT`, signed in by the scripted browser
    (a display makes the browser flow the default)."""
    env = dict(cli.env, DISPLAY=":mll-test", BROWSER=oidc.browser)
    proc = subprocess.run(
        [cli.program, "login", name, "--url", oidc.proxy, "--sso", "--client-id", client, "--timeout", "60"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


# One process: MLflow requests through the plugin until the file STOP exists; per request
# the status and a digest of the token sent (never the token).
WORKER = r"""
import hashlib, json, os, sys, time
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request
import mlflow_login

uri, stop = sys.argv[1], sys.argv[2]
creds = get_default_host_creds(uri)
seen, statuses = [], {}
while not os.path.exists(stop):
    r = http_request(creds, "/api/2.0/mlflow/experiments/search", "GET", params={"max_results": 1}, max_retries=0)
    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    digest = hashlib.sha256(r.request.headers["Authorization"].encode()).hexdigest()[:16]
    if not seen or seen[-1] != digest:
        seen.append(digest)
        open(stop + ".ready." + str(os.getpid()), "w").close()
    time.sleep(0.05)
print(json.dumps({"statuses": statuses, "tokens": seen, "runs": mlflow_login.auth().resolver.program_runs}))
"""


def test_four_processes_across_three_expiries_refresh_once_each(cli, oidc, python_env, tmp_path):
    client = oidc.register(TTL)
    sso_login(cli, oidc, "corp", client)
    env = dict(
        python_env,
        MLFLOW_TRACKING_AUTH="mlflow-login",
        MLFLOW_TRACKING_URI=oidc.proxy,
        # This checkout's plugin, whatever the venv's editable install points at.
        PYTHONPATH=str(Path(mlflow_login.__file__).parents[1]),
    )
    stop = tmp_path / "stop"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, oidc.proxy, str(stop)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    # Once every process made its first request: until the IdP has seen EXPIRIES more
    # refreshes, then a moment for every process to use the newest token (bounded: a plugin
    # that never refreshes fails the counts below).
    limit = time.monotonic() + 2 * EXPIRIES * TTL + 120
    while len(list(tmp_path.glob("stop.ready.*"))) < PROCESSES and time.monotonic() < limit:
        time.sleep(0.2)
    before = len(oidc.refresh_events(client))
    while len(oidc.refresh_events(client)) < before + EXPIRIES and time.monotonic() < limit:
        time.sleep(0.5)
    time.sleep(2)
    stop.write_text("")
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    for r in results:
        assert set(r["statuses"]) == {"200"}, f"a request was refused: {r['statuses']}"
        # One run of the program per token, never per request.
        assert r["runs"] == len(r["tokens"]), r
    events = oidc.refresh_events(client)
    assert all(e["outcome"] == "ok" for e in events), f"a refresh failed (a replayed refresh token?): {events}"
    assert len(events) >= before + EXPIRIES, f"{len(events)} refreshes, want {before} + {EXPIRIES}"
    for r in results:
        assert len(r["tokens"]) >= EXPIRIES + 1, f"a process did not cross {EXPIRIES} expiries: {r}"
    # Every refresh gave the token the processes then used (only the login's own token may
    # have expired before a slow process started).
    unused = len(events) + 1 - len({t for r in results for t in r["tokens"]})
    assert unused == 0 or (unused == 1 and before > 0), f"{unused} tokens were never used: wasted refreshes"
    # One refresh per expiry: never two for one token's lifetime (core refreshes at 90%).
    times = [e["t_ms"] for e in events]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= (TTL * 0.9 - 1) * 1000 for g in gaps), f"refreshes closer than a token's lifetime: {gaps} ms"

    # The session is kept: the program still gets a token the proxy takes.
    doc = json.loads(cli("credential", "--url", oidc.proxy).stdout)
    token = doc["credential"]["secret"]
    r = requests.get(
        f"{oidc.proxy}/api/2.0/mlflow/experiments/search",
        params={"max_results": 1},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200
    del token, doc


def test_a_refused_refresh_says_log_in_again(cli, oidc, monkeypatch):
    client = oidc.register(TTL)
    sso_login(cli, oidc, "corp", client)
    resolver = mlflow_login._resolver.Resolver()
    url = f"{oidc.proxy}/api/2.0/mlflow/experiments/search"
    assert resolver.header_for(url).startswith("Bearer ")
    # The IdP ends the session; the next refresh is refused.
    r = requests.post(f"{oidc.admin}/revoke-grants", json={"user": os.environ["MLL_OIDC_USER"]}, timeout=30)
    r.raise_for_status()
    time.sleep(TTL)  # the token is now near expiry: the next request refreshes
    with pytest.raises(mlflow_login.LoginRequiredError, match="log in again with `mlflow-login login corp`"):
        resolver.header_for(url)


# One MLflow client call through the plugin in a fresh process: the first request's status
# and history (a refusal answered by a retry shows as history), then MLflow's own client.
REFUSED_WORKER = r"""
import json, sys
import mlflow
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request
import mlflow_login

uri = sys.argv[1]
r = http_request(get_default_host_creds(uri), "/api/2.0/mlflow/experiments/search", "GET",
                 params={"max_results": 1}, max_retries=0)
first = {"status": r.status_code, "history": [h.status_code for h in r.history]}
experiments = mlflow.MlflowClient(uri).search_experiments(max_results=1)
print(json.dumps({"first": first, "experiments": len(experiments),
                  "runs": mlflow_login.auth().resolver.program_runs}))
"""


def keychain(*args: str, input: str | None = None) -> str:
    """`secret-tool` against the test's private keychain (the secret on stdin only)."""
    try:
        proc = subprocess.run(
            ["secret-tool", *args], input=input, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        pytest.fail("secret-tool is missing: apt-get install libsecret-tools", pytrace=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_token_refused_before_its_expiry_is_refreshed_once_and_the_call_succeeds(cli, oidc, python_env):
    client = oidc.register(3600)  # an hour: only the refusal can cause a refresh
    sso_login(cli, oidc, "corp", client)
    # The keychain entry the CLI uses (crates/core/src/vault.rs `EntryKey::for_server`):
    # service = the prefix + the server's normalised URL, account "sso:" + the server's name
    # (a single sign-on session is its server's own).
    url = {s["name"]: s["url"] for s in json.loads(cli("credential", "--no-secret").stdout)["servers"]}["corp"]
    attributes = ["service", os.environ["MLFLOW_LOGIN_KEYCHAIN_PREFIX"] + url, "username", "sso:corp"]
    tokens = json.loads(keychain("lookup", *attributes))
    assert tokens["expires_at"] > time.time() + 600, "fresh by its expiry"
    # The proxy will refuse it (revoked, say), while its expiry still says fresh.
    garbage = "garbage." + os.urandom(16).hex() + ".garbage"
    tokens["access_token"] = garbage
    keychain("store", "--label", "refused token", *attributes, input=json.dumps(tokens))
    del tokens
    before = len(oidc.refresh_events(client))

    env = dict(
        python_env,
        MLFLOW_TRACKING_AUTH="mlflow-login",
        MLFLOW_TRACKING_URI=oidc.proxy,
        PYTHONPATH=str(Path(mlflow_login.__file__).parents[1]),
    )
    proc = subprocess.run(
        [sys.executable, "-c", REFUSED_WORKER, oidc.proxy], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # The stored token was sent, refused, refreshed once, and the request sent again.
    assert result["first"] == {"status": 200, "history": [401]}, result
    assert result["experiments"] >= 1, result
    assert result["runs"] == 2, f"one run for the token, one for its refusal: {result}"
    events = oidc.refresh_events(client)[before:]
    assert [e["outcome"] for e in events] == ["ok"], events
    # The keychain holds the new token: the next process sends it at once.
    proc = subprocess.run(
        [sys.executable, "-c", REFUSED_WORKER, oidc.proxy], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["first"] == {"status": 200, "history": []}
    assert len(oidc.refresh_events(client)) == before + 1

    # The program itself: a process that comes late with the same refusal gets the token
    # that replaced it, without another refresh.
    refused = hashlib.sha256(garbage.encode()).hexdigest()[:16]
    credential = json.loads(cli("credential", "--url", oidc.proxy, "--refused", refused).stdout)["credential"]
    assert credential["fingerprint"] == hashlib.sha256(credential["secret"].encode()).hexdigest()[:16]
    assert credential["fingerprint"] != refused
    assert len(oidc.refresh_events(client)) == before + 1
    del credential
    assert cli("credential", "--url", oidc.proxy, "--refused", "not-a-fingerprint", check=False).returncode == 2
