//! Single sign-on to a real mlflow-oidc-auth 11.0.2 (tests/fixtures/oidc-auth.sh), which
//! validates the test IdP's JWTs itself: its API answers 401 with no challenge, so the
//! issuer is given with `--issuer`. Then personal access tokens minted from the sign-in
//! (`--personal-token`), used by curl as a Basic password, renewed, and deleted at logout.
//! The fixture's alice has one "default" token at a time: run one test at a time.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;

/// `login NAME --url MLL_OIDC_AUTH_URL --sso --issuer ...` with the scripted browser.
fn sso_login(w: &World, name: &str, extra: &[&str]) -> Output {
    sso_login_as(w, name, &fx("MLL_OIDC_CLIENT_ID"), extra)
}

/// [`sso_login`] with the IdP client `client`.
fn sso_login_as(w: &World, name: &str, client: &str, extra: &[&str]) -> Output {
    w.cmd()
        .args(["login", name, "--url", &fx("MLL_OIDC_AUTH_URL"), "--sso"])
        .args(["--issuer", &fx("MLL_OIDC_ISSUER"), "--client-id", client, "--timeout", "60"])
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

const WHO: &str = "/api/2.0/mlflow/users/current";

/// The HTTP status of `GET path` at mlflow-oidc-auth with `auth` (a curl config line:
/// `user = "..."` or `header = "..."`), the secret passed on stdin, never in an argv.
fn curl_status(method: &str, path: &str, auth: &str, body: Option<&str>) -> (u16, String) {
    assert!(which("curl"), "curl is missing: apt-get install curl");
    let mut config = format!("url = \"{}{path}\"\nrequest = \"{method}\"\n{auth}\n", fx("MLL_OIDC_AUTH_URL"));
    if let Some(body) = body {
        config.push_str(&format!(
            "header = \"Content-Type: application/json\"\ndata = \"{}\"\n",
            body.replace('"', "\\\"")
        ));
    }
    let mut child = Command::new("curl")
        .args(["-s", "--max-time", "20", "-w", "\n%{http_code}", "-K", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

fn basic(user: &str, password: &str) -> String {
    format!("user = \"{user}:{password}\"")
}

/// The Basic credential `env` gives for `name`: (username, password).
fn env_basic(w: &World, name: &str) -> (String, String) {
    let out = w.run(&["env", name, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let vars: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(vars.get("MLFLOW_TRACKING_TOKEN").is_none(), "a Basic credential, not a token: {vars}");
    (
        vars["MLFLOW_TRACKING_USERNAME"].as_str().unwrap().to_string(),
        vars["MLFLOW_TRACKING_PASSWORD"].as_str().unwrap().to_string(),
    )
}

/// The integer `key = N` of the config's `[servers.NAME.personal_token]` table.
fn token_field(w: &World, key: &str) -> i64 {
    let config = std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap();
    config
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in {config}"))
        .trim()
        .parse()
        .unwrap()
}

/// Rewrites the server's personal-token dates in the config, as if minted long ago.
fn set_token_dates(w: &World, minted_at: i64, expires_at: i64) {
    let path = w.config_dir().join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let edited: Vec<String> = config
        .lines()
        .map(|l| {
            if l.starts_with("minted_at = ") {
                format!("minted_at = {minted_at}")
            } else if l.starts_with("expires_at = ") {
                format!("expires_at = {expires_at}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(path, edited.join("\n") + "\n").unwrap();
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

const DAY: i64 = 24 * 3600;

#[test]
fn a_personal_token_is_minted_stored_as_the_basic_password_used_by_curl_and_deleted_at_logout() {
    let w = World::new();
    // The fixture's alice may hold a token from an earlier test: replaced on purpose.
    let out = sso_login(&w, "oa", &["--personal-token", "--days", "30", "--replace-token"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("minted a personal access token, valid until"), "{}", text(&out));
    let listed = w.list_json();
    let server = &listed[0];
    // A Basic server (the default kind, so not written) with the token's dates.
    assert_eq!(server.get("auth"), None, "{listed}");
    assert_eq!(server["username"], "alice@example.test", "{listed}");
    assert_eq!(server["personal_token"]["days"], 30, "{listed}");
    let (minted, expires) = (token_field(&w, "minted_at"), token_field(&w, "expires_at"));
    assert!((expires - minted - 30 * DAY).abs() < 120, "30 days: {minted} {expires}");

    // The keychain's Basic entry holds it (read by secret-tool), and env gives it.
    let (user, pat) = env_basic(&w, "oa");
    assert_eq!(user, "alice@example.test");
    assert_eq!(w.keychain(&fx("MLL_OIDC_AUTH_URL"), &user).as_deref(), Some(pat.as_str()));
    assert!(files_containing(w.dir.path(), pat.as_bytes()).is_empty(), "the token is in no file");
    // curl as a Basic client: accepted by the server, as alice.
    let (code, body) = curl_status("GET", WHO, &basic(&user, &pat), None);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("alice@example.test"), "{body}");
    let report = status_json(&w, "oa");
    assert_eq!(report["outcome"]["kind"], "ok", "{report}");
    assert_eq!(report["personal_token"]["days"], 30, "{report}");
    assert_eq!(report["identity"]["username"], "alice@example.test", "{report}");
    let shown = stdout(&w.run(&["status", "oa"]));
    assert!(shown.contains("personal access token: valid until "), "{shown}");

    // Logout deletes it on the server: curl is refused from then on.
    let out = w.run(&["logout", "oa"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("the server deleted the personal access token"), "{}", text(&out));
    assert_eq!(curl_status("GET", WHO, &basic(&user, &pat), None).0, 401);
    assert_eq!(w.keychain(&fx("MLL_OIDC_AUTH_URL"), &user), None);
}

#[test]
fn a_token_minted_elsewhere_is_replaced_only_when_the_user_says_so() {
    let w = World::new();
    let out = sso_login(&w, "oa", &["--personal-token", "--replace-token"]);
    assert!(out.status.success(), "{}", text(&out));
    let (user, ours) = env_basic(&w, "oa");
    // A token minted in the web UI (or another machine): the signed-in user's own request.
    let other = World::new();
    let out = sso_login(&other, "web", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let bearer = stdout(&other.run(&["token", "web"])).trim().to_string();
    let expiration = format!("{}Z", chrono_like_date(now() + 10 * DAY));
    let (code, body) = curl_status(
        "PATCH",
        "/api/2.0/mlflow/users/access-token",
        &format!("header = \"Authorization: Bearer {bearer}\""),
        Some(&format!(r#"{{"expiration": "{expiration}"}}"#)),
    );
    assert_eq!(code, 200, "{body}");
    let theirs = serde_json::from_str::<Value>(&body).unwrap()["token"].as_str().unwrap().to_string();
    assert_eq!(curl_status("GET", WHO, &basic(&user, &ours), None).0, 401, "minting replaced ours");

    // No terminal and no --replace-token: refused, naming the flag; their token still works
    // and the server is still a personal-token server.
    let out = sso_login(&w, "oa", &["--personal-token"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("already has a personal access token"), "{}", text(&out));
    assert!(stderr(&out).contains("--replace-token"), "{}", text(&out));
    assert_eq!(curl_status("GET", WHO, &basic(&user, &theirs), None).0, 200, "theirs is untouched");
    assert_eq!(w.list_json()[0].get("auth"), None, "still a Basic server");

    // At a terminal the question is asked: "n" keeps theirs, "y" replaces it.
    let out = sso_login_at_terminal(&w, "n\n");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("replace it? [y/N]"), "{}", text(&out));
    assert_eq!(curl_status("GET", WHO, &basic(&user, &theirs), None).0, 200, "theirs is untouched");
    let out = sso_login_at_terminal(&w, "y\n");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(curl_status("GET", WHO, &basic(&user, &theirs), None).0, 401, "replaced after the yes");
    let (_, after_yes) = env_basic(&w, "oa");
    assert_eq!(curl_status("GET", WHO, &basic(&user, &after_yes), None).0, 200);
    // Theirs again, then --replace-token: a new token of ours, theirs revoked.
    let (code, body) = curl_status(
        "PATCH",
        "/api/2.0/mlflow/users/access-token",
        &format!("header = \"Authorization: Bearer {}\"", stdout(&other.run(&["token", "web"])).trim()),
        Some(&format!(r#"{{"expiration": "{expiration}"}}"#)),
    );
    assert_eq!(code, 200, "{body}");
    let theirs = serde_json::from_str::<Value>(&body).unwrap()["token"].as_str().unwrap().to_string();
    let out = sso_login(&w, "oa", &["--personal-token", "--replace-token"]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, renewed) = env_basic(&w, "oa");
    assert_eq!(curl_status("GET", WHO, &basic(&user, &renewed), None).0, 200);
    assert_eq!(curl_status("GET", WHO, &basic(&user, &theirs), None).0, 401);
    // Our own token is not asked about: a second login replaces it without a question.
    let out = sso_login(&w, "oa", &["--personal-token"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(w.run(&["logout", "oa"]).status.success());
}

#[test]
fn a_token_past_eighty_percent_of_its_life_is_renewed_by_the_next_command() {
    let w = World::new();
    // A client of the test's own whose access tokens live 2 s: an ended session shows soon.
    let client = register_client(2);
    let out = sso_login_as(&w, "oa", &client, &["--personal-token", "--replace-token", "--days", "90"]);
    assert!(out.status.success(), "{}", text(&out));
    let (user, first) = env_basic(&w, "oa");
    // Not due: the same token.
    assert_eq!(env_basic(&w, "oa").1, first);
    // Minted 73 of 90 days ago (past 80 %): the next command mints a new one.
    let expires = now() + 17 * DAY;
    set_token_dates(&w, expires - 90 * DAY, expires);
    let (_, second) = env_basic(&w, "oa");
    assert_ne!(second, first, "renewed");
    assert_eq!(curl_status("GET", WHO, &basic(&user, &second), None).0, 200);
    assert_eq!(curl_status("GET", WHO, &basic(&user, &first), None).0, 401, "the old one is replaced");
    assert!((token_field(&w, "minted_at") - now()).abs() < 120, "minted now");
    assert_eq!(env_basic(&w, "oa").1, second, "renewed once");
    // The checks (status, the tray's) renew too.
    let expires = now() + 17 * DAY;
    set_token_dates(&w, expires - 90 * DAY, expires);
    assert_eq!(status_json(&w, "oa")["outcome"]["kind"], "ok");
    let (_, third) = env_basic(&w, "oa");
    assert_ne!(third, second, "renewed by the check");
    assert_eq!(curl_status("GET", WHO, &basic(&user, &second), None).0, 401);
    let second = third;

    // The single sign-on session ended (the IdP ended every grant of alice): a due token is
    // used as it is until it expires...
    let admin = format!("{}/revoke-grants", fx("MLL_OIDC_ADMIN_URL"));
    curl_json(&["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", r#"{"user": "alice"}"#, &admin]);
    std::thread::sleep(std::time::Duration::from_secs(3)); // the access token in hand expires
    let expires = now() + 5 * DAY;
    set_token_dates(&w, expires - 90 * DAY, expires);
    assert_eq!(env_basic(&w, "oa").1, second, "still the token in hand");
    // ... and once expired, the command asks for a login (exit 3).
    set_token_dates(&w, now() - 91 * DAY, now() - DAY);
    let out = w.run(&["env", "oa", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stderr(&out).contains("--personal-token"), "{}", text(&out));
}

/// `login oa --sso --personal-token` at a terminal (`script` gives it a pty), `answer`
/// typed in; the terminal's output is stdout.
fn sso_login_at_terminal(w: &World, answer: &str) -> Output {
    assert!(which("script"), "script is missing: apt-get install util-linux");
    let command = format!(
        "{BIN} login oa --sso --personal-token --issuer {} --client-id {} --timeout 60",
        fx("MLL_OIDC_ISSUER"),
        fx("MLL_OIDC_CLIENT_ID")
    );
    let cmd = w.cmd();
    let mut script = Command::new("script");
    script.args(["-qec", &command, "/dev/null"]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.env("BROWSER", fx("MLL_OIDC_BROWSER")).env("DISPLAY", ":99").env_remove("SSH_CONNECTION");
    run_with(&mut script, answer)
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) of a Unix time, with the `date` command.
fn chrono_like_date(unix: i64) -> String {
    let out = Command::new("date").args(["-u", "-d", &format!("@{unix}"), "+%Y-%m-%dT%H:%M:%S"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
