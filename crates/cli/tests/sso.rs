//! Single sign-on through the CLI against the real parts: the oidc-provider IdP,
//! its scripted browser as `$BROWSER`, and Apache `mod_auth_openidc` in front of MLflow
//! (tests/fixtures/oidc/README.md). Each test registers its own client with a short
//! access-token lifetime, so it can count its own refreshes at the IdP.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Access tokens of the tests' clients live this long.
const TTL: u64 = 4;

/// A client of the test's own with `TTL`-second access tokens.
fn register_client() -> String {
    common::register_client(TTL)
}

/// The IdP's counters for `client` (`refresh`, `revocation`, ...: `{ok, invalid_grant, ...}`).
fn stats(client: &str) -> Value {
    idp_stats()["by_client"][client].clone()
}

fn count(stats: &Value, what: &str, outcome: &str) -> u64 {
    stats[what][outcome].as_u64().unwrap_or(0)
}

/// `login NAME --sso` with the scripted browser; a display, so the browser flow is chosen.
fn sso_login(w: &World, name: &str, client: &str, extra: &[&str]) -> Output {
    w.cmd()
        .args(["login", name, "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", client, "--timeout", "60"])
        .args(extra)
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The pids whose `/proc/PID/cmdline` holds `needle`.
fn processes_with_in_argv(needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.bytes().all(|b| b.is_ascii_digit())
            && let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && cmdline.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(name);
        }
    }
    hits
}

fn token(w: &World, name: &str) -> Output {
    w.run(&["token", name])
}

fn status_kind(w: &World, name: &str) -> (Option<i32>, String) {
    let out = w.run(&["status", name, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    (out.status.code(), v[0]["outcome"]["kind"].as_str().unwrap_or_default().to_string())
}

#[test]
fn browser_login_then_fresh_tokens_everywhere_and_none_on_disk() {
    let w = World::new();
    let client = register_client();
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!("{}/auth?", fx("MLL_OIDC_ISSUER"))),
        "the URL is always printed: {}",
        text(&out)
    );
    let listed = w.list_json();
    let server = listed.as_array().unwrap().iter().find(|s| s["name"] == "sso").unwrap().clone();
    assert_eq!(server["auth"], "sso");
    assert_eq!(server["sso"]["client_id"], client.as_str());
    assert_eq!(server["sso"]["issuer"], fx("MLL_OIDC_ISSUER").as_str(), "found from the server (RFC 9728)");

    let first = stdout(&token(&w, "sso")).trim().to_string();
    assert!(first.len() > 20, "a token: {first:?}");
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()), "the proxy accepts it");
    let report: Value = serde_json::from_slice(&w.run(&["status", "sso", "--json"]).stdout).unwrap();
    let sso = &report[0]["sso"];
    assert_eq!(sso["issuer"], fx("MLL_OIDC_ISSUER").as_str(), "{report}");
    assert!(sso["expires_at"].as_u64().unwrap() > now(), "{report}");
    assert_eq!((&sso["can_refresh"], &sso["refresh"]), (&Value::Bool(true), &Value::from("not_needed")), "{report}");
    let text_status = stdout(&w.run(&["status", "sso"]));
    assert!(text_status.contains("single sign-on: ") && text_status.contains("refresh token stored"), "{text_status}");
    assert_eq!(count(&stats(&client), "refresh", "ok"), 0, "a fresh token is not refreshed");

    // Past the expiry: env refreshes once; the next commands reuse the new token.
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let out = w.run(&["env", "sso", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap();
    let second = vars["MLFLOW_TRACKING_TOKEN"].as_str().unwrap().to_string();
    assert_ne!(second, first, "a new access token");
    assert!(vars.get("MLFLOW_TRACKING_USERNAME").is_none() && vars.get("MLFLOW_TRACKING_PASSWORD").is_none(), "{vars}");
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()));
    let out = w.cmd().args(["exec", "sso", "--", "sh", "-c", "printf %s \"$MLFLOW_TRACKING_TOKEN\""]).output().unwrap();
    assert_eq!(stdout(&out), second, "exec passes the same fresh token: {}", text(&out));
    // While a command runs with the token, no process on the machine has it in its argv.
    let mut running = w.cmd().args(["exec", "sso", "--", "sleep", "3"]).spawn().unwrap();
    let pid = running.id();
    wait_for("exec to start sleep", Duration::from_secs(10), || {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0"))
    });
    let in_argv = processes_with_in_argv(second.as_bytes());
    running.wait().unwrap();
    assert!(in_argv.is_empty(), "the token is in the argv of {in_argv:?}");
    assert_eq!(count(&stats(&client), "refresh", "ok"), 1, "one refresh for the expiry");

    // No token, refresh token or token set in any file under the test's folders.
    for needle in [first.as_str(), second.as_str(), "refresh_token", "mlflow-login-oidc"] {
        let hits = files_containing(w.dir.path(), needle.as_bytes());
        assert!(hits.is_empty(), "{needle:.12}... found in {hits:?}");
    }

    // Logout revokes the refresh token at the IdP, then deletes the tokens.
    let out = w.run(&["logout", "sso"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("revoked"), "{}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 1);
    assert_eq!(token(&w, "sso").status.code(), Some(3), "nothing stored any more");
}

#[test]
fn an_ended_session_means_log_in_again() {
    let w = World::new();
    let client = register_client();
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let _ = curl_json(&["-d", "user=alice", &format!("{}/revoke-grants", fx("MLL_OIDC_ADMIN_URL"))]);
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let out = token(&w, "sso");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stderr(&out).contains("mlflow-login login sso"), "{}", text(&out));
    assert_eq!(status_kind(&w, "sso"), (Some(3), "session_ended".into()));
    let report: Value = serde_json::from_slice(&w.run(&["status", "sso", "--json"]).stdout).unwrap();
    assert_eq!(report[0]["sso"]["refresh"], "refused", "{report}");
}

#[test]
fn ctrl_c_ends_the_wait_and_stores_nothing() {
    let w = World::new();
    let client = register_client();
    let mut child = w
        .cmd()
        .args(["login", "cc", "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", &client])
        .args(["--no-browser", "--timeout", "120"])
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // The printed URL names the loopback listener the browser would be sent back to.
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/auth?")).map(str::to_string))
        .expect("the sign-in URL on stderr");
    // redirect_uri=http%3A%2F%2F127.0.0.1%3APORT%2F...
    let port: String = url
        .split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
        .nth(1)
        .expect("a loopback redirect_uri")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let listener = format!("127.0.0.1:{port}");
    assert!(std::net::TcpStream::connect(&listener).is_ok(), "the loopback listener waits at {listener}");

    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "Ctrl-C is exit 130: {rest:?}");
    let said = rest.join("\n");
    assert!(said.contains("cancelled") && said.contains("nothing was stored"), "{said}");
    assert!(std::net::TcpStream::connect(&listener).is_err(), "the listener is closed");
    assert!(w.list_json().as_array().unwrap().is_empty(), "nothing stored");
    assert_eq!(count(&stats(&client), "authorization_code", "ok"), 0, "no code was exchanged");
}

#[test]
fn a_server_changed_during_the_sign_in_is_not_overwritten() {
    let w = World::new();
    let client = register_client();
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let before = w.list_json();
    // A "browser" that, while the login waits, lets another command rename the server (as
    // the tray or a second shell may), then signs in.
    let browser = w.dir.path().join("rename-then-browse");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\n'{}' rename sso sso-old >&2 || exit 1\nexec '{}' \"$@\"\n", BIN, fx("MLL_OIDC_BROWSER")),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let out = w
        .cmd()
        .args(["login", "sso", "--sso", "--timeout", "60"])
        .env("BROWSER", &browser)
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("renamed while this login was under way"), "{}", text(&out));
    let after = w.list_json();
    let names: Vec<&str> = after.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sso-old"], "the renamed server stays renamed; no \"sso\" comes back");
    let mut renamed = before[0].clone();
    renamed["name"] = "sso-old".into();
    assert_eq!(after[0], renamed, "its settings are kept");
    assert_eq!(status_kind(&w, "sso-old"), (Some(0), "ok".into()), "its old session still works");
    let out = w.run(&["token", "sso-old", "--refresh"]);
    assert!(out.status.success(), "its refresh token is still good: {}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 1, "the unsaved login's tokens were revoked");
}

#[test]
fn a_fixed_redirect_port_is_used_and_kept_and_a_taken_one_fails_at_once() {
    let w = World::new();
    let client = register_client();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let log = w.dir.path().join("browser.log");
    let login = || {
        let mut c = w.cmd();
        c.args(["login", "fixed", "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", &client])
            .args(["--timeout", "60"])
            .env("BROWSER", fx("MLL_OIDC_BROWSER"))
            .env("MLL_BROWSER_LOG", &log)
            .env("DISPLAY", ":99")
            .env_remove("SSH_CONNECTION");
        c
    };
    let out = login().args(["--redirect-port", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains(&format!("port {port} on 127.0.0.1")), "{}", text(&out));
    assert!(!log.exists(), "no browser was opened for a sign-in that cannot come back");
    assert!(w.list_json().as_array().unwrap().is_empty(), "nothing stored");

    drop(taken);
    let out = login().args(["--redirect-port", &port]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let redirect = format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback");
    assert!(stderr(&out).contains(&redirect), "the fixed port is the redirect's: {}", text(&out));
    assert_eq!(w.list_json()[0]["sso"]["redirect_port"].as_u64(), Some(port.parse().unwrap()));
    // Logging in again without the flag keeps the port the identity provider knows.
    let out = login().output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains(&redirect), "the port is kept: {}", text(&out));
}

#[test]
fn status_refreshes_a_token_the_server_refuses_once_and_is_ok() {
    let w = World::new();
    let client = common::register_client(3600); // an hour: only the refusal can cause a refresh
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    // The keychain entry (service: prefix + URL, account "sso:" + the server's name), read
    // and written by secret-tool, the secret on stdin: the proxy will refuse the access
    // token (revoked, say) while its expiry still says fresh.
    let service = format!("{}{}", w.prefix, w.list_json()[0]["url"].as_str().unwrap());
    let attributes = ["service", service.as_str(), "username", "sso:sso"];
    let lookup = Command::new("secret-tool").arg("lookup").args(attributes).output().unwrap();
    let mut tokens: Value = serde_json::from_slice(&lookup.stdout).unwrap();
    assert!(tokens["expires_at"].as_u64().unwrap() > now() + 600, "fresh by its expiry");
    tokens["access_token"] = "garbage.refused.token".into();
    let mut store = Command::new("secret-tool")
        .args(["store", "--label", "refused token"])
        .args(attributes)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut store.stdin.take().unwrap(), tokens.to_string().as_bytes()).unwrap();
    assert!(store.wait().unwrap().success());

    let out = w.run(&["status", "sso", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report[0]["outcome"]["kind"], "ok", "{report}");
    assert_eq!(report[0]["sso"]["refresh"], "refreshed", "{report}");
    assert_eq!(count(&stats(&client), "refresh", "ok"), 1);
    // The new token works: the next check refreshes nothing.
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()));
    assert_eq!(count(&stats(&client), "refresh", "ok"), 1);
}

#[test]
fn a_provider_without_expires_in_is_refreshed_by_the_jwt_expiry() {
    let w = World::new();
    // Ten seconds: room for the login and the first commands on a loaded box before it.
    const LIFETIME: u64 = 10;
    let client = common::register_client_with(LIFETIME, serde_json::json!({"mll_omit_expires_in": true}));
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&w.run(&["status", "sso", "--json"]).stdout).unwrap();
    let expires_at = report[0]["sso"]["expires_at"].as_u64().expect("an expiry, from the access token's exp");
    assert!(expires_at > now() && expires_at <= now() + LIFETIME, "{report}");
    let first = stdout(&token(&w, "sso")).trim().to_string();
    // Past that expiry: the next command refreshes (once), as with expires_in.
    std::thread::sleep(Duration::from_secs(expires_at.saturating_sub(now()) + 1));
    let second = stdout(&token(&w, "sso")).trim().to_string();
    assert!(second.len() > 20 && second != first, "a new token after the JWT's expiry");
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()));
    assert_eq!(count(&stats(&client), "refresh", "ok"), 1);
}

#[test]
fn device_flow_prints_the_code_and_signs_in() {
    let w = World::new();
    let client = register_client();
    let mut child = w
        .cmd()
        .args(["login", "dev", "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", &client, "--timeout", "60"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("SSH_CONNECTION", "10.0.0.1 1 10.0.0.2 22")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut uri, mut code) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("To sign in, open ") {
            uri = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.strip_prefix("and enter the code: ") {
            code = Some(rest.trim().to_string());
            break;
        }
    }
    let (uri, code) = (uri.expect("the verification URL on stderr"), code.expect("the user code on stderr"));
    let browser = Command::new(fx("MLL_OIDC_BROWSER")).args(["--device", &uri, &code]).output().unwrap();
    assert!(browser.status.success(), "{}", text(&browser));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "device login failed: {rest:?}");
    assert_eq!(status_kind(&w, "dev"), (Some(0), "ok".into()));
    assert!(count(&stats(&client), "device_code", "ok") >= 1);
}

#[test]
fn a_browser_that_cannot_open_does_not_hang() {
    let w = World::new();
    let client = register_client();
    let mut c = w.cmd();
    c.args(["login", "sso", "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", &client, "--timeout", "3"])
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("MLL_BROWSER_MODE", "fail")
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION");
    let out = c.output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("/auth?"), "the URL is printed to open by hand: {}", text(&out));
    assert!(stderr(&out).contains("did not happen within 3 s"), "{}", text(&out));
    assert!(w.list_json().as_array().unwrap().is_empty(), "nothing stored");
}

/// `token --refresh` (for curl, R, Java users whose request was refused): a new access token
/// at once, whatever the expiry says, with one refresh at the IdP.
#[test]
fn token_refresh_gets_a_new_token_with_one_refresh() {
    let w = World::new();
    let client = common::register_client(3600); // only --refresh can cause a refresh
    let out = sso_login(&w, "sso", &client, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let first = stdout(&token(&w, "sso")).trim().to_string();
    let out = w.run(&["token", "sso", "--refresh"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = stdout(&out).trim().to_string();
    assert!(second.len() > 20 && second != first, "a new token");
    let stats = stats(&client);
    assert_eq!((count(&stats, "refresh", "ok"), count(&stats, "refresh", "invalid_grant")), (1, 0), "{stats}");
}

/// A fixed token cannot be refreshed: `token --refresh` says so (a usage error) instead of
/// printing the token the server just refused.
#[test]
fn token_refresh_of_a_fixed_token_is_a_usage_error() {
    let w = World::new();
    let args = ["login", "t", "--url", "https://h", "--auth", "bearer", "--password-stdin", "--no-verify"];
    let out = w.run_stdin(&args, "fixed-token");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&w.run(&["token", "t"])).trim(), "fixed-token");
    let out = w.run(&["token", "t", "--refresh"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!stdout(&out).contains("fixed-token"), "{}", text(&out));
}

/// `sso_login` signed in at the IdP as `user` (the fixture IdP has `alice` and `bob`).
fn sso_login_as(w: &World, name: &str, client: &str, user: &str, extra: &[&str]) -> Output {
    let mut args = vec!["login", name, "--url", "", "--sso", "--client-id", client, "--timeout", "60"];
    let url = fx("MLL_OIDC_PROXY_URL");
    args[3] = &url;
    args.extend_from_slice(extra);
    w.cmd()
        .args(&args)
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("MLL_OIDC_USER", user)
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap()
}

/// The `sub` claim of a JWT access token (read here, not by the code under test).
fn sub_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap_or_else(|| panic!("not a JWT: {token:.12}..."));
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

/// The server called `name` in `list --json`.
fn listed(w: &World, name: &str) -> Value {
    w.list_json().as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or(&Value::Null).clone()
}

/// Two single sign-on servers at one URL, signed in as two
/// people, are two sessions: each sends its own user's token, `list` shows who is signed
/// in where, a logout ends only its own session, a re-login as someone else revokes the
/// session it replaces, and `remove` revokes the session it deletes.
#[test]
fn two_sso_servers_at_one_url_are_two_sessions() {
    let w = World::new();
    let client = register_client();
    let out = sso_login_as(&w, "one", &client, "alice", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sso_login_as(&w, "two", &client, "bob", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sub_of(stdout(&token(&w, "one")).trim()), "alice", "one sends alice's token");
    assert_eq!(sub_of(stdout(&token(&w, "two")).trim()), "bob", "two sends bob's token");
    assert_eq!(listed(&w, "one")["signed_in_as"], "alice");
    assert_eq!(listed(&w, "two")["signed_in_as"], "bob");
    let out = w.run(&["list"]);
    assert!(stdout(&out).contains("alice @") && stdout(&out).contains("bob @"), "{}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 0, "nothing replaced yet");

    // Logging out of one ends alice's session only.
    let out = w.run(&["logout", "one"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 1);
    assert_eq!(token(&w, "one").status.code(), Some(3), "one is logged out");
    assert_eq!(sub_of(stdout(&token(&w, "two")).trim()), "bob", "two keeps bob's session");
    assert_eq!(status_kind(&w, "two"), (Some(0), "ok".into()));

    // A new login of two as alice replaces bob's session: bob's is revoked at the IdP.
    let out = sso_login_as(&w, "two", &client, "alice", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 2, "the replaced session is revoked");
    assert_eq!(sub_of(stdout(&token(&w, "two")).trim()), "alice");

    // A rename keeps the session (the entry moves with the name); remove revokes it.
    let out = w.run(&["rename", "two", "three"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sub_of(stdout(&token(&w, "three")).trim()), "alice", "the session moved with the name");
    let out = w.run(&["remove", "three"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("revoked"), "{}", text(&out));
    assert_eq!(count(&stats(&client), "revocation", "ok"), 3, "remove revokes the session it deletes");
    let left = w.run(&["doctor"]);
    assert!(!stdout(&left).contains("keychain entry with no server"), "{}", text(&left));
}

/// The keychain entry names the kind. A single sign-on login with
/// `--username alice` at the URL of Basic user alice leaves alice's password alone, and a
/// Basic server whose user is called `sso` never reads a token set as its password.
#[test]
fn a_password_and_a_token_set_never_share_an_entry() {
    let w = World::new();
    let client = register_client();
    let url = fx("MLL_OIDC_PROXY_URL");
    let out = w.login("basic", &url, "alice", "alices-password", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sso_login_as(&w, "sso", &client, "alice", &["--username", "alice"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["env", "basic", "--format", "json"]);
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(vars["MLFLOW_TRACKING_PASSWORD"], "alices-password", "the SSO login kept alice's password");
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()));

    let out = w.login("named-sso", &url, "sso", "not-a-token-set", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["env", "named-sso", "--format", "json"]);
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(vars["MLFLOW_TRACKING_PASSWORD"], "not-a-token-set");
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()), "the token set is untouched");
}

/// A keychain written by the
/// older scheme (account = the username, else `sso`) is read and moved by the first use.
/// The entries are written with `secret-tool` under the exact attributes the older
/// version's keyring wrote (service = prefix + URL, username = account); the token set is a
/// real one from the IdP. Where a Basic user called `sso` and a single sign-on server shared
/// the older entry, the token set goes to the single sign-on server only.
#[test]
fn entries_of_the_older_scheme_are_moved_and_nothing_is_lost() {
    let w = World::new();
    let client = register_client();
    let url = fx("MLL_OIDC_PROXY_URL");
    let nginx = fx("MLL_NGINX_URL").trim_end_matches('/').to_string();
    let pw = fx("MLL_ALICE_PW");
    // Today's entries, then each moved to where the older version kept it.
    let out = w.login("basic", &nginx, "alice", &pw, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sso_login_as(&w, "sso", &client, "alice", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.login("user-sso", &url, "sso", "unused", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let tokens = w.keychain_entry(&url, "sso:sso").expect("the SSO entry");
    let stored_pw = w.keychain(&nginx, "alice").expect("the Basic entry");
    for (u, account) in [(&url, "sso:sso"), (&nginx, "basic:alice"), (&url, "basic:sso")] {
        let status = Command::new("secret-tool")
            .args(["clear", "service", &format!("{}{u}", w.prefix), "username", account])
            .status()
            .unwrap();
        assert!(status.success());
    }
    w.keychain_store(&url, "sso", &tokens);
    w.keychain_store(&nginx, "alice", &stored_pw);

    assert_eq!(sub_of(stdout(&token(&w, "sso")).trim()), "alice", "the token set is read from the older entry");
    let out = w.run(&["env", "basic", "--format", "json"]);
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(vars["MLFLOW_TRACKING_PASSWORD"], pw.as_str(), "the password is read from the older entry");
    assert_eq!(listed(&w, "user-sso")["has_secret"], false, "a token set is never a Basic password");
    // Moved: the older entries are gone, the new ones hold the same secrets.
    assert_eq!(w.keychain_entry(&url, "sso"), None);
    assert_eq!(w.keychain_entry(&nginx, "alice"), None);
    assert_eq!(w.keychain_entry(&url, "sso:sso").as_deref(), Some(tokens.as_str()));
    assert_eq!(w.keychain(&nginx, "alice").as_deref(), Some(stored_pw.as_str()));
    assert_eq!(status_kind(&w, "sso"), (Some(0), "ok".into()));
    assert_eq!(status_kind(&w, "basic"), (Some(0), "ok".into()));
}

/// `--no-browser` is the browser flow with the URL printed, even where
/// the default would be the device flow (over SSH, no display): the URL printed is opened
/// by hand (here by the scripted browser, as a person with `ssh -L` would) and the login
/// completes.
#[test]
fn no_browser_over_ssh_is_the_browser_flow_with_the_url_printed() {
    let w = World::new();
    let client = register_client();
    let mut child = w
        .cmd()
        .args(["login", "nb", "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", &client])
        .args(["--no-browser", "--timeout", "60"])
        .env("BROWSER", "/bin/false")
        .env("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let auth = format!("{}/auth?", fx("MLL_OIDC_ISSUER"));
    let mut seen = String::new();
    let url = loop {
        let line = lines.next().unwrap_or_else(|| panic!("no sign-in URL printed: {seen}")).unwrap();
        seen.push_str(&line);
        seen.push('\n');
        assert!(!line.contains("enter the code"), "the device flow was chosen: {seen}");
        if line.trim().starts_with(&auth) {
            break line.trim().to_string();
        }
    };
    let browser = Command::new(fx("MLL_OIDC_BROWSER")).arg(&url).output().unwrap();
    assert!(browser.status.success(), "{}", text(&browser));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}{}", rest.join("\n"));
    assert_eq!(status_kind(&w, "nb"), (Some(0), "ok".into()));
}

/// With `--issuer` and `--client-id` given (as a project hint or a team
/// list gives them), the token is still asked for this server (RFC 8707 `resource`, from the
/// server's RFC 9728 metadata), and the terminal says where the sign-in happens, for which
/// server, before the browser opens.
#[test]
fn given_issuer_and_client_still_bind_the_token_to_the_server() {
    let w = World::new();
    let client = register_client();
    let issuer = fx("MLL_OIDC_ISSUER");
    let out = sso_login(&w, "bound", &client, &["--issuer", &issuer]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    let host = fx("MLL_OIDC_PROXY_URL").trim_start_matches("http://").trim_end_matches('/').to_string();
    let said = err.find(&format!("signing in at {issuer} for {host}")).unwrap_or_else(|| panic!("{}", text(&out)));
    assert!(said < err.find("/auth?").unwrap(), "said before the URL: {}", text(&out));
    let events = curl_json(&[&format!("{}/events?client_id={client}", fx("MLL_OIDC_ADMIN_URL"))]);
    let grants: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] == "token" && e["grant_type"] == "authorization_code")
        .collect();
    assert_eq!(grants.len(), 1, "{events}");
    assert_eq!(grants[0]["resource"], fx("MLL_OIDC_RESOURCE").as_str(), "the token was asked for this server");
}

/// `login NAME --sso` (no terminal) with the scripted browser, from `dir` when given.
fn sso_login_in(w: &World, dir: Option<&std::path::Path>, args: &[&str]) -> Output {
    let mut c = w.cmd();
    if let Some(d) = dir {
        c.current_dir(d);
    }
    c.arg("login")
        .args(args)
        .args(["--sso", "--timeout", "60"])
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap()
}

/// The IdP's recorded requests of `client`.
fn idp_events(client: &str) -> Vec<Value> {
    let events = curl_json(&[&format!("{}/events?client_id={client}", fx("MLL_OIDC_ADMIN_URL"))]);
    events["events"].as_array().cloned().unwrap_or_default()
}

/// The server URL written with `localhost`: the issuer at `127.0.0.1` shares no domain
/// with it (an address shares one only with itself), as a lookalike's IdP would not.
fn foreign_url() -> String {
    fx("MLL_OIDC_PROXY_URL").replace("127.0.0.1", "localhost")
}

/// Trust point 5: an identity provider that a team list names, on no domain of the
/// server's, is signed in at only with the user's yes. Without a terminal the login is
/// refused with the flag that confirms, before any request to the IdP or browser, and
/// nothing is stored; with --trust-issuer it signs in, and the next login asks no more.
#[test]
fn a_foreign_issuer_from_a_team_list_is_confirmed_first() {
    let w = World::new();
    let client = register_client();
    let issuer = fx("MLL_OIDC_ISSUER");
    let list = w.dir.path().join("team.toml");
    std::fs::write(
        &list,
        format!(
            "[servers.corp]\nurl = \"{}\"\nauth = \"sso\"\n\n[servers.corp.sso]\nissuer = \"{issuer}\"\nclient_id = \"{client}\"\n",
            foreign_url()
        ),
    )
    .unwrap();
    let out = w.run(&["servers", "import", list.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let before = std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap();

    let out = sso_login_in(&w, None, &["corp"]);
    assert_eq!(out.status.code(), Some(2), "refused: {}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("a team list names the identity provider") && err.contains("share no domain"), "{err}");
    assert!(err.contains("--trust-issuer"), "names the flag that confirms: {err}");
    assert!(!err.contains("/auth?") && !err.contains("signing in at"), "no sign-in started: {err}");
    assert!(idp_events(&client).is_empty(), "no request reached the IdP: {:?}", idp_events(&client));
    assert_eq!(std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap(), before, "nothing stored");
    assert!(!token(&w, "corp").status.success(), "no token stored");

    let out = sso_login_in(&w, None, &["corp", "--trust-issuer"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains(&format!("signing in at {issuer}")), "{}", text(&out));
    // Confirmed once: the settings are the user's now.
    let out = sso_login_in(&w, None, &["corp"]);
    assert!(out.status.success(), "asked no more: {}", text(&out));
}

/// Trust point 5: the same foreign issuer typed by hand signs in with no question; copied
/// from the project file's login hint (the values of the project file in force for that
/// URL), it is asked about as the project file's.
#[test]
fn a_typed_issuer_signs_in_and_a_project_files_is_confirmed_first() {
    let w = World::new();
    let client = register_client();
    let issuer = fx("MLL_OIDC_ISSUER");
    let url = foreign_url();
    let args = ["hand", "--url", &url, "--issuer", &issuer, "--client-id", &client];
    let out = sso_login_in(&w, None, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!stderr(&out).contains("share no domain"), "{}", text(&out));

    let project = w.dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join(".mlflow-login.toml"),
        format!("url = \"{url}\"\nauth = \"sso\"\nissuer = \"{issuer}\"\nclient_id = \"{client}\"\n"),
    )
    .unwrap();
    let copied = ["proj", "--url", &url, "--issuer", &issuer, "--client-id", &client];
    let out = sso_login_in(&w, Some(&project), &copied);
    assert_eq!(out.status.code(), Some(2), "refused: {}", text(&out));
    assert!(stderr(&out).contains("the project file names the identity provider"), "{}", text(&out));
    assert!(stderr(&out).contains("--trust-issuer"), "{}", text(&out));
    let names: Vec<Value> = w.list_json().as_array().unwrap().iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, vec![Value::from("hand")], "nothing stored");
}
