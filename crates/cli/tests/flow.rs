//! A whole session against the real fixture: login, list, status, env, exec with the real
//! MLflow client logging a run through nginx, logout, remove; then no file under the test
//! HOME holds the password.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;

#[test]
fn full_flow_and_no_password_on_disk() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    let pw = fx("MLL_ALICE_PW");
    let python = fx("MLL_MLFLOW_PYTHON");

    let out = w.login("prod", &url, "alice", &pw, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.login("sub", &fx("MLL_NGINX_SUBPATH_URL"), "bob", &fx("MLL_BOB_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("mlflow-login use sub"), "second server is not made active: {}", text(&out));

    let out = w.run(&["status"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("prod") && stdout(&out).contains(" ok "), "{}", text(&out));
    let out = w.run(&["status", "--all", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v.as_array().unwrap().iter().all(|r| r["outcome"]["kind"] == "ok"), "{v}");

    // The real MLflow client, with the variables from `env`, logs a run through nginx.
    let script = "import mlflow, uuid\n\
        mlflow.set_experiment('mll-flow-' + uuid.uuid4().hex)\n\
        with mlflow.start_run() as r:\n    mlflow.log_metric('m', 1.0)\n\
        print('RUN', r.info.run_id)\n";
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", r#"eval "$("$BIN" env --shell bash)" && exec "$PY" -c "$SCRIPT""#])
        .env("BIN", BIN)
        .env("PY", &python)
        .env("SCRIPT", script)
        .env("MLFLOW_LOGIN_CONFIG_DIR", w.config_dir())
        .env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &w.prefix)
        .output()
        .unwrap();
    assert!(out.status.success() && stdout(&out).contains("RUN "), "{}", text(&out));

    // ... and through `exec`, with another server.
    let out = w.cmd().args(["exec", "sub", "--", &python, "-c", script]).output().unwrap();
    assert!(out.status.success() && stdout(&out).contains("RUN "), "{}", text(&out));

    // Without credentials the same client is refused: the variables are what made it work.
    let out = Command::new(&python)
        .args(["-c", "import mlflow; mlflow.search_experiments()"])
        .env("MLFLOW_TRACKING_URI", &url)
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "MLflow worked without credentials: {}", text(&out));

    // Switch, log out, remove.
    assert!(w.run(&["use", "sub"]).status.success());
    assert_eq!(w.list_json().as_array().unwrap().iter().find(|s| s["active"] == true).unwrap()["name"], "sub");
    let out = w.run(&["logout", "prod"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.keychain(&url, "alice"), None);
    let out = w.run(&["exec", "prod", "--", "true"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = w.run(&["status", "prod"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(w.run(&["remove", "sub"]).status.success());
    assert_eq!(w.keychain(&fx("MLL_NGINX_SUBPATH_URL"), "bob"), None);

    // No file anywhere under the test HOME holds either password.
    let home = std::path::PathBuf::from(fx("MLL_TEST_HOME"));
    for secret in [pw, fx("MLL_BOB_PW")] {
        let hits = files_containing(&home, secret.as_bytes());
        assert!(hits.is_empty(), "password found on disk in {hits:?}");
    }
}

/// `MLFLOW_TRACKING_PASSWORD` from `env NAME --format json`.
fn env_password(w: &World, name: &str) -> String {
    let out = w.run(&["env", name, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["MLFLOW_TRACKING_PASSWORD"].as_str().unwrap().to_string()
}

/// `secret-tool store` of `password` under `attributes` (an outside program's write).
fn secret_tool_store(attributes: &[&str], password: &str) {
    use std::io::Write;
    let mut child = Command::new("secret-tool")
        .args(["store", "--label", "written by secret-tool"])
        .args(attributes)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn keychain_reads_round_trip_every_length_and_see_outside_writes() {
    // The read path speaks the Secret Service protocol itself (an encrypted session,
    // AES-CBC with padding); writes go through keyring. Lengths around the 16-byte
    // blocks, multi-byte characters, and an entry another program rewrote.
    let w = World::new();
    let url = "https://keychain.example.com";
    let chars = ['a', 'Z', '0', ' ', ':', '\'', '"', '$', '\\', 'é', 'ß', '中', '🔑'];
    for len in [1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 1000] {
        let pw: String = (0..len).map(|i| chars[(i * 7 + len) % chars.len()]).collect();
        let out = w.login("k", url, "alice", &pw, &["--no-verify"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(env_password(&w, "k"), pw, "length {len}");
    }
    let service = format!("{}{url}", w.prefix);
    secret_tool_store(&["service", &service, "username", "basic:alice"], "rewritten: ünïcödé");
    assert_eq!(env_password(&w, "k"), "rewritten: ünïcödé");
}

#[test]
fn two_matching_keychain_entries_are_an_error_not_a_guess() {
    let w = World::new();
    let url = "https://twice.example.com";
    let out = w.login("t", url, "alice", "first", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let service = format!("{}{url}", w.prefix);
    secret_tool_store(&["service", &service, "username", "basic:alice", "origin", "elsewhere"], "second");
    let out = w.run(&["env", "t"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(stderr(&out).contains("several keychain entries match"), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("first"), "{}", text(&out));
}

/// The login use case's rules as the CLI user meets them (the rules themselves are core's
/// table test): a re-login keeps the TLS settings, flags turn them off, and a login to
/// another URL under a known name changes nothing unless `--update` says so.
#[test]
fn relogin_keeps_settings_and_adding_never_destroys() {
    let w = World::new();
    let url = fx("MLL_NGINX_TLS_URL");
    let (ca, pw) = (fx("MLL_TLS_CA"), fx("MLL_ALICE_PW"));
    let out = w.login("tls", &url, "alice", &pw, &["--ca-bundle", &ca]);
    assert!(out.status.success(), "{}", text(&out));

    // A new password, no flags: the CA bundle is kept, so the check passes.
    let out = w.login("tls", &url, "alice", &pw, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let server = |w: &World| w.list_json().as_array().unwrap().iter().find(|s| s["name"] == "tls").cloned().unwrap();
    assert_eq!(server(&w)["ca_bundle"], std::fs::canonicalize(&ca).unwrap().to_str().unwrap());

    // --insecure-tls, then --no-insecure-tls turns it off again.
    let out = w.login("tls", &url, "alice", &pw, &["--insecure-tls"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server(&w)["insecure_tls"], true);
    let out = w.login("tls", &url, "alice", &pw, &["--no-insecure-tls"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server(&w).get("insecure_tls").cloned().unwrap_or(serde_json::Value::Bool(false)), false);

    // Another URL under a known name: refused (exit 2), nothing changed, the way out named.
    let other = fx("MLL_NGINX_URL");
    let out = w.login("tls", &other, "alice", &pw, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("--update"), "{}", text(&out));
    assert_eq!(server(&w)["url"], url.trim_end_matches('/'));
    assert_eq!(
        w.keychain(url.trim_end_matches('/'), "alice").as_deref(),
        Some(pw.as_str()),
        "the password is still there"
    );

    // With --update the server moves, and the CA bundle set for the old host is not kept.
    let out = w.login("tls", &other, "alice", &pw, &["--update"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("the CA bundle was not kept"), "{}", text(&out));
    let moved = server(&w);
    assert_eq!((moved["url"].as_str(), moved.get("ca_bundle")), (Some(other.trim_end_matches('/')), None));

    // --no-ca-bundle clears it.
    let out = w.login("tls", &url, "alice", &pw, &["--update", "--ca-bundle", &ca]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.login("tls", &url, "alice", &pw, &["--no-ca-bundle", "--insecure-tls"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server(&w).get("ca_bundle"), None);
}
