"""The plugin against core's contract: ``contract.generated.json`` is written from the Rust
types and rules (``crates/core/tests/plugin_contract.rs``, which fails when the file is
stale), so a renamed field or a changed rule in Rust fails here, not in a user's run."""

from __future__ import annotations

import base64
import json
import os

import pytest

from mlflow_login._program import FORMAT_VERSION
from mlflow_login._resolver import _header_for, _Snapshot
from mlflow_login._urls import normalize

with open(os.path.join(os.path.dirname(__file__), "contract.generated.json"), encoding="utf-8") as f:
    CONTRACT = json.load(f)


def test_the_version_is_the_plugins():
    assert CONTRACT["version"] == FORMAT_VERSION
    for name, answer in CONTRACT["answers"].items():
        assert answer["version"] == FORMAT_VERSION, name


@pytest.mark.parametrize("case", CONTRACT["normalize"], ids=lambda c: c["url"])
def test_normalisation_is_cores(case):
    assert "error" not in case, "a case core refuses: the plugin's normalize() must refuse it too"
    assert normalize(case["url"]) == case["normalized"]


@pytest.mark.parametrize(
    "world, case",
    [(w, c) for w in CONTRACT["choice"] for c in w["cases"]],
    ids=lambda x: x.get("url", "") if isinstance(x, dict) and "url" in x else "",
)
def test_server_choice_is_cores(world, case):
    snap = _Snapshot(None, ".", world["active"], [(normalize(s["url"]), s["name"]) for s in world["servers"]])
    snap.headers = {s["name"]: s["name"] for s in world["servers"]}
    got = snap.lookup(case["url"].split("?", 1)[0])
    assert (got if isinstance(got, str) else None) == case["server"]


def test_each_answer_gives_the_header_core_means():
    answers, secret = CONTRACT["answers"], CONTRACT["secret"]
    basic = _header_for(answers["basic"]["credential"], "prod", 0)
    want = base64.b64encode(f"alice:{secret}".encode()).decode()
    assert basic.value == "Basic " + want
    bearer = _header_for(answers["bearer"]["credential"], "tok", 0)
    assert (bearer.value, bearer.fingerprint) == ("Bearer " + secret, None)
    sso_answer = answers["sso"]["credential"]
    sso = _header_for(sso_answer, "corp", 0)
    assert (sso.value, sso.fingerprint) == ("Bearer " + secret, sso_answer["fingerprint"])
    assert (sso.expires_at, sso.refresh_at) == (sso_answer["expires_at"], sso_answer["refresh_at"])
    assert answers["no_credential"]["credential"] is None and answers["no_credential"]["server"] == "prod"
    assert answers["no_server"]["server"] is None


def test_the_fields_the_plugin_reads_are_in_cores_answer():
    basic = CONTRACT["answers"]["basic"]
    for field in ("version", "config_dir", "active", "servers", "server", "credential"):
        assert field in basic, field
    assert {"name", "url"} <= basic["servers"][0].keys()
    assert {"scheme", "username", "secret", "expires_at", "refresh_at", "fingerprint"} <= CONTRACT["answers"]["sso"][
        "credential"
    ].keys()
