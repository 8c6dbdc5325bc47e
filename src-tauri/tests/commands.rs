//! The IPC commands through Tauri's mock runtime, with the app's real config and
//! capabilities (so the per-window ACL is tested too) and an in-memory vault. The real
//! keychain and the real menu are tested by tests/tray/run.sh.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, list_file};
use mlflow_login_core::ErrorKind;
use serde_json::{Value, json};

fn login_request(name: &str, url: &str, user: &str, password: &str, without_checking: bool) -> Value {
    json!({"request": {
        "mode": "add", "name": name, "url": url, "username": user, "password": password, "auth": "basic",
        "caBundle": null, "insecureTls": false, "saveWithoutChecking": without_checking, "makeActive": false
    }})
}

/// The same form, for "Log in again…" on a known server.
fn relogin_request(name: &str, url: &str, user: &str, password: &str, without_checking: bool) -> Value {
    let mut r = login_request(name, url, user, password, without_checking);
    r["request"]["mode"] = json!("edit");
    r
}

#[test]
fn login_saves_and_lists_without_the_password() {
    let h = Harness::new();
    assert_eq!(h.servers("list_servers", json!({})), Ok(json!([])));

    let secret = "s3cr3t-ünïcode-'\"$";
    let r = h
        .invoke("login", "login", login_request("prod", "https://mlflow.example.com/", "alice", secret, true))
        .unwrap();
    assert_eq!(r["saved"], true);
    assert_eq!(r["check"], Value::Null);
    assert_eq!(r["server"]["name"], "prod");
    assert_eq!(r["server"]["url"], "https://mlflow.example.com");
    assert_eq!(r["server"]["active"], true, "the first server becomes active");
    assert_eq!(r["server"]["hasSecret"], true);

    let list = h.servers("list_servers", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let entry = &list[0];
    for key in ["name", "url", "username", "auth", "active", "hasSecret", "warnings", "lastCheck"] {
        assert!(entry.get(key).is_some(), "{key} missing in {entry}");
    }
    assert!(
        !list.to_string().contains("s3cr3t") && !r.to_string().contains("s3cr3t"),
        "a password went back to the UI"
    );
    let (_, _, stored) = h.state().logins().resolve(Some("prod")).unwrap();
    assert_eq!(stored.unwrap().expose(), secret);
}

#[test]
fn a_refused_or_unchecked_login_stores_nothing() {
    let h = Harness::new();
    // Port 9 on loopback: connection refused, at once.
    let r = h.invoke("login", "login", login_request("prod", "http://127.0.0.1:9", "alice", "pw", false)).unwrap();
    assert_eq!(r["saved"], false);
    assert_eq!(r["check"]["class"], "unchecked");
    assert_eq!(r["check"]["kind"], "unreachable");
    assert_eq!(r["check"]["field"], "url");
    assert!(r["check"]["summary"].as_str().unwrap().len() > 10);
    assert!(r["check"].get("latencyMs").is_some() && r["check"].get("checkedAt").is_some());
    assert_eq!(h.servers("list_servers", json!({})), Ok(json!([])));
}

#[test]
fn bad_input_names_the_field() {
    let h = Harness::new();
    let e = h.invoke("login", "login", login_request("prod", "mlflow.example.com", "alice", "pw", true)).unwrap_err();
    assert_eq!(e["kind"], "invalid_input");
    assert_eq!(e["field"], "url");
    let e = h.invoke("login", "login", login_request("prod", "https://h", "a:b", "pw", true)).unwrap_err();
    assert_eq!(e["field"], "username");
    let e = h.invoke("login", "login", login_request("prod", "https://h", "alice", "", true)).unwrap_err();
    assert_eq!(e["field"], "password");
    let e = h.invoke("login", "login", login_request("no spaces", "https://h", "alice", "pw", true)).unwrap_err();
    assert_eq!(e["field"], "name");
}

#[test]
fn switch_rename_logout_remove() {
    let h = Harness::new();
    for (name, url) in [("prod", "https://p"), ("staging", "https://s")] {
        h.invoke("login", "login", login_request(name, url, "alice", "pw", true)).unwrap();
    }
    assert_eq!(h.servers("set_active", json!({"name": "staging"})), Ok(Value::Null));
    assert_eq!(h.state().logins().config().unwrap().active.as_deref(), Some("staging"));

    assert_eq!(h.servers("rename_server", json!({"old": "staging", "new": "stage"})), Ok(Value::Null));
    let list = h.servers("list_servers", json!({})).unwrap();
    let names: Vec<_> = list.as_array().unwrap().iter().map(|s| (s["name"].clone(), s["active"].clone())).collect();
    assert_eq!(names, vec![(json!("prod"), json!(false)), (json!("stage"), json!(true))]);

    assert_eq!(h.servers("logout_server", json!({"name": "stage"})), Ok(Value::Null));
    let list = h.servers("list_servers", json!({})).unwrap();
    assert_eq!(list[1]["hasSecret"], false);

    assert_eq!(h.servers("remove_server", json!({"name": "stage"})), Ok(Value::Null));
    assert_eq!(h.servers("list_servers", json!({})).unwrap().as_array().unwrap().len(), 1);
}

#[test]
fn errors_serialise_as_kind_message_field_help() {
    let h = Harness::new();
    let e = h.servers("set_active", json!({"name": "nope"})).unwrap_err();
    assert_eq!(e["kind"], "not_found");
    assert_eq!(e["message"], "no server named \"nope\"");
    assert_eq!(e["field"], Value::Null);
    assert!(e["help"].as_str().unwrap().contains("mlflow-login list"));
    let keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["field", "help", "kind", "message"]);
}

#[test]
fn a_locked_keychain_is_an_error_not_a_hang() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "https://p", "alice", "pw", true)).unwrap();
    *h.vault.fail_with.lock().unwrap() = Some(ErrorKind::KeychainLocked);
    let list = h.servers("list_servers", json!({})).unwrap();
    assert_eq!(list[0]["hasSecret"], Value::Null, "the list still shows, without the secret state");
    let e = h.invoke("login", "login", relogin_request("prod", "https://p", "alice", "pw2", true)).unwrap_err();
    assert_eq!(e["kind"], "keychain_locked");
    assert!(e["help"].as_str().unwrap().contains("unlock"));
}

#[test]
fn verify_records_the_check_for_every_window() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "http://127.0.0.1:9", "alice", "pw", true)).unwrap();
    let check = h.servers("verify_server", json!({"name": "prod"})).unwrap();
    assert_eq!(check["kind"], "unreachable");
    let list = h.servers("list_servers", json!({})).unwrap();
    assert_eq!(list[0]["lastCheck"]["kind"], "unreachable", "shared through the checks file");
    let all = h.servers("verify_all", json!({})).unwrap();
    assert_eq!(all["prod"]["class"], "unchecked");
}

#[test]
fn window_context_and_prefill() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "https://p", "alice", "pw", true)).unwrap();
    assert_eq!(h.servers("window_context", json!({})), Ok(json!({"window": "servers", "server": null})));
    h.state().set_login_prefill(Some("prod".into()));
    assert_eq!(
        h.invoke("login", "window_context", json!({})),
        Ok(json!({"window": "login", "server": {
            "name": "prod", "url": "https://p", "username": "alice", "auth": "basic",
            "caBundle": null, "clientCert": null, "insecureTls": false, "issuer": null, "clientId": null
        }}))
    );
}

#[test]
fn adding_an_existing_name_is_refused_and_destroys_nothing() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "https://p", "alice", "old-pw", true)).unwrap();
    let e = h.invoke("login", "login", login_request("prod", "https://other", "bob", "new-pw", true)).unwrap_err();
    assert_eq!((e["kind"].as_str(), e["field"].as_str()), (Some("invalid_input"), Some("name")));
    let (_, server, stored) = h.state().logins().resolve(Some("prod")).unwrap();
    assert_eq!((server.url.as_str(), stored.unwrap().expose()), ("https://p", "old-pw"));
}

#[test]
fn log_in_again_keeps_every_setting_the_form_does_not_change() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert) = (dir.path().join("ca.pem"), dir.path().join("client.pem"));
    std::fs::write(&ca, "x").unwrap();
    std::fs::write(&cert, "x").unwrap();
    let (ca, cert) = (std::fs::canonicalize(ca).unwrap(), std::fs::canonicalize(cert).unwrap());
    let server = mlflow_login_core::Server {
        url: "https://tok.example".into(),
        username: None,
        auth: mlflow_login_core::AuthKind::Bearer,
        ca_bundle: Some(ca.clone()),
        client_cert: Some(cert.clone()),
        insecure_tls: false,
        sso: None,
        workspace: None,
        personal_token: None,
    };
    let token = mlflow_login_core::Secret::new("t0ken".into());
    h.state().logins().save("tok", server.clone(), Some(&token), mlflow_login_core::Activate::IfNone).unwrap();
    h.state().set_login_prefill(Some("tok".into()));
    let ctx = h.invoke("login", "window_context", json!({})).unwrap();
    assert_eq!(ctx["server"]["auth"], "bearer");
    assert_eq!(ctx["server"]["caBundle"], ca.to_str().unwrap());
    // The dialog sends back what it shows (the client certificate is not in the form).
    let mut r = relogin_request("tok", "https://tok.example", "", "t0ken-2", true);
    r["request"]["auth"] = json!("bearer");
    r["request"]["caBundle"] = ctx["server"]["caBundle"].clone();
    let saved = h.invoke("login", "login", r).unwrap();
    assert_eq!(saved["saved"], true);
    let (_, after, stored) = h.state().logins().resolve(Some("tok")).unwrap();
    assert_eq!(after, server, "auth kind, CA bundle and client certificate kept");
    assert_eq!(stored.unwrap().expose(), "t0ken-2");
}

#[test]
fn the_login_window_cannot_manage_servers() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "https://p", "alice", "pw", true)).unwrap();
    for (cmd, args) in [
        ("remove_server", json!({"name": "prod"})),
        ("logout_server", json!({"name": "prod"})),
        ("set_active", json!({"name": "prod"})),
        ("verify_all", json!({})),
        ("list_servers", json!({})),
        ("rename_server", json!({"old": "prod", "new": "x"})),
    ] {
        let e = h.invoke("login", cmd, args).unwrap_err();
        assert!(e.to_string().contains("not allowed"), "{cmd}: {e}");
    }
    assert_eq!(h.servers("list_servers", json!({})).unwrap().as_array().unwrap().len(), 1);
}

const TEAM_LIST: &str = "[servers.prod]\nurl = \"https://p\"\nusername = \"alice\"\n\n\
                         [servers.tok]\nurl = \"https://tok.example\"\nauth = \"bearer\"\n";

#[test]
fn importing_a_list_adds_its_servers_without_secrets() {
    let h = Harness::new();
    let (_dir, path) = list_file(TEAM_LIST);
    let plan = h.servers("import_plan", json!({"path": path})).unwrap();
    assert_eq!(plan["path"], path);
    assert_eq!(
        plan["servers"],
        json!([
            {"name": "prod", "url": "https://p", "action": "add", "differences": []},
            {"name": "tok", "url": "https://tok.example", "action": "add", "differences": []},
        ])
    );
    assert_eq!(h.servers("list_servers", json!({})), Ok(json!([])), "a plan changes nothing");

    let done = h.servers("import_apply", json!({"path": path, "replace": []})).unwrap();
    assert_eq!(
        done,
        json!([
            {"name": "prod", "result": "added", "needsLogin": true},
            {"name": "tok", "result": "added", "needsLogin": true},
        ])
    );
    let list = h.servers("list_servers", json!({})).unwrap();
    let got: Vec<_> = list.as_array().unwrap().iter().map(|s| (s["name"].clone(), s["hasSecret"].clone())).collect();
    assert_eq!(got, vec![(json!("prod"), json!(false)), (json!("tok"), json!(false))]);
    assert_eq!(h.state().logins().config().unwrap().servers["tok"].auth, mlflow_login_core::AuthKind::Bearer);
}

#[test]
fn importing_an_identical_list_changes_nothing() {
    let h = Harness::new();
    h.invoke("login", "login", login_request("prod", "https://p", "alice", "pw", true)).unwrap();
    let (_dir, path) = list_file("[servers.prod]\nurl = \"https://p\"\nusername = \"alice\"\n");
    let before = std::fs::read(h.state().logins().store().paths().config_file()).unwrap();
    let plan = h.servers("import_plan", json!({"path": path})).unwrap();
    assert_eq!(plan["servers"], json!([{"name": "prod", "url": "https://p", "action": "same", "differences": []}]));
    let done = h.servers("import_apply", json!({"path": path, "replace": ["prod"]})).unwrap();
    assert_eq!(done, json!([{"name": "prod", "result": "unchanged", "needsLogin": false}]));
    assert_eq!(std::fs::read(h.state().logins().store().paths().config_file()).unwrap(), before);
}

#[test]
fn a_differing_server_is_replaced_only_when_ticked() {
    let h = Harness::new();
    for (name, url) in [("prod", "https://p"), ("staging", "https://s")] {
        h.invoke("login", "login", login_request(name, url, "alice", "pw", true)).unwrap();
    }
    let (_dir, path) = list_file(
        "[servers.prod]\nurl = \"https://p2\"\nusername = \"alice\"\n\n\
         [servers.staging]\nurl = \"https://s2\"\nusername = \"alice\"\n",
    );
    let plan = h.servers("import_plan", json!({"path": path})).unwrap();
    assert_eq!(plan["servers"][0]["action"], "differs");
    assert_eq!(plan["servers"][0]["url"], "https://p2");
    assert_eq!(plan["servers"][0]["differences"], json!(["URL https://p -> https://p2"]));

    let done = h.servers("import_apply", json!({"path": path, "replace": ["staging"]})).unwrap();
    assert_eq!(
        done,
        json!([
            {"name": "prod", "result": "kept", "needsLogin": false},
            // A new URL: the password stored for the old one is not sent there.
            {"name": "staging", "result": "replaced", "needsLogin": true},
        ])
    );
    let config = h.state().logins().config().unwrap();
    assert_eq!(
        (config.servers["prod"].url.as_str(), config.servers["staging"].url.as_str()),
        ("https://p", "https://s2")
    );
}

/// The tray applies exactly the plan the user saw. A list rewritten
/// between the plan and the click (a shared folder, a second window) is not read again:
/// the server shown is the server added.
#[test]
fn the_plan_applied_is_the_plan_shown() {
    let h = Harness::new();
    let (_dir, path) = list_file("[servers.team]\nurl = \"https://team.example\"\nusername = \"alice\"\n");
    let plan = h.servers("import_plan", json!({"path": path})).unwrap();
    assert_eq!(plan["servers"][0]["url"], "https://team.example");
    std::fs::write(&path, "[servers.team]\nurl = \"https://lookalike.example\"\nusername = \"alice\"\n").unwrap();
    let done = h.servers("import_apply", json!({"path": path, "replace": []})).unwrap();
    assert_eq!(done[0]["result"], "added", "{done}");
    assert_eq!(h.state().logins().config().unwrap().servers["team"].url, "https://team.example");
}

#[test]
fn a_damaged_list_names_its_file_and_line() {
    let h = Harness::new();
    let (_dir, path) = list_file("[servers.prod]\nurl = \"https://p\"\npassword = \"hunter2\"\n");
    let e = h.servers("import_plan", json!({"path": path})).unwrap_err();
    assert_eq!(e["kind"], "config", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("{path}:3")), "{message}");
    assert!(!message.contains("hunter2"), "a secret in the message");
    assert!(e["help"].as_str().unwrap().contains("fix the list"), "{e}");
    // Nothing was shown, so there is nothing to apply.
    let e = h.servers("import_apply", json!({"path": path, "replace": []})).unwrap_err();
    assert_eq!(e["kind"], "invalid_input", "{e}");
    let e = h.servers("import_plan", json!({"path": format!("{path}.missing")})).unwrap_err();
    assert_eq!(e["kind"], "io");
    assert_eq!(h.servers("list_servers", json!({})), Ok(json!([])));
}

#[test]
fn the_login_window_cannot_import() {
    let h = Harness::new();
    let (_dir, path) = list_file(TEAM_LIST);
    for (cmd, args) in [("import_plan", json!({"path": path})), ("import_apply", json!({"path": path, "replace": []}))]
    {
        let e = h.invoke("login", cmd, args).unwrap_err();
        assert!(e.to_string().contains("not allowed"), "{cmd}: {e}");
    }
    assert_eq!(h.servers("list_servers", json!({})), Ok(json!([])));
}

#[test]
fn without_a_picker_a_path_is_needed() {
    // The command tests run without the dialog plugin (only the window process has it).
    let h = Harness::new();
    let e = h.servers("import_plan", json!({"path": null})).unwrap_err();
    assert_eq!(e["kind"], "internal");
}

/// A variable of the fixture servers; fails (never skips) without them.
fn fx(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under `tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh` (tests/tray/run.sh and `make test` do)")
    })
}

/// The servers window's workspace choice against the real workspaces fixture (MLflow with
/// --enable-workspaces behind its basic-auth app): wanda may use team-a and team-b, walt
/// team-a only. Core's rule, as `use NAME/WS`: only a workspace the server lists is selected.
#[test]
fn the_servers_window_chooses_a_workspace_the_server_lists() {
    let h = Harness::new();
    let url = fx("MLL_WS_URL");
    let login = |name: &str, user: &str, pw: &str| {
        let r = h.invoke("login", "login", login_request(name, &url, user, pw, false)).unwrap();
        assert_eq!(r["saved"], true, "{r}");
    };
    login("both", &fx("MLL_WS_BOTH_USER"), &fx("MLL_WS_BOTH_PW"));
    login("walt", &fx("MLL_WS_A_USER"), &fx("MLL_WS_A_PW"));

    let list = h.servers("list_workspaces", json!({"name": "both"})).unwrap();
    assert_eq!(list["enabled"], true, "{list}");
    let mut names: Vec<_> = list["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["team-a", "team-b"], "{list}");
    assert_eq!(h.servers("set_workspace", json!({"name": "both", "workspace": "team-b"})), Ok(Value::Null));
    let servers = h.servers("list_servers", json!({})).unwrap();
    let both = servers.as_array().unwrap().iter().find(|s| s["name"] == "both").unwrap();
    assert_eq!((&both["workspace"], &both["active"]), (&json!("team-b"), &json!(true)), "{both}");

    // walt may not use team-b: refused by name, with his workspaces, and nothing changes.
    let e = h.servers("set_workspace", json!({"name": "walt", "workspace": "team-b"})).unwrap_err();
    assert_eq!((e["kind"].as_str(), e["field"].as_str()), (Some("invalid_input"), Some("workspace")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("\"team-b\""), "{e}");
    assert!(e["help"].as_str().unwrap().contains("team-a"), "{e}");
    let config = h.state().logins().config().unwrap();
    assert_eq!((config.active.as_deref(), config.servers["walt"].workspace.as_deref()), (Some("both"), None));

    // A server that cannot be asked: the reason, as the check says it.
    h.invoke("login", "login", login_request("down", "http://127.0.0.1:9", "alice", "pw", true)).unwrap();
    let e = h.servers("list_workspaces", json!({"name": "down"})).unwrap_err();
    assert_eq!(e["kind"], "io", "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("the server could not be asked"), "{e}");
    let e = h.servers("set_workspace", json!({"name": "down", "workspace": "team-a"})).unwrap_err();
    assert_eq!(e["kind"], "io", "{e}");
}
