//! The login dialog's single sign-on command against the real identity provider
//! (oidc-provider), its scripted browser as `$BROWSER` and the mod_auth_openidc proxy in
//! front of MLflow (tests/fixtures/oidc), and mlflow-oidc-auth (tests/fixtures/oidc-auth.sh).
//! Ignored by a plain `cargo test`: they need the fixtures. tests/tray/run.sh runs them as
//!
//!   BROWSER=$MLL_OIDC_BROWSER cargo test --workspace --test dialog_sso -- --ignored
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{Harness, list_file};
use mlflow_login_tray_lib::commands::sso::SSO_PROMPT_EVENT;
use serde_json::{Value, json};
use tauri::Listener;

fn fx(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests inside the fixtures, as tests/tray/run.sh does"))
}

/// The tray starts `$BROWSER`: it must be the fixture's scripted browser, which signs in at
/// the IdP and follows the redirect back to the waiting listener.
fn require_scripted_browser() {
    assert_eq!(
        std::env::var("BROWSER").ok(),
        Some(fx("MLL_OIDC_BROWSER")),
        "run as tests/tray/run.sh does: BROWSER=$MLL_OIDC_BROWSER cargo test --workspace --test dialog_sso -- --ignored"
    );
}

fn curl_json(args: &[&str]) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is missing: apt-get install curl");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A public native client of the test's own at the fixture IdP (dynamic registration), so
/// the IdP's events for it are the test's alone.
fn register_client() -> String {
    let body = json!({
        "application_type": "native", "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"], "redirect_uris": ["http://127.0.0.1/callback"],
        "mll_access_token_ttl": 60,
    });
    let url = format!("{}/reg", fx("MLL_OIDC_ISSUER"));
    let reply = curl_json(&["-H", "Content-Type: application/json", "--data-binary", &body.to_string(), &url]);
    reply["client_id"].as_str().unwrap().to_string()
}

/// What the IdP saw of `client` (any request: discovery aside, it is client-bound).
fn idp_events(client: &str) -> Vec<Value> {
    let events = curl_json(&[&format!("{}/events?client_id={client}", fx("MLL_OIDC_ADMIN_URL"))]);
    events["events"].as_array().cloned().unwrap_or_default()
}

/// Whether the servers window lists corp as signed in (its token set in the vault).
fn has_secret(h: &Harness) -> Value {
    let list = h.servers("list_servers", json!({})).unwrap();
    list.as_array().unwrap().iter().find(|s| s["name"] == "corp").unwrap()["hasSecret"].clone()
}

/// Trust point 5 in the tray: an identity provider a team list names, on no domain of the
/// server's (the server written with `localhost`, the IdP at `127.0.0.1`), is signed in at
/// only with the user's yes. The dialog sends the settings it was filled with, so the team
/// list's mark is kept; without the yes the command refuses before any request to the IdP
/// or browser and stores nothing; with it, the dialog is told "signing in at ISSUER for
/// HOST" before the browser opens, and the login is saved. Once confirmed, it asks no more.
#[test]
#[ignore = "needs the SSO fixtures and BROWSER: tests/tray/run.sh"]
fn a_foreign_issuer_from_a_team_list_is_signed_in_at_only_when_confirmed() {
    require_scripted_browser();
    let h = Harness::new();
    let client = register_client();
    let issuer = fx("MLL_OIDC_ISSUER");
    let url = fx("MLL_OIDC_PROXY_URL").replace("127.0.0.1", "localhost");
    let (_dir, path) = list_file(&format!(
        "[servers.corp]\nurl = \"{url}\"\nauth = \"sso\"\n\n[servers.corp.sso]\nissuer = \"{issuer}\"\nclient_id = \"{client}\"\n"
    ));
    h.servers("import_plan", json!({"path": path})).unwrap();
    h.servers("import_apply", json!({"path": path, "replace": []})).unwrap();
    let before = h.state().logins().config().unwrap();

    let prompts = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen = prompts.clone();
    h.app.listen_any(SSO_PROMPT_EVENT, move |e| seen.lock().unwrap().push(serde_json::from_str(e.payload()).unwrap()));
    // "Log in again…" on corp: the dialog is filled with its issuer and client id.
    let dialog = |trust: bool| {
        json!({"request": {
            "mode": "edit", "name": "corp", "url": url, "issuer": issuer, "clientId": client,
            "scopes": [], "caBundle": null, "insecureTls": false, "makeActive": false, "trustIssuer": trust,
        }})
    };

    let refused = h.invoke("login", "login_sso", dialog(false)).expect_err("asked first");
    assert_eq!(refused["kind"], "issuer_unconfirmed", "{refused}");
    assert_eq!(refused["field"], "issuer", "{refused}");
    let why = refused["message"].as_str().unwrap();
    assert!(why.contains("a team list names the identity provider") && why.contains("share no domain"), "{why}");
    assert!(why.contains(&issuer) && why.contains("localhost"), "names the issuer and the server's host: {why}");
    assert!(prompts.lock().unwrap().is_empty(), "no sign-in started: {:?}", prompts.lock().unwrap());
    assert!(idp_events(&client).is_empty(), "no request reached the IdP: {:?}", idp_events(&client));
    assert_eq!(h.state().logins().config().unwrap(), before, "nothing stored");
    assert_eq!(has_secret(&h), json!(false), "no token stored");

    let done = h.invoke("login", "login_sso", dialog(true)).unwrap();
    assert_eq!(done["saved"], true, "{done}");
    let shown = prompts.lock().unwrap().clone();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert_eq!(shown.first(), Some(&json!({"kind": "signingIn", "issuer": issuer, "host": host})), "{shown:?}");
    assert_eq!(shown.get(1).map(|p| p["kind"].clone()), Some(json!("browser")), "then the browser: {shown:?}");
    assert_eq!(has_secret(&h), json!(true), "the token set is stored");

    // Confirmed once: the settings are the user's now.
    let again = h.invoke("login", "login_sso", dialog(false)).unwrap();
    assert_eq!(again["saved"], true, "asked no more: {again}");
}

/// The status of `GET /users/current` at the fixture's mlflow-oidc-auth with Basic
/// `user:password`, the credential given to curl on stdin, never in an argv.
fn oidc_auth_who(user: &str, password: &str) -> u16 {
    use std::io::Write;
    let config =
        format!("url = \"{}/api/2.0/mlflow/users/current\"\nuser = \"{user}:{password}\"\n", fx("MLL_OIDC_AUTH_URL"));
    let mut child = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "20", "-w", "%{http_code}", "-K", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl is missing: apt-get install curl");
    child.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The dialog's "Personal access token for R, Java, curl" box against a real
/// mlflow-oidc-auth (tests/fixtures/oidc-auth.sh): the sign-in mints a token, the server is
/// saved as a Basic server with the username the server reports and the token as its
/// password (curl is let in with it), and removing the server deletes the token on the
/// server (curl is refused with it afterwards).
#[test]
#[ignore = "needs the SSO fixtures (with mlflow-oidc-auth) and BROWSER: tests/tray/run.sh"]
fn the_dialogs_personal_token_box_mints_a_token_that_removing_the_server_deletes() {
    require_scripted_browser();
    let h = Harness::new();
    let request = json!({"request": {
        "mode": "add", "name": "oa", "url": fx("MLL_OIDC_AUTH_URL"), "issuer": fx("MLL_OIDC_ISSUER"),
        "clientId": fx("MLL_OIDC_CLIENT_ID"), "scopes": [], "caBundle": null, "insecureTls": false,
        "makeActive": true, "trustIssuer": false,
        // A token another test minted for the fixture's one user may still be live.
        "personalToken": true, "replaceToken": true,
    }});
    let done = h.invoke("login", "login_sso", request).unwrap();
    assert_eq!(done["saved"], true, "{done}");

    let logins = h.state().logins().clone();
    let server = logins.config().unwrap().servers["oa"].clone();
    assert_eq!(server.auth, mlflow_login_core::AuthKind::Basic, "{server:?}");
    assert!(server.personal_token.is_some(), "its dates are kept for renewal: {server:?}");
    let user = server.username.clone().expect("the username the server reports");
    assert_eq!(user, "alice@example.test");
    let token = logins.secret("oa", &server).unwrap().expect("the token is stored");
    assert_eq!(oidc_auth_who(&user, token.expose()), 200, "curl is let in with the token");

    h.servers("remove_server", json!({"name": "oa"})).unwrap();
    assert!(!logins.config().unwrap().servers.contains_key("oa"));
    assert_eq!(oidc_auth_who(&user, token.expose()), 401, "the token was deleted on the server");
}
