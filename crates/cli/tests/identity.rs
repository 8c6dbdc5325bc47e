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

/// A new user of the fixture's auth app, with a random name (tests run in parallel).
fn new_user(password: &str) -> String {
    let name =
        format!("pw{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let script = r#"
import base64, json, os, urllib.request
auth = base64.b64encode((os.environ["A_USER"] + ":" + os.environ["A_PW"]).encode()).decode()
req = urllib.request.Request(os.environ["URL"] + "/api/2.0/mlflow/users/create", method="POST",
    data=json.dumps({"username": os.environ["U"], "password": os.environ["U_PW"]}).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Basic " + auth})
urllib.request.urlopen(req, timeout=60).read()
"#;
    let out = std::process::Command::new(fx("MLL_MLFLOW_PYTHON"))
        .args(["-c", script])
        .env("URL", fx("MLL_MLFLOW_AUTH_URL"))
        .env("A_USER", fx("MLL_MLFLOW_ADMIN_USER"))
        .env("A_PW", fx("MLL_MLFLOW_ADMIN_PW"))
        .env("U", &name)
        .env("U_PW", password)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    name
}

/// The HTTP status MLflow's auth app answers `user:password` (curl reads both from stdin).
fn answers(user: &str, password: &str) -> String {
    use std::io::Write;
    let url = format!("{}/api/2.0/mlflow/users/current", fx("MLL_MLFLOW_AUTH_URL"));
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let config = format!("url = \"{url}\"\nuser = \"{}:{}\"\n", quote(user), quote(password));
    let mut child = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

/// The pending entry of a password change, read by `secret-tool` (not by our code).
fn pending(w: &World, user: &str) -> Option<String> {
    w.keychain(&fx("MLL_MLFLOW_AUTH_URL"), &format!("{user} (new password, pending)"))
}

#[test]
fn passwd_changes_the_password_on_the_server_and_in_the_keychain() {
    let w = World::new();
    let url = fx("MLL_MLFLOW_AUTH_URL");
    let (old, new) = ("old-pw-1 $'\"", "new-pw-2 ü\\`$(x)");
    let user = new_user(old);
    let out = w.login("mine", &url, &user, old, &[]);
    assert!(out.status.success(), "{}", text(&out));
    // The plugin's source before: the old password.
    let cred = |w: &World| {
        let out = w.run(&["credential", "--name", "mine"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert!(cred(&w).to_string().contains(&serde_json::to_string(old).unwrap()[1..old.len()]));

    // MLflow's rules are told before anything is written or sent.
    let out = w.run_stdin(&["passwd", "mine", "--password-stdin"], "short-pw");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("at least 12 characters"), "{}", text(&out));
    assert_eq!(pending(&w, &user), None);
    // The same password again is refused here, before the server is asked.
    let out = w.run_stdin(&["passwd", "mine", "--password-stdin"], old);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("the new password is the current one"), "{}", text(&out));

    // A hooked interactive bash changes it, and has the new one at its next prompt.
    let sha = |s: &str| {
        use std::io::Write;
        let mut c = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()[..64].to_string()
    };
    let script = format!(
        "eval \"$('{BIN}' init bash)\"\n\
         echo \"before=$(printf %s \"$MLFLOW_TRACKING_PASSWORD\" | sha256sum | cut -c1-64)\"\n\
         printf %s \"$NEW_PW\" | '{BIN}' passwd mine --password-stdin >&2\n\
         echo \"after=$(printf %s \"$MLFLOW_TRACKING_PASSWORD\" | sha256sum | cut -c1-64)\"\n"
    );
    let out = {
        use std::io::Write;
        let mut child = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-i"])
            .env("MLFLOW_LOGIN_CONFIG_DIR", w.config_dir())
            .env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &w.prefix)
            .env("NEW_PW", new)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let shown = stdout(&out);
    assert!(shown.contains(&format!("before={}", sha(old))), "{}", text(&out));
    assert!(shown.contains(&format!("after={}", sha(new))), "the hooked shell did not follow: {}", text(&out));
    let all = text(&out);
    assert!(!all.contains(new) && !all.contains(old), "a password leaked: {all}");
    assert_eq!(w.keychain(&url, &user).as_deref(), Some(new));
    assert_eq!(pending(&w, &user), None);
    assert_eq!(answers(&user, old), "401", "the old password is refused afterwards");
    assert_eq!(answers(&user, new), "200");
    // The check runs with the new password, and the plugin gets it from its next request.
    assert_eq!(status_json(&w, "mine")["outcome"]["kind"], "ok");
    let c = cred(&w).to_string();
    assert!(
        c.contains(&serde_json::to_string(new).unwrap()[1..new.len()]),
        "the plugin's credential is not the new password"
    );
}

#[test]
fn passwd_killed_between_its_steps_loses_nothing_and_doctor_finishes_it() {
    let url = fx("MLL_MLFLOW_AUTH_URL");
    // Where the process dies, and which password the server and the keychain hold then.
    for (point, server_has_new) in
        [("passwd-after-pending", false), ("passwd-after-server", true), ("passwd-after-promote", true)]
    {
        let w = World::new();
        let (old, new) = ("old-password-3", "new-password-4");
        let user = new_user(old);
        let out = w.login("mine", &url, &user, old, &[]);
        assert!(out.status.success(), "{}", text(&out));
        let mut cmd = w.cmd();
        cmd.args(["passwd", "mine", "--password-stdin"]).env("MLL_TEST_CRASH_AT", point);
        let out = {
            use std::io::Write;
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(new.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        };
        assert_eq!(out.status.code(), None, "{point}: the process must die there: {}", text(&out));
        let want = if server_has_new { new } else { old };
        assert_eq!(answers(&user, want), "200", "{point}");
        // Nothing lost: the password the server accepts is in the keychain.
        let stored = [w.keychain(&url, &user), pending(&w, &user)];
        assert!(stored.iter().any(|s| s.as_deref() == Some(want)), "{point}: {stored:?}");

        let out = w.run(&["doctor"]);
        assert!(!text(&out).contains(new) && !text(&out).contains(old), "{point}: a password leaked");
        assert!(stdout(&out).contains("\"mine\"") || point == "passwd-after-promote", "{point}: {}", text(&out));
        assert_eq!(w.keychain(&url, &user).as_deref(), Some(want), "{point}: {}", text(&out));
        assert_eq!(pending(&w, &user), None, "{point}: {}", text(&out));
        assert_eq!(status_json(&w, "mine")["outcome"]["kind"], "ok", "{point}");
    }
}
