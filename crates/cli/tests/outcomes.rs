//! Every row of PRODUCT.md's verification table, against the real fixtures: nginx with
//! auth_basic in front of a real MLflow, MLflow's own basic-auth app, TLS with a private
//! CA, and the decoys. Each refused or unchecked login stores nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// Logs in and expects exit `code`, and the verifier's outcome to hold the fields of `want`
/// (its `kind` and what the kind carries), as `status --json` reports it: a refused or
/// unchecked login stores nothing, so the outcome is read after a `--no-verify` save, then
/// the server is removed again. Kinds, not words: the header line always prints the URL.
fn expect(world: &World, url: &str, user: &str, pw: &str, extra: &[&str], code: i32, want: Value) {
    let out = world.login("s", url, user, pw, extra);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(code), "{url}: {all}");
    assert!(!all.contains(pw), "the password leaked into the output: {all}");
    if code != 0 {
        assert_eq!(world.list_json().as_array().unwrap().len(), 0, "a refused login must not save the server");
        let stored_url = url.trim_end_matches('/');
        assert_eq!(world.keychain(stored_url, user), None, "a refused login must not touch the keychain");
        let mut saved = extra.to_vec();
        saved.push("--no-verify");
        let out = world.login("s", url, user, pw, &saved);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = world.run(&["status", "s", "--json"]);
    assert_eq!(out.status.code(), Some(code), "status after login: {}", text(&out));
    assert!(!text(&out).contains(pw), "the password leaked into the output: {}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = &report[0]["outcome"];
    for (field, value) in want.as_object().unwrap() {
        assert_eq!(&outcome[field], value, "{url}: outcome.{field} in {outcome}");
    }
    if code != 0 {
        let out = world.run(&["remove", "s"]);
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[test]
fn ok_through_nginx_bcrypt_user_is_stored_in_the_real_keychain() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    let pw = fx("MLL_ALICE_PW");
    expect(&w, &url, "alice", &pw, &[], 0, json!({"kind": "ok"}));
    assert_eq!(w.keychain(&url, "alice").as_deref(), Some(pw.as_str()));
    let list = w.list_json();
    assert_eq!(list[0]["has_secret"], true);
    assert_eq!(list[0]["active"], true);
}

#[test]
fn ok_apr1_user_and_utf8_password_with_colon() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    expect(&w, &url, "bob", &fx("MLL_BOB_PW"), &[], 0, json!({"kind": "ok"}));
    let carol = fx("MLL_CAROL_PW");
    assert!(carol.contains(':') && !carol.is_ascii());
    let out = w.run_stdin(&["login", "c", "--url", &url, "--username", "carol", "--password-stdin"], &carol);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.keychain(&url, "carol").as_deref(), Some(carol.as_str()));
}

#[test]
fn ok_under_a_sub_path() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_SUBPATH_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 0, json!({"kind": "ok"}));
    // A trailing slash is the same server.
    let url = format!("{}/", fx("MLL_NGINX_SUBPATH_URL"));
    expect(&w, &url, "alice", &fx("MLL_ALICE_PW"), &[], 0, json!({"kind": "ok"}));
    let list = w.list_json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["url"], fx("MLL_NGINX_SUBPATH_URL").trim_end_matches('/'), "{list}");
}

#[test]
fn ok_with_mlflow_basic_auth_app() {
    let w = World::new();
    expect(&w, &fx("MLL_MLFLOW_AUTH_URL"), "erin", &fx("MLL_ERIN_PW"), &[], 0, json!({"kind": "ok"}));
}

#[test]
fn bad_credentials_refused_by_the_proxy() {
    let w = World::new();
    let refused_by_proxy = json!({"kind": "bad_credentials", "refused_by": "proxy", "sent": "basic"});
    expect(&w, &fx("MLL_NGINX_URL"), "alice", "wrong-password", &[], 3, refused_by_proxy.clone());
    expect(&w, &fx("MLL_NGINX_URL"), "nobody", "no-such-password", &[], 3, refused_by_proxy);
}

#[test]
fn bad_credentials_refused_by_mlflow_auth_app() {
    let w = World::new();
    let want = json!({"kind": "bad_credentials", "refused_by": "mlflow", "sent": "basic"});
    expect(&w, &fx("MLL_MLFLOW_AUTH_URL"), "erin", "wrong-password", &[], 3, want);
}

#[test]
fn other_auth_scheme() {
    let w = World::new();
    let want = json!({"kind": "other_auth_scheme", "scheme": "Bearer"});
    expect(&w, &fx("MLL_BEARER_URL"), "alice", "not-the-password", &[], 3, want);
}

#[test]
fn forbidden_by_the_proxy() {
    let w = World::new();
    expect(
        &w,
        &fx("MLL_NGINX_URL"),
        "dave",
        &fx("MLL_DAVE_PW"),
        &[],
        3,
        json!({"kind": "forbidden", "reason": "proxy"}),
    );
}

#[test]
fn forbidden_by_mlflow_host_check() {
    let w = World::new();
    let want = json!({"kind": "forbidden", "reason": "host_check"});
    expect(&w, &fx("MLL_HOSTCHECK_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 3, want);
}

#[test]
fn not_mlflow_sso_page() {
    let w = World::new();
    let want = json!({"kind": "not_mlflow", "status": 200, "looks_like": "login_page"});
    expect(&w, &fx("MLL_SSO_URL"), "alice", "not-the-password", &[], 4, want);
}

#[test]
fn not_mlflow_redirect_to_a_login_page() {
    let w = World::new();
    let url = fx("MLL_LOGIN_REDIRECT_URL");
    let want =
        json!({"kind": "not_mlflow", "status": 302, "location": format!("{url}/login"), "looks_like": "login_page"});
    expect(&w, &url, "alice", "not-the-password", &[], 4, want);
}

#[test]
fn redirect_to_https_says_use_https() {
    let w = World::new();
    expect(&w, &fx("MLL_HTTPS_REDIRECT_URL"), "alice", "not-the-password", &[], 4, json!({"kind": "use_https"}));
}

#[test]
fn wrong_base_path() {
    let w = World::new();
    let url = format!("{}/nothing-here", fx("MLL_NGINX_URL"));
    expect(&w, &url, "alice", &fx("MLL_ALICE_PW"), &[], 4, json!({"kind": "wrong_path"}));
}

#[test]
fn mlflow_down_behind_the_proxy() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_DOWN_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 4, json!({"kind": "server_down"}));
}

#[test]
fn unreachable_refused() {
    let w = World::new();
    let want = json!({"kind": "unreachable", "reason": "refused"});
    expect(&w, &fx("MLL_CLOSED_URL"), "alice", "not-the-password", &[], 4, want);
}

#[test]
fn unreachable_timeout() {
    let w = World::new();
    let want = json!({"kind": "unreachable", "reason": "timeout"});
    expect(&w, &fx("MLL_BLACKHOLE_URL"), "alice", "not-the-password", &[], 4, want);
}

#[test]
fn unreachable_dns() {
    let w = World::new();
    let want = json!({"kind": "unreachable", "reason": "dns"});
    expect(&w, "http://no-such-host.invalid", "alice", "not-the-password", &[], 4, want);
}

#[test]
fn tls_private_ca_needs_a_ca_bundle() {
    let w = World::new();
    let url = fx("MLL_NGINX_TLS_URL");
    let pw = fx("MLL_ALICE_PW");
    expect(&w, &url, "alice", &pw, &[], 4, json!({"kind": "tls", "problem": "unknown_issuer", "fix": "ca_bundle"}));
    let ca = fx("MLL_TLS_CA");
    expect(&w, &url, "alice", &pw, &["--ca-bundle", &ca], 0, json!({"kind": "ok"}));
    // The CA bundle is remembered, and exported for MLflow's own client.
    let env = w.run(&["env", "s", "--shell", "bash"]);
    assert!(stdout(&env).contains("MLFLOW_TRACKING_SERVER_CERT_PATH="), "{}", text(&env));
}

#[test]
fn plain_http_to_the_https_port() {
    let w = World::new();
    let want = json!({"kind": "tls", "problem": "plain_http_to_https_port", "fix": "use_https"});
    expect(&w, &fx("MLL_NGINX_TLS_AS_HTTP_URL"), "alice", "not-the-password", &[], 4, want);
}

/// Plain-HTTP servers on loopback that log each request line as it arrives; the `answer`
/// function writes each reply. Returns their URLs and the log.
fn recording_servers(
    count: usize,
    answer: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> (Vec<String>, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let mut urls = Vec::new();
    for _ in 0..count {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        let (log, answer) = (log.clone(), answer.clone());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let (log, answer) = (log.clone(), answer.clone());
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                        head.push(byte[0]);
                    }
                    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
                    log.lock().unwrap().push(line.clone());
                    answer(&line, &mut stream);
                });
            }
        });
    }
    (urls, log)
}

fn reply(stream: &mut std::net::TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn status_all_sends_every_request_before_any_answer() {
    // Each server holds its answer until every server's request has arrived (a barrier):
    // checked one after another, the first would wait for requests that never come and
    // end in a timeout. The fixture records, per answer, how many requests had arrived.
    const SERVERS: usize = 4;
    let arrived = Arc::new((Mutex::new(0usize), Condvar::new()));
    let seen_at_answer = Arc::new(Mutex::new(Vec::new()));
    let (barrier, seen) = (arrived.clone(), seen_at_answer.clone());
    let (urls, _log) = recording_servers(SERVERS, move |line, stream| {
        if !line.starts_with("GET /api/2.0/mlflow/experiments/search") {
            return reply(stream, "404 Not Found", r#"{"error_code": "ENDPOINT_NOT_FOUND"}"#);
        }
        let (count, all_in) = &*barrier;
        let mut n = count.lock().unwrap();
        *n += 1;
        all_in.notify_all();
        // Bounded, only so that a sequential client cannot hang the test; never reached
        // when the requests overlap.
        let (n, _) = all_in.wait_timeout_while(n, Duration::from_secs(15), |n| *n < SERVERS).unwrap();
        seen.lock().unwrap().push(*n);
        drop(n);
        reply(stream, "200 OK", "{}");
    });
    let w = World::new();
    for (i, url) in urls.iter().enumerate() {
        let out = w.login(&format!("s{i}"), url, "u", "pw", &["--no-verify"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = w.run(&["status", "--all", "--json"]);
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen = seen_at_answer.lock().unwrap().clone();
    assert_eq!(seen, vec![SERVERS; SERVERS], "requests arrived at each answer: {seen:?}\n{}", text(&out));
    let kinds: Vec<&Value> = reports.as_array().unwrap().iter().map(|r| &r["outcome"]["kind"]).collect();
    assert!(kinds.iter().all(|k| *k == "ok"), "{kinds:?}\n{}", text(&out));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_server_on_this_machine_is_never_reached_through_a_proxy() {
    // A proxy that answers everything as MLflow would, and logs what it was asked.
    let (proxies, asked) = recording_servers(1, |_, stream| reply(stream, "200 OK", "{}"));
    let proxy = &proxies[0];
    let w = World::new();
    let with_proxy = |args: &[&str], password: &str| {
        let mut cmd = w.cmd();
        for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            cmd.env(var, proxy);
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
        let mut child =
            cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    // Loopback, over plain http with a Basic password: straight to nginx.
    let url = fx("MLL_NGINX_URL");
    let out =
        with_proxy(&["login", "local", "--url", &url, "--username", "alice", "--password-stdin"], &fx("MLL_ALICE_PW"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(*asked.lock().unwrap(), Vec::<String>::new(), "the proxy was asked for a loopback server");
    // A remote server still goes through the proxy (which is why the above means something).
    let remote = "http://mlflow.example.invalid";
    let out = with_proxy(&["login", "remote", "--url", remote, "--username", "u", "--password-stdin"], "pw");
    assert!(out.status.success(), "{}", text(&out));
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked.iter().any(|l| l.contains("http://mlflow.example.invalid/api/2.0/mlflow/experiments/search")),
        "{asked:?}"
    );
}
