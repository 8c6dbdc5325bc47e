"""Shared fixtures: a private config dir and keychain prefix per test, the real
`mlflow-login` program, and the fixture servers' variables.

Tests marked `real` need tests/fixtures/with-keyring.sh + with-servers.sh and the built
program; without them they FAIL saying how to get them (never skip, never pass silently).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest

import mlflow_login

FIXTURES_HINT = (
    "run under the fixtures: tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/python/run.sh"
)


def pytest_configure(config):
    config.addinivalue_line("markers", "real: needs the private keychain, the fixture servers and the program")


def need_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"${name} is not set: {FIXTURES_HINT}", pytrace=False)
    return value


class Cli:
    """Runs the real `mlflow-login` program with this test's config dir and prefix."""

    def __init__(self, program: str, env: dict[str, str]):
        self.program = program
        self.env = env

    def __call__(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [self.program, *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"mlflow-login {' '.join(args)} exited {proc.returncode}: {proc.stderr}", pytrace=False)
        return proc

    def login(self, name: str, url: str, username: str, password: str, *, verify: bool = True) -> None:
        args = ["login", name, "--url", url, "--username", username, "--password-stdin"]
        if not verify:
            args.append("--no-verify")
        self(*args, input=password)


@pytest.fixture
def program() -> str:
    path = os.environ.get("MLFLOW_LOGIN_BIN")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "MLFLOW_LOGIN_BIN does not name the built mlflow-login program: "
            "cargo build -p mlflow-login, then " + FIXTURES_HINT,
            pytrace=False,
        )
    return path


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A private config dir and keychain prefix for the program and the in-process plugin;
    no MLflow credential variable, no tracking URI, a fresh plugin cache."""
    config_dir = tmp_path / "config"
    monkeypatch.setenv("MLFLOW_LOGIN_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("MLFLOW_LOGIN_KEYCHAIN_PREFIX", f"mll-pytest-{secrets.token_hex(6)}:")
    monkeypatch.setenv("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT", "20")
    for var in (
        "MLFLOW_TRACKING_URI",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_AUTH",
        "NETRC",
    ):
        monkeypatch.delenv(var, raising=False)
    # A HOME of its own: no ~/.netrc, no ~/.mlflow/credentials from elsewhere.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(mlflow_login, "_default", None)
    return config_dir


@pytest.fixture
def cli(program, isolated) -> Cli:
    return Cli(program, dict(os.environ))


@pytest.fixture
def fx():
    """The fixture servers' variables (tests/fixtures/up.sh)."""
    need_env("MLL_TEST_HOME")

    class Fx:
        nginx = need_env("MLL_NGINX_URL")
        subpath = need_env("MLL_NGINX_SUBPATH_URL")
        direct = need_env("MLL_MLFLOW_DIRECT_URL")
        alice_pw = need_env("MLL_ALICE_PW")
        bob_pw = need_env("MLL_BOB_PW")
        fx_dir = Path(need_env("MLL_FX_DIR"))

        def access_log_user(self, marker: str) -> list[str]:
            """The $remote_user of each nginx access-log line containing `marker`. nginx
            writes the line after it sent the response, so wait for it a little."""
            log = self.fx_dir / "nginx" / "logs" / "access.log"
            deadline = time.monotonic() + 5
            while True:
                # combined: addr - user [time] "request" status ...
                users = [
                    line.split(" ", 3)[2] for line in log.read_text(errors="replace").splitlines() if marker in line
                ]
                if users or time.monotonic() > deadline:
                    return users
                time.sleep(0.02)

    return Fx()


@pytest.fixture
def python_env(isolated):
    """The environment for a child Python that runs MLflow with the plugin: the fixture's
    password variables (MLL_*_PW) are left out, so no password is in it at all."""
    return {k: v for k, v in os.environ.items() if not (k.startswith("MLL_") and k.endswith("_PW"))}
