"""`mlflow-login doctor` knows whether the plugin is installed in the current Python."""

import os
import sys

import pytest

pytestmark = pytest.mark.real


def test_doctor_sees_the_plugin_installed(cli):
    cli.env = dict(os.environ, MLFLOW_LOGIN_PYTHON=sys.executable, MLFLOW_TRACKING_AUTH="mlflow-login")
    out = cli("doctor", check=False)
    assert f"the MLflow Login plugin is installed in {sys.executable} and selected" in out.stdout, out.stdout


def test_doctor_flags_a_selected_plugin_that_is_missing(cli, fx):
    # The fixture venv has MLflow but not the plugin.
    bare = os.environ["MLL_MLFLOW_PYTHON"]
    cli.env = dict(os.environ, MLFLOW_LOGIN_PYTHON=bare, MLFLOW_TRACKING_AUTH="mlflow-login")
    out = cli("doctor", check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "but the plugin is not installed" in out.stdout, out.stdout
    assert "pip install" in out.stdout
    # Not selected: informational only.
    cli.env = dict(os.environ, MLFLOW_LOGIN_PYTHON=bare)
    out = cli("doctor", check=False)
    assert "plugin is not installed" in out.stdout and "problem  the MLflow Login plugin" not in out.stdout
