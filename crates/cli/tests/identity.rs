//! MLflow's own access control against the fixture's real basic-auth app (MLflow 3.17.2,
//! fail-closed): who the server says you are, and what a user without permission is told.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;

fn status_json(w: &World, name: &str) -> Value {
    let out = w.run(&["status", name, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
}

#[test]
fn status_shows_who_the_server_says_you_are_and_whether_you_are_admin() {
    let w = World::new();
    let url = fx("MLL_MLFLOW_AUTH_URL");
    let admin = fx("MLL_MLFLOW_ADMIN_USER");
    let out = w.login("auth", &url, &admin, &fx("MLL_MLFLOW_ADMIN_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = status_json(&w, "auth");
    assert_eq!(report["identity"]["username"], admin.as_str(), "{report}");
    assert_eq!(report["identity"]["is_admin"], true, "{report}");
    let out = w.run(&["status", "auth"]);
    assert!(stdout(&out).contains(&format!("the server knows you as {admin} (admin)")), "{}", text(&out));

    let out = w.login("erin", &url, "erin", &fx("MLL_ERIN_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = status_json(&w, "erin");
    assert_eq!(report["identity"]["username"], "erin", "{report}");
    assert_eq!(report["identity"]["is_admin"], false, "{report}");
    assert_eq!(report["identity"]["reads_experiments"], true, "{report}");

    // The record the tray and the servers window read holds the same identity.
    let checks: Value = serde_json::from_slice(&std::fs::read(w.config_dir().join("checks.json")).unwrap()).unwrap();
    assert_eq!(checks["servers"]["auth"]["identity"]["is_admin"], true, "{checks}");

    // nginx alone has no such API: the configured username, as before, and no identity.
    let out = w.login("nginx", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = status_json(&w, "nginx");
    assert_eq!(report["identity"], Value::Null, "{report}");
    assert_eq!(report["username"], "alice");
}

#[test]
fn a_user_without_permission_is_told_so_and_who_grants_it() {
    let w = World::new();
    let url = fx("MLL_MLFLOW_AUTH_URL");
    let out = w.login("frank", &url, "frank", &fx("MLL_FRANK_PW"), &[]);
    // The password is right: the login is kept, and the check is not a refusal.
    assert!(out.status.success(), "{}", text(&out));
    let report = status_json(&w, "frank");
    assert_eq!(report["outcome"]["kind"], "ok", "{report}");
    assert_eq!(report["identity"]["username"], "frank", "{report}");
    assert_eq!(report["identity"]["reads_experiments"], false, "{report}");
    let out = w.run(&["status", "frank"]);
    let shown = stdout(&out);
    assert!(shown.contains("the server knows you as frank\n"), "{shown}");
    assert!(shown.contains("note: this user may read no experiment on this server"), "{shown}");
    assert!(shown.contains("\"Permission denied\""), "{shown}");
    assert!(
        shown.contains("ask the server's admin (an MLflow admin user) to grant this user READ permission"),
        "{shown}"
    );
    // What the note explains is what MLflow answers this user.
    let got = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let config = format!(
                "url = \"{url}/api/2.0/mlflow/experiments/get?experiment_id=0\"\nuser = \"frank:{}\"\n",
                fx("MLL_FRANK_PW").replace('\\', "\\\\").replace('"', "\\\"")
            );
            c.stdin.take().unwrap().write_all(config.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout), "403");
}
