//! Single sign-on to a real mlflow-oidc-auth 11.0.2 (tests/fixtures/oidc-auth.sh), which
//! validates the test IdP's JWTs itself: its API answers 401 with no challenge, so the
//! issuer is given with `--issuer`.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use common::*;
use serde_json::Value;

/// `login NAME --url MLL_OIDC_AUTH_URL --sso --issuer ...` with the scripted browser.
fn sso_login(w: &World, name: &str, extra: &[&str]) -> Output {
    w.cmd()
        .args(["login", name, "--url", &fx("MLL_OIDC_AUTH_URL"), "--sso"])
        .args(["--issuer", &fx("MLL_OIDC_ISSUER"), "--client-id", &fx("MLL_OIDC_CLIENT_ID"), "--timeout", "60"])
        .args(extra)
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap()
}

fn status_json(w: &World, name: &str) -> Value {
    let out = w.run(&["status", name, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
}

#[test]
fn sso_login_to_mlflow_oidc_auth_and_status_shows_the_user_and_groups() {
    let w = World::new();
    let out = sso_login(&w, "oa", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = status_json(&w, "oa");
    assert_eq!(report["outcome"]["kind"], "ok", "{report}");
    assert_eq!(report["sso"]["issuer"], fx("MLL_OIDC_ISSUER").as_str(), "{report}");
    let identity = &report["identity"];
    assert_eq!(identity["username"], "alice@example.test", "the plugin's username (the token's email): {report}");
    assert_eq!(identity["is_admin"], false, "{report}");
    assert_eq!(identity["groups"], serde_json::json!(["mlflow"]), "the IdP's groups claim: {report}");
    let shown = stdout(&w.run(&["status", "oa"]));
    assert!(shown.contains("the server knows you as alice@example.test (groups: mlflow)"), "{shown}");
}

#[test]
fn without_issuer_the_login_says_the_server_names_no_identity_provider() {
    let w = World::new();
    let out = w
        .cmd()
        .args(["login", "oa", "--url", &fx("MLL_OIDC_AUTH_URL"), "--sso", "--client-id", &fx("MLL_OIDC_CLIENT_ID")])
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("DISPLAY", ":99")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("--issuer"), "names the flag: {}", text(&out));
}
