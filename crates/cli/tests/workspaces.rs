//! MLflow workspaces through the CLI against the real fixture (tests/fixtures/workspaces.sh:
//! MLflow with `--enable-workspaces` behind its basic-auth app; wanda may use team-a and
//! team-b, walt team-a only): `use NAME/WS` asks the server and refuses what it does not
//! list, nothing changed; each server keeps its workspace; `workspaces`, `list`, `env`,
//! `exec` and project files carry it; `exec` logs a run that lands in its workspace, and so
//! does a run through `exec --proxy` (the proxy sends the workspace for clients that name none).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn config_text(w: &World) -> String {
    std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap_or_default()
}

fn server_json(w: &World, name: &str) -> serde_json::Value {
    let list = w.list_json();
    list.as_array().unwrap().iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name} in {list}")).clone()
}

fn env_var(w: &World, args: &[&str], var: &str) -> Option<String> {
    let mut all = vec!["env", "--format", "json"];
    all.extend_from_slice(args);
    let out = w.run(&all);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[var].as_str().map(str::to_string)
}

#[test]
fn use_checks_the_workspace_with_the_server() {
    let w = World::new();
    let url = fx("MLL_WS_URL");
    let out = w.login("prod", &url, &fx("MLL_WS_A_USER"), &fx("MLL_WS_A_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.login("plain", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));

    // walt may use team-a: selected, active, exported.
    let out = w.run(&["use", "prod/team-a"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("workspace team-a"), "{}", text(&out));
    assert_eq!(server_json(&w, "prod")["workspace"], "team-a");
    assert_eq!(env_var(&w, &[], "MLFLOW_WORKSPACE").as_deref(), Some("team-a"));
    let out = w.run(&["list"]);
    assert!(stdout(&out).contains("workspace team-a"), "{}", text(&out));

    // team-b is not his: refused, named, nothing changed (not even the active server).
    w.run(&["use", "plain"]);
    let before = config_text(&w);
    let out = w.run(&["use", "prod", "--workspace", "team-b"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("\"team-b\"") && err.contains("may not read it") && err.contains("team-a"), "{err}");
    assert_eq!(config_text(&w), before, "a refused workspace changes nothing");
    // One that does not exist: the same answer (MLflow does not tell them apart).
    let out = w.run(&["use", "prod/nope-ws"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stderr(&out).contains("\"nope-ws\""), "{}", text(&out));
    // Not a workspace name at all: a usage error before any request.
    let out = w.run(&["use", "prod/Team_B"]);
    assert!(!out.status.success() && stderr(&out).contains("not a workspace name"), "{}", text(&out));

    // Each server keeps its own workspace while another is active.
    assert_eq!(server_json(&w, "prod")["workspace"], "team-a");
    assert_eq!(env_var(&w, &[], "MLFLOW_WORKSPACE"), None, "plain has no workspace: unset");
    let out = w.run(&["use", "prod"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(env_var(&w, &[], "MLFLOW_WORKSPACE").as_deref(), Some("team-a"), "prod comes back in team-a");

    // A server without workspaces says so.
    let out = w.run(&["use", "plain/team-a"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("has no workspaces"), "{}", text(&out));
    let out = w.run(&["workspaces", "plain"]);
    assert!(!out.status.success() && stderr(&out).contains("has no workspaces"), "{}", text(&out));

    // `workspaces` lists what the server lists for him, the active one marked.
    let out = w.run(&["workspaces"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).lines().any(|l| l.starts_with("* team-a")), "{}", text(&out));
    assert!(!stdout(&out).contains("team-b"), "{}", text(&out));
    let out = w.run(&["workspaces", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"name": "team-a", "description": "team-a (test fixture)", "active": true}]));

    // --no-workspace clears it.
    let out = w.run(&["use", "prod", "--no-workspace"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(env_var(&w, &[], "MLFLOW_WORKSPACE"), None);
}

#[test]
fn an_unreachable_server_refuses_unless_no_verify() {
    let w = World::new();
    let out = w.login("gone", &fx("MLL_CLOSED_URL"), "walt", "pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    w.run(&["use", "--none"]);
    let before = config_text(&w);
    let out = w.run(&["use", "gone/team-a"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot check workspace \"team-a\"") && err.contains("--no-verify"), "{err}");
    assert!(err.to_lowercase().contains("refused"), "the reason is given: {err}");
    assert_eq!(config_text(&w), before, "nothing changed");
    let out = w.run(&["use", "gone/team-a", "--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server_json(&w, "gone")["workspace"], "team-a");
    assert_eq!(server_json(&w, "gone")["active"], true);
}

#[test]
fn exec_logs_a_run_into_the_workspace_and_a_project_pins_one() {
    let w = World::new();
    let url = fx("MLL_WS_URL");
    let out = w.login("prod", &url, &fx("MLL_WS_BOTH_USER"), &fx("MLL_WS_BOTH_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["use", "prod/team-b"]);
    assert!(out.status.success(), "{}", text(&out));

    let experiment = format!("exec-ws-{}", std::process::id());
    let script = format!(
        "import mlflow\nmlflow.set_experiment({experiment:?})\nwith mlflow.start_run():\n    mlflow.log_param('k', 'v')\n"
    );
    let out = w.run(&["exec", "--", &fx("MLL_MLFLOW_PYTHON"), "-c", &script]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(experiment_in(&url, "team-b", &experiment), 200, "the run landed in team-b");
    assert_eq!(experiment_in(&url, "team-a", &experiment), 404, "and not in team-a");

    // A project file selects team-a for commands run inside it; outside, team-b.
    let root = w.dir.path().join("proj");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join(".mlflow-login.toml"), format!("url = \"{url}\"\nworkspace = \"team-a\"\n")).unwrap();
    // As the hook puts it in force in a shell inside the project.
    let mut cmd = w.cmd();
    cmd.env("MLFLOW_LOGIN_PROJECT", root.join(".mlflow-login.toml"));
    let out = cmd.args(["env", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["MLFLOW_WORKSPACE"], "team-a", "{v}");
    assert_eq!(env_var(&w, &[], "MLFLOW_WORKSPACE").as_deref(), Some("team-b"));
    assert_eq!(server_json(&w, "prod")["workspace"], "team-b", "the project changed no config");
}

#[test]
fn a_run_through_the_proxy_lands_in_the_selected_workspace_unless_the_client_names_one() {
    let w = World::new();
    let url = fx("MLL_WS_URL");
    let out = w.login("prod", &url, &fx("MLL_WS_BOTH_USER"), &fx("MLL_WS_BOTH_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["use", "prod/team-b"]);
    assert!(out.status.success(), "{}", text(&out));

    // MLflow's Python client with only the proxy's URI (exec --proxy removes MLFLOW_WORKSPACE).
    let experiment = format!("proxy-ws-{}", std::process::id());
    let script = format!(
        "import os, mlflow\nassert 'MLFLOW_WORKSPACE' not in os.environ\nmlflow.set_experiment({experiment:?})\n\
         with mlflow.start_run():\n    mlflow.log_param('k', 'v')\n"
    );
    let out = w.run(&["exec", "--proxy", "--", &fx("MLL_MLFLOW_PYTHON"), "-c", &script]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(experiment_in(&url, "team-b", &experiment), 200, "the run landed in team-b");
    assert_eq!(experiment_in(&url, "team-a", &experiment), 404, "and not in team-a");

    // A client that names its workspace keeps it.
    let own = format!("proxy-own-ws-{}", std::process::id());
    let create = format!(
        "curl -fsS -X POST -H 'X-MLFLOW-WORKSPACE: team-a' -H 'Content-Type: application/json' \
         -d '{{\"name\": \"{own}\"}}' \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/experiments/create\""
    );
    let out = w.run(&["exec", "--proxy", "--", "sh", "-c", &create]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(experiment_in(&url, "team-a", &own), 200, "the client's own workspace was kept");
    assert_eq!(experiment_in(&url, "team-b", &own), 404);
}

/// `status --json` for `name`: its one report.
fn status_json(w: &World, name: &str) -> (Option<i32>, serde_json::Value) {
    let out = w.run(&["status", name, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    (out.status.code(), v[0].clone())
}

#[test]
fn status_checks_the_active_workspace() {
    let w = World::new();
    let url = fx("MLL_WS_URL");
    // walt may not use team-b (selected without asking): its own outcome, with the fix.
    let out = w.login("prod", &url, &fx("MLL_WS_A_USER"), &fx("MLL_WS_A_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["use", "--no-verify", "prod/team-b"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, report) = status_json(&w, "prod");
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["outcome"]["kind"], "workspace_refused", "{report}");
    assert_eq!(report["outcome"]["workspace"], "team-b", "{report}");
    assert_eq!(report["outcome"]["available"], serde_json::json!(["team-a"]), "{report}");
    assert_eq!(report["workspace"], "team-b", "{report}");
    let out = w.run(&["status", "prod"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let shown = stdout(&out);
    assert!(shown.contains("the workspace team-b is not one this user may use"), "{shown}");
    assert!(shown.contains("`mlflow-login use prod/WORKSPACE` picks another"), "{shown}");
    assert!(shown.contains("`mlflow-login workspaces prod` lists them"), "{shown}");
    // The tray reads the same outcome from the checks file.
    let checks = std::fs::read_to_string(w.config_dir().join("checks.json")).unwrap();
    assert!(checks.contains("\"workspace_refused\""), "{checks}");
    // A workspace he may use: ok.
    w.run(&["use", "prod/team-a"]);
    let (code, report) = status_json(&w, "prod");
    assert_eq!((code, &report["outcome"]["kind"]), (Some(0), &serde_json::json!("ok")), "{report}");

    // wanda may use team-b: ok.
    let out = w.login("both", &url, &fx("MLL_WS_BOTH_USER"), &fx("MLL_WS_BOTH_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    w.run(&["use", "both/team-b"]);
    let (code, report) = status_json(&w, "both");
    assert_eq!((code, &report["outcome"]["kind"]), (Some(0), &serde_json::json!("ok")), "{report}");
    let out = w.run(&["status", "both"]);
    assert!(stdout(&out).contains("workspace team-b"), "{}", text(&out));

    // A server without workspaces, with one set: says so.
    let out = w.login("plain", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["use", "--no-verify", "plain/team-a"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, report) = status_json(&w, "plain");
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["outcome"]["kind"], "no_workspaces", "{report}");
    let out = w.run(&["status", "plain"]);
    let shown = stdout(&out);
    assert!(shown.contains("this server has no workspaces") && shown.contains("--no-workspace"), "{shown}");
    // Without a workspace, no workspace request and the usual ok.
    w.run(&["use", "plain", "--no-workspace"]);
    let (code, report) = status_json(&w, "plain");
    assert_eq!((code, &report["outcome"]["kind"]), (Some(0), &serde_json::json!("ok")), "{report}");
}

/// `status` with `envs` set: its exit code and its one report.
fn status_json_with(w: &World, envs: &[(&str, &std::path::Path)]) -> (Option<i32>, serde_json::Value) {
    let mut cmd = w.cmd();
    cmd.envs(envs.iter().copied());
    let out = cmd.args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    (out.status.code(), v[0].clone())
}

#[test]
fn status_checks_the_workspace_in_force() {
    let w = World::new();
    let url = fx("MLL_WS_URL");
    // walt may use team-a, which is prod's own workspace, and not team-b.
    let out = w.login("prod", &url, &fx("MLL_WS_A_USER"), &fx("MLL_WS_A_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = w.run(&["use", "prod/team-a"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, report) = status_json_with(&w, &[]);
    assert_eq!((code, &report["outcome"]["kind"]), (Some(0), &serde_json::json!("ok")), "{report}");

    // A project file in force selects team-b: that is the workspace checked.
    let root = w.dir.path().join("proj");
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join(".mlflow-login.toml");
    std::fs::write(&file, format!("url = \"{url}\"\nworkspace = \"team-b\"\n")).unwrap();
    let (code, report) = status_json_with(&w, &[("MLFLOW_LOGIN_PROJECT", &file)]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["outcome"]["kind"], "workspace_refused", "{report}");
    assert_eq!(report["outcome"]["workspace"], "team-b", "{report}");
    assert_eq!(report["workspace"], "team-b", "{report}");
    assert_eq!(report["used_because"]["kind"], "project", "{report}");
    // Named, the server this shell uses is checked in the same workspace.
    let mut cmd = w.cmd();
    let out = cmd.env("MLFLOW_LOGIN_PROJECT", &file).args(["status", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stdout(&out).contains("team-b"), "{}", text(&out));
    // The checks file keeps prod's own workspace's check: the tray shows that one.
    let checks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.config_dir().join("checks.json")).unwrap()).unwrap();
    assert_eq!(checks["servers"]["prod"]["kind"], "ok", "{checks}");
    assert_eq!(checks["servers"]["prod"]["workspace"], "team-a", "{checks}");

    // A shell pinned with `use prod/team-b --here` (selected unchecked): team-b is checked.
    let pin: &[(&str, &std::path::Path)] =
        &[("MLFLOW_LOGIN_PIN", "prod".as_ref()), ("MLFLOW_LOGIN_PIN_WORKSPACE", "team-b".as_ref())];
    let (code, report) = status_json_with(&w, pin);
    assert_eq!((code, &report["outcome"]["kind"]), (Some(3), &serde_json::json!("workspace_refused")), "{report}");
    assert_eq!(report["used_because"]["kind"], "pin", "{report}");

    // The other way round: prod's own workspace is refused, the project's team-a is fine.
    let out = w.run(&["use", "--no-verify", "prod/team-b"]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(&file, format!("url = \"{url}\"\nworkspace = \"team-a\"\n")).unwrap();
    let (code, report) = status_json_with(&w, &[("MLFLOW_LOGIN_PROJECT", &file)]);
    assert_eq!((code, &report["outcome"]["kind"]), (Some(0), &serde_json::json!("ok")), "{report}");
    assert_eq!(report["workspace"], "team-a", "{report}");
}
