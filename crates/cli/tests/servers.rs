//! `servers export` / `servers import` against the real keychain: a list exported on one
//! machine reproduces the servers on a fresh one, from a file and from a loopback URL,
//! with no secret in the list; a damaged list names its line; a differing server is not
//! replaced without a terminal unless `--replace`.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

/// The servers as `list --json` shows them, without what is per machine.
fn servers(w: &World) -> Vec<(String, String, Option<String>, String)> {
    let list = w.list_json();
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["url"].as_str().unwrap().to_string(),
                s["username"].as_str().map(str::to_string),
                s["auth"].as_str().unwrap_or("basic").to_string(),
            )
        })
        .collect()
}

fn import_json(w: &World, args: &[&str]) -> (std::process::Output, Vec<serde_json::Value>) {
    let mut all = vec!["servers", "import"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = w.run(&all);
    let items = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (out, items)
}

fn results(items: &[serde_json::Value]) -> Vec<(String, String, bool)> {
    items
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["result"].as_str().unwrap().to_string(),
                i["needs_login"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// A team machine with two servers; returns the exported list.
fn exported() -> (World, String) {
    let a = World::new();
    let out = a.login("prod", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = a.login("sub", &fx("MLL_NGINX_SUBPATH_URL"), "bob", &fx("MLL_BOB_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = a.run(&["servers", "export"]);
    assert!(out.status.success(), "{}", text(&out));
    let list = stdout(&out);
    for pw in [fx("MLL_ALICE_PW"), fx("MLL_BOB_PW")] {
        assert!(!list.contains(&pw), "a password in the export:\n{list}");
    }
    (a, list)
}

#[test]
fn export_then_import_from_a_file_reproduces_the_servers() {
    let (a, list) = exported();
    let b = World::new();
    let file = b.dir.path().join("servers.toml");
    std::fs::write(&file, &list).unwrap();
    let (out, items) = import_json(&b, &[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(results(&items), vec![("prod".into(), "added".into(), true), ("sub".into(), "added".into(), true)]);
    assert_eq!(servers(&b), servers(&a));
    for s in b.list_json().as_array().unwrap() {
        assert_eq!(s["has_secret"], serde_json::Value::Bool(false), "{s}");
    }
    assert!(files_containing(b.dir.path(), fx("MLL_ALICE_PW").as_bytes()).is_empty());
    // The plain output names the login line of each server.
    let out = b.run(&["servers", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("mlflow-login login prod\n"), "{}", text(&out));
    // A second import: identical servers are skipped.
    let (out, items) = import_json(&b, &[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(results(&items).iter().all(|(_, r, _)| r == "unchanged"), "{items:?}");
}

/// Serves `body` once over plain HTTP on a loopback port; returns the URL.
fn serve_once(body: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/servers.toml", listener.local_addr().unwrap().port());
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(body.as_bytes()).unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

#[test]
fn import_from_a_loopback_url() {
    let (a, list) = exported();
    let b = World::new();
    let (url, server) = serve_once(list);
    let (out, items) = import_json(&b, &[&url]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(items.len(), 2, "{}", text(&out));
    assert_eq!(servers(&b), servers(&a));
    let request = server.join().unwrap();
    assert!(!request.to_ascii_lowercase().contains("authorization"), "credentials sent: {request}");

    // Plain http to another host is refused before anything is sent.
    let out = b.run(&["servers", "import", "http://lists.example.com/servers.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("https://"), "{}", text(&out));
}

#[test]
fn a_damaged_list_names_file_and_line() {
    let b = World::new();
    let file = b.dir.path().join("servers.toml");
    std::fs::write(&file, "[servers.prod]\nurl = \"https://h\"\npassword = \"hunter2\"\n").unwrap();
    let out = b.run(&["servers", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains(&format!("{}:3", file.display())), "{}", text(&out));
    assert!(!stderr(&out).contains("hunter2"), "{}", text(&out));
    assert!(b.list_json().as_array().unwrap().is_empty());
}

#[test]
fn a_differing_server_is_refused_without_a_terminal_unless_replace() {
    let b = World::new();
    let out = b.login("prod", &fx("MLL_NGINX_SUBPATH_URL"), "bob", &fx("MLL_BOB_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let before = servers(&b);
    let file = b.dir.path().join("servers.toml");
    let list = format!(
        "[servers.prod]\nurl = \"{}\"\nusername = \"alice\"\n\n[servers.new]\nurl = \"{}\"\nusername = \"alice\"\n",
        fx("MLL_NGINX_URL"),
        fx("MLL_NGINX_URL")
    );
    std::fs::write(&file, list).unwrap();
    let (out, items) = import_json(&b, &[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(results(&items), vec![("new".into(), "added".into(), true), ("prod".into(), "refused".into(), false)]);
    assert_eq!(servers(&b).into_iter().find(|s| s.0 == "prod"), before.into_iter().find(|s| s.0 == "prod"));
    let (out, items) = import_json(&b, &[file.to_str().unwrap(), "--replace"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        results(&items),
        vec![("new".into(), "unchanged".into(), true), ("prod".into(), "replaced".into(), true)]
    );
    let prod = servers(&b).into_iter().find(|s| s.0 == "prod").unwrap();
    assert_eq!((prod.1.as_str(), prod.2.as_deref()), (fx("MLL_NGINX_URL").as_str(), Some("alice")));
}

#[test]
fn on_a_terminal_it_asks_before_replacing() {
    assert!(which("script"), "script is missing: apt-get install bsdutils");
    let b = World::new();
    let out = b.login("prod", &fx("MLL_NGINX_SUBPATH_URL"), "bob", &fx("MLL_BOB_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let file = b.dir.path().join("servers.toml");
    std::fs::write(&file, format!("[servers.prod]\nurl = \"{}\"\nusername = \"alice\"\n", fx("MLL_NGINX_URL")))
        .unwrap();
    // `script` gives the command a terminal; what we write to it is the user's answer.
    let on_terminal = |answer: &str| {
        let mut c = std::process::Command::new("script");
        for (k, v) in b.cmd().get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let mut child = c
            .args(["-qec", &format!("{BIN} servers import {}", file.display()), "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = on_terminal("n\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("replace it? [y/N]"), "{}", text(&out));
    assert_eq!(servers(&b)[0].2.as_deref(), Some("bob"), "{}", text(&out));
    let out = on_terminal("y\n");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(servers(&b)[0].2.as_deref(), Some("alice"), "{}", text(&out));
}
