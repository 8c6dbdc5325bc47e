"""The plugin with everything real: the `mlflow-login` program, the private gnome-keyring,
nginx auth_basic in front of MLflow 3.17.2, and MLflow's own client.

nginx's access log records the user each request authenticated as ($remote_user), so
"which credentials did this request carry" is read from the server's side.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import traceback
import uuid

import pytest
import requests

import mlflow_login
from conftest import need_env

pytestmark = pytest.mark.real


def client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def search_marked(uri: str) -> str:
    """One MLflow API request whose URL carries a unique marker, through the MLflow
    client's HTTP layer (so through the plugin); returns the marker."""
    from mlflow.utils.rest_utils import http_request
    from mlflow.utils.credentials import get_default_host_creds

    marker = f"mll-{uuid.uuid4().hex[:12]}"
    resp = http_request(
        get_default_host_creds(uri),
        "/api/2.0/mlflow/experiments/get-by-name",
        "GET",
        params={"experiment_name": marker},
        max_retries=0,
    )
    assert resp.status_code in (200, 404), (resp.status_code, resp.text[:200])
    return marker


def test_mlflow_logs_runs_with_no_password_in_the_environment(cli, fx, python_env):
    cli.login("prod", fx.nginx, "alice", fx.alice_pw)
    env = dict(python_env, MLFLOW_TRACKING_AUTH="mlflow-login", MLFLOW_TRACKING_URI=fx.nginx)
    assert not any(k in env for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"))
    assert fx.alice_pw not in "".join(env.values())
    code = """
import json, mlflow
mlflow.set_experiment("mll-plugin-" + __import__("uuid").uuid4().hex[:8])
with mlflow.start_run() as run:
    mlflow.log_param("p", 1)
    mlflow.log_metric("m", 0.5)
got = mlflow.get_run(run.info.run_id)
print(json.dumps({"run": run.info.run_id, "params": got.data.params, "metrics": got.data.metrics}))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["params"] == {"p": "1"} and out["metrics"] == {"m": 0.5}
    # Seen from outside, with plain Basic auth: the run is on the server.
    r = requests.get(
        f"{fx.nginx}/api/2.0/mlflow/runs/get",
        params={"run_id": out["run"]},
        auth=(b"alice", fx.alice_pw.encode()),
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["run"]["data"]["params"] == [{"key": "p", "value": "1"}]
    assert fx.alice_pw not in proc.stdout + proc.stderr


def test_activate_sets_auth_and_tracking_uri(cli, fx, python_env):
    cli.login("prod", fx.subpath, "bob", fx.bob_pw)
    code = """
import json, os, mlflow_login
uri = mlflow_login.activate()
import mlflow
exp = mlflow.set_experiment("mll-activate-" + __import__("uuid").uuid4().hex[:8])
print(json.dumps({"uri": uri, "tracking": mlflow.get_tracking_uri(), "auth": os.environ["MLFLOW_TRACKING_AUTH"], "exp": exp.experiment_id}))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=python_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["uri"] == fx.subpath and out["tracking"] == fx.subpath
    assert out["auth"] == "mlflow-login"
    # A tracking URI already set is left alone.
    env = dict(python_env, MLFLOW_TRACKING_URI=fx.nginx)
    proc = subprocess.run(
        [sys.executable, "-c", "import mlflow_login, os; print(mlflow_login.activate(), os.environ['MLFLOW_TRACKING_URI'])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.split() == ["None", fx.nginx], proc.stderr


def test_two_servers_in_one_process_get_their_own_credentials(cli, fx, monkeypatch):
    cli.login("main", fx.nginx, "alice", fx.alice_pw)
    cli.login("sub", fx.subpath, "bob", fx.bob_pw)
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    for _ in range(2):
        m1, m2 = search_marked(fx.nginx), search_marked(fx.subpath)
        assert fx.access_log_user(m1) == ["alice"]
        assert fx.access_log_user(m2) == ["bob"]
    # And through MLflow's client, a run on each.
    for uri in (fx.nginx, fx.subpath):
        c = client(uri)
        exp = c.create_experiment(f"mll-two-{uuid.uuid4().hex[:8]}")
        run = c.create_run(exp)
        c.log_metric(run.info.run_id, "x", 1.0)
        assert c.get_run(run.info.run_id).data.metrics == {"x": 1.0}
    assert mlflow_login.auth().resolver.program_runs == 2, "one program run per server, no more"


def test_a_switch_between_two_requests_takes_effect(cli, fx, monkeypatch):
    # Two accounts on one server: the active one is used.
    cli.login("as-alice", fx.nginx, "alice", fx.alice_pw)
    cli.login("as-bob", fx.nginx, "bob", fx.bob_pw)
    cli("use", "as-alice")
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    assert fx.access_log_user(search_marked(fx.nginx)) == ["alice"]
    runs = mlflow_login.auth().resolver.program_runs
    for _ in range(20):
        search_marked(fx.nginx)
    assert mlflow_login.auth().resolver.program_runs == runs, "no process per request"
    cli("use", "as-bob")
    assert fx.access_log_user(search_marked(fx.nginx)) == ["bob"]
    cli("use", "as-alice")
    assert fx.access_log_user(search_marked(fx.nginx)) == ["alice"]


def test_a_new_password_between_two_requests_takes_effect(cli, fx, monkeypatch):
    cli.login("prod", fx.nginx, "alice", "not-the-password", verify=False)
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    c = client(fx.nginx)
    with pytest.raises(Exception) as e:
        c.search_experiments(max_results=1)
    assert "401" in str(e.value)
    assert "not-the-password" not in "".join(traceback.format_exception(e.value))
    cli.login("prod", fx.nginx, "alice", fx.alice_pw)
    c.search_experiments(max_results=1)  # same process, same client: now accepted
    cli("logout", "prod")
    with pytest.raises(Exception) as e:
        c.search_experiments(max_results=1)
    msg = str(e.value)
    assert 'no password is stored for the MLflow Login server "prod"' in msg, msg
    assert fx.alice_pw not in "".join(traceback.format_exception(e.value))


def test_netrc_and_env_credentials_do_not_override(cli, fx, monkeypatch, tmp_path):
    cli.login("prod", fx.nginx, "alice", fx.alice_pw)
    host = fx.nginx.split("://", 1)[1].split(":")[0]
    netrc = tmp_path / "home" / ".netrc"
    netrc.write_text(f"machine {host}\nlogin alice\npassword wrong-from-netrc\n")
    netrc.chmod(0o600)
    # Control: without the plugin, this ~/.netrc is what requests sends, and it fails.
    r = requests.get(f"{fx.nginx}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, timeout=30)
    assert r.status_code == 401, "the control request should have used the wrong ~/.netrc password"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-from-env")
    with pytest.raises(Exception, match="401"):
        client(fx.nginx).search_experiments(max_results=1)  # control: env creds, no plugin
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    c = client(fx.nginx)
    c.search_experiments(max_results=1)
    assert fx.access_log_user(search_marked(fx.nginx)) == ["alice"]


def test_unknown_url_fails_clearly_and_sends_nothing_unauthenticated(cli, fx, monkeypatch):
    cli.login("prod", fx.nginx, "alice", fx.alice_pw)
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    # MLflow without any auth: a request sent without credentials would succeed, so
    # success here would mean the plugin let it through unauthenticated.
    with pytest.raises(Exception) as e:
        client(fx.direct).search_experiments(max_results=1)
    msg = str(e.value)
    assert f"no MLflow Login server is configured for {fx.direct}/api/2.0/mlflow/experiments/search" in msg, msg
    assert f"mlflow-login login NAME --url {fx.direct} --username USER" in msg, msg
    assert f"prod ({fx.nginx})" in msg, msg


def test_sub_path_beats_root_on_the_same_host(cli, fx, monkeypatch):
    root = fx.subpath.rsplit("/", 1)[0]
    cli.login("root", root, "carol", "some-other-password", verify=False)
    cli.login("sub", fx.subpath, "bob", fx.bob_pw)
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    assert fx.access_log_user(search_marked(fx.subpath)) == ["bob"]
    header = mlflow_login.auth().resolver.header_for(f"{root}/other/api")
    assert base64.b64decode(header.split()[1]).decode().startswith("carol:")


def test_python_and_program_agree_on_which_server(cli, fx, isolated):
    """The plugin repeats the program's longest-prefix choice on its cached list; both
    must pick the same server for every URL."""
    base = fx.nginx  # http://127.0.0.1:PORT
    port = base.rsplit(":", 1)[1]
    for name, url, user in [
        ("root", base, "alice"),
        ("sub", f"{base}/mlflow", "bob"),
        ("deep", f"{base}/mlflow/team-a", "carol"),
        ("twin", f"{base}/mlflow", "dave"),
        ("other", f"http://localhost:{port}", "erin"),
    ]:
        cli.login(name, url, user, "pw", verify=False)
    cli("use", "twin")
    resolver = mlflow_login.auth().resolver
    urls = [
        f"{base}/api/2.0/mlflow/runs/get?run_id=1",
        f"{base}/mlflow",
        f"{base}/mlflow/",
        f"{base}/mlflow/api/2.0/x",
        f"{base}/mlflow2/api",
        f"{base}/mlflow/team-a/api",
        f"{base}/mlflow/team-ab/api",
        f"HTTP://127.0.0.1:{port}/MLflow/api",
        f"http://LOCALHOST:{port}/api",
    ]
    for url in urls:
        program = json.loads(cli("credential", "--url", url, "--no-secret").stdout)["server"]
        header = resolver.header_for(url)
        user = base64.b64decode(header.split()[1]).decode().split(":")[0]
        servers = json.loads(cli("credential", "--no-secret").stdout)["servers"]
        want_user = {s["name"]: s["username"] for s in servers}[program]
        assert user == want_user, (url, program, user)


def test_nothing_shows_the_password(cli, fx, monkeypatch, capfd):
    import logging

    cli.login("prod", fx.nginx, "alice", fx.alice_pw)
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "mlflow-login")
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        search_marked(fx.nginx)
    finally:
        logging.getLogger().setLevel(logging.WARNING)
    auth = mlflow_login.auth()
    token = base64.b64encode(f"alice:{fx.alice_pw}".encode()).decode()
    texts = [repr(auth), str(auth), repr(auth.resolver), repr(vars(auth))]
    texts += [repr(v) for v in auth.resolver._snapshot.headers.values()]
    cli("logout", "prod")
    for url in (fx.nginx + "/api/2.0/mlflow/x", fx.direct + "/api/2.0/mlflow/x"):
        try:
            auth.resolver.header_for(url)
            pytest.fail("expected an error")
        except mlflow_login.MlflowLoginError as e:
            texts += [str(e), repr(e), "".join(traceback.format_exception(e))]
    out, err = capfd.readouterr()
    texts += [out, err]
    for text in texts:
        assert fx.alice_pw not in text and token not in text


def test_one_process_two_servers_two_workspaces(cli, python_env):
    """Two servers (one MLflow with workspaces, reached as 127.0.0.1 and as localhost), each
    with its own workspace: one process logs to both, and each run lands in its server's
    workspace (asked through the REST API as the fixture's admin). MLFLOW_WORKSPACE, as the
    hook exports it for the active server, does not pull the other server's runs along."""
    url_a = need_env("MLL_WS_URL")
    url_b = url_a.replace("127.0.0.1", "localhost")
    user, pw = need_env("MLL_WS_BOTH_USER"), need_env("MLL_WS_BOTH_PW")
    cli.login("ws-a", url_a, user, pw)
    cli.login("ws-b", url_b, user, pw)
    cli("use", "ws-b/team-b")
    cli("use", "ws-a/team-a")
    name = "mll-two-ws-" + uuid.uuid4().hex[:8]
    env = dict(python_env, MLFLOW_TRACKING_AUTH="mlflow-login", MLFLOW_WORKSPACE="team-a")
    env.pop("MLFLOW_TRACKING_URI", None)
    code = f"""
import mlflow
from mlflow.tracking import MlflowClient
for uri in ({url_a!r}, {url_b!r}):
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment({name!r})
    run = client.create_run(exp)
    client.log_param(run.info.run_id, "uri", uri)
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    admin = (need_env("MLL_WS_ADMIN_USER"), need_env("MLL_WS_ADMIN_PW"))

    def experiment_in(workspace: str) -> int:
        r = requests.get(
            f"{url_a}/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": name},
            headers={"X-MLFLOW-WORKSPACE": workspace},
            auth=admin,
            timeout=30,
        )
        return r.status_code

    # One experiment of that name in each workspace: ws-a's in team-a, ws-b's in team-b.
    assert experiment_in("team-a") == 200
    assert experiment_in("team-b") == 200
    assert experiment_in("default") == 404
