//! `mlflow-login proxy` and `exec --proxy` against the real parts: nginx basic auth at /
//! and under a sub-path, MLflow's basic-auth app, Apache mod_auth_openidc with the real
//! IdP; curl and MLflow's own Python client with MLFLOW_TRACKING_URI only. Attacks are
//! proven by what nginx logged (nothing), another local user by a real second uid.
//!
//! One test at a time (`--test-threads 1`): one test ends every session of the IdP's user.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use common::*;
use serde_json::Value;

/// A running `mlflow-login proxy NAME`: its two printed lines.
struct Running {
    child: Child,
    uri: String,
    link: String,
}

impl Running {
    fn start(w: &World, name: &str) -> Self {
        let mut child = w.cmd().args(["proxy", name]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let uri = lines.next().unwrap_or_else(|| panic!("no tracking URI: {}", drain(&mut child))).unwrap();
        let link = lines.next().unwrap().unwrap();
        Running { child, uri, link }
    }

    /// `http://127.0.0.1:PORT`
    fn root(&self) -> String {
        self.uri.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")
    }

    fn secret(&self) -> String {
        self.uri.split('/').nth(3).unwrap().to_owned()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(child: &mut Child) -> String {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    err
}

/// `curl` with `args`: (status, body).
fn curl(args: &[&str]) -> (u16, String) {
    assert!(which("curl"), "curl is missing: apt-get install curl");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn search(uri: &str) -> String {
    format!("{uri}/api/2.0/mlflow/experiments/search?max_results=1")
}

/// MLflow's Python client (tests/proxy/client.py) with the proxy's URI and nothing else.
fn python(uri: &str, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/proxy/client.py");
    let out = Command::new(fx("MLL_MLFLOW_PYTHON"))
        .arg(script)
        .args(args)
        .env("MLFLOW_TRACKING_URI", uri)
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .env_remove("MLFLOW_TRACKING_USERNAME")
        .env_remove("MLFLOW_TRACKING_PASSWORD")
        .env_remove("MLFLOW_TRACKING_TOKEN")
        .env_remove("MLFLOW_TRACKING_AUTH")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(out.stdout.trim_ascii().rsplit(|b| *b == b'\n').next().unwrap()).unwrap()
}

/// Logs a run with an artifact through the proxy and reads it back byte-identical.
fn python_run_round_trips(uri: &str, bytes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("artifact.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    for _ in 0..bytes / block.len() {
        f.write_all(&block).unwrap();
    }
    drop(f);
    let v = python(uri, &["run", path.to_str().unwrap()]);
    assert_eq!(v["sha256_sent"], v["sha256_read"], "{v}");
}

/// The Node MLflow client (npm `mlflow`, tests/proxy/node) logs a run with the URI alone.
fn node_client_logs_a_run(uri: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/proxy/node");
    assert!(
        dir.join("node_modules/mlflow").exists(),
        "the Node MLflow client is missing: run `npm ci` in tests/proxy/node (tests/run-all.sh does)"
    );
    let out = Command::new("node").arg(dir.join("client.js")).arg(uri).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

fn sso_login(w: &World, name: &str, client: &str) {
    let out = w
        .cmd()
        .args(["login", name, "--url", &fx("MLL_OIDC_PROXY_URL"), "--sso", "--client-id", client, "--timeout", "60"])
        .env("BROWSER", fx("MLL_OIDC_BROWSER"))
        .env("DISPLAY", ":99")
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// A marker no earlier run wrote into nginx's log (pids repeat across runs).
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{what}-{}-{nanos}-end", std::process::id())
}

/// nginx's access log: what the fixture servers behind nginx received.
fn nginx_log() -> String {
    std::fs::read_to_string(PathBuf::from(fx("MLL_FX_DIR")).join("nginx/logs/access.log")).unwrap()
}

/// nginx's log once it holds `count` lines with `marker`, for requests whose answers the
/// test has already seen: nginx writes a request's line after its answer, so a read right
/// after the answer may come before the line. Lines of earlier requests come before, so
/// any extra line is there by then too.
fn nginx_log_with(marker: &str, count: usize) -> String {
    let mut log = String::new();
    wait_for(&format!("{count} line(s) with {marker} in nginx's log"), std::time::Duration::from_secs(10), || {
        log = nginx_log();
        log.matches(marker).count() >= count
    });
    log
}

#[test]
fn curl_and_mlflows_python_client_log_runs_through_the_proxy_to_nginx_basic_and_a_sub_path() {
    let w = World::new();
    for (name, url) in [("root", fx("MLL_NGINX_URL")), ("sub", fx("MLL_NGINX_SUBPATH_URL"))] {
        let out = w.login(name, &url, "alice", &fx("MLL_ALICE_PW"), &[]);
        assert!(out.status.success(), "{}", text(&out));
        let p = Running::start(&w, name);
        assert!(p.uri.starts_with("http://127.0.0.1:"), "{}", p.uri);
        if name == "sub" {
            assert!(p.uri.ends_with("/mlflow"), "the sub-path is kept: {}", p.uri);
        }
        let (code, body) = curl(&[&search(&p.uri)]);
        assert_eq!(code, 200, "{body}");
        let (code, body) = curl(&[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"experiment_id": "0", "run_name": "from-curl"}"#,
            &format!("{}/api/2.0/mlflow/runs/create", p.uri),
        ]);
        assert_eq!(code, 200, "{body}");
        node_client_logs_a_run(&p.uri);
        python_run_round_trips(&p.uri, 4 << 20);
        assert!(!nginx_log().contains(&p.secret()), "the secret reached the server");
    }
}

#[test]
fn a_server_over_https_is_reached_with_its_ca_bundle_client_certificate_and_insecure_flag() {
    let w = World::new();
    let (ca, cert) = (fx("MLL_TLS_CA"), fx("MLL_TLS_CLIENT_CERT"));
    // A server behind nginx asking for a client certificate, with the TLS settings `tls`:
    // its proxy and what a search through it gets.
    let searched = |name: &str, tls: &[&str]| {
        let out = w.login(name, &fx("MLL_NGINX_MTLS_URL"), "alice", &fx("MLL_ALICE_PW"), tls);
        assert!(out.status.success(), "{}", text(&out));
        let p = Running::start(&w, name);
        let (code, body) = curl(&[&search(&p.uri)]);
        (p, code, body)
    };
    // The private CA and the client certificate: a run with an artifact.
    let (p, code, body) = searched("mtls", &["--ca-bundle", &ca, "--client-cert", &cert]);
    assert_eq!(code, 200, "{body}");
    python_run_round_trips(&p.uri, 4 << 20);
    // No client certificate: nginx's own refusal comes back.
    let (_, code, body) = searched("nocert", &["--ca-bundle", &ca, "--no-verify"]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("No required SSL certificate was sent"), "{body}");
    // Without the CA bundle the server's certificate is not trusted: 502, saying why.
    let (_, code, body) = searched("noca", &["--client-cert", &cert, "--no-verify"]);
    assert_eq!(code, 502, "{body}");
    assert!(body.to_lowercase().contains("certificate"), "{body}");
    // The insecure flag instead of the CA bundle: let in.
    let (_, code, body) = searched("insecure", &["--client-cert", &cert, "--insecure-tls"]);
    assert_eq!(code, 200, "{body}");
}

#[test]
fn mlflows_basic_auth_app_and_the_bearer_only_sso_proxy_are_served_too() {
    let w = World::new();
    let out = w.login("app", &fx("MLL_MLFLOW_AUTH_URL"), &fx("MLL_MLFLOW_ADMIN_USER"), &fx("MLL_MLFLOW_ADMIN_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "app");
    assert_eq!(curl(&[&search(&p.uri)]).0, 200);
    python_run_round_trips(&p.uri, 1 << 20);
    drop(p);

    let client = register_client(60);
    sso_login(&w, "sso", &client);
    let p = Running::start(&w, "sso");
    let (code, body) = curl(&[&search(&p.uri)]);
    assert_eq!(code, 200, "{body}");
    node_client_logs_a_run(&p.uri);
    python_run_round_trips(&p.uri, 1 << 20);
}

#[test]
fn a_single_sign_on_run_across_three_token_lifetimes_sees_no_401_and_one_refresh_per_expiry() {
    const TTL: u64 = 10;
    let w = World::new();
    let client = register_client(TTL);
    sso_login(&w, "sso", &client);
    let logged_in = std::time::Instant::now();
    let p = Running::start(&w, "sso");
    // Four threads of one client log a metric every 250 ms for 3.5 lifetimes.
    let v = python(&p.uri, &["loop", &(TTL * 7 / 2).to_string(), "4"]);
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert!(v["ok"].as_u64().unwrap() > 40, "{v}");
    let stats = &idp_stats()["by_client"][&client]["refresh"];
    let refreshes = stats["ok"].as_u64().unwrap_or(0);
    // Tokens are refreshed a tenth of their lifetime before they expire.
    let lifetimes = logged_in.elapsed().as_secs() / (TTL - TTL / 10);
    assert!(refreshes >= 3 && refreshes <= lifetimes + 1, "{refreshes} refreshes in {lifetimes} lifetimes: {stats}");
    assert_eq!(stats["invalid_grant"].as_u64().unwrap_or(0), 0, "{stats}");
}

#[test]
fn callers_without_proof_never_reach_the_server() {
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "nb");
    let marker = unique("attack");
    let root = p.root();
    let port = root.rsplit(':').next().unwrap().to_owned();
    let api = |uri: &str| format!("{uri}/api/2.0/mlflow/experiments/search?max_results=1&m={marker}");
    let jar = tempfile::NamedTempFile::new().unwrap();
    let jar = jar.path().to_str().unwrap();
    assert_eq!(curl(&["-c", jar, &p.link]).0, 303);
    let attempts: Vec<Vec<String>> = vec![
        vec![api(&root)],
        vec![api(&format!("{root}/{}", "A".repeat(43)))],
        vec![p.link.clone()],
        vec!["-H".into(), "Host: evil.example".into(), api(&p.uri)],
        vec![
            "--resolve".into(),
            format!("evil.example:{port}:127.0.0.1"),
            api(&format!("http://evil.example:{port}/{}", p.secret())),
        ],
        vec![
            "-b".into(),
            jar.into(),
            "-X".into(),
            "POST".into(),
            "-H".into(),
            "Origin: http://evil.example".into(),
            api(&root),
        ],
        vec!["-b".into(), jar.into(), "-X".into(), "POST".into(), api(&root)],
    ];
    for args in attempts {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, body) = curl(&args);
        assert_eq!(code, 403, "{args:?}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error_code"], "PERMISSION_DENIED");
    }
    // The cookie alone does let a browser's GET through.
    assert_eq!(curl(&["-b", jar, &api(&root)]).0, 200);
    let log = nginx_log_with(&marker, 1);
    assert_eq!(log.matches(&marker).count(), 1, "only the cookie's GET reached nginx");
    assert!(!log.contains(&p.secret()));
}

#[cfg(target_os = "linux")]
#[test]
fn another_local_user_holding_the_right_uri_is_refused() {
    const OTHER: &str = "mll-proxy-other";
    assert!(which("setpriv"), "setpriv is missing: apt-get install util-linux");
    let exists = Command::new("id").arg(OTHER).output().unwrap().status.success();
    if !exists {
        let out = Command::new("useradd").args(["--no-create-home", "--shell", "/usr/sbin/nologin", OTHER]).output();
        let out = out.unwrap_or_else(|e| panic!("useradd: {e}: this test creates a second local user (run as root)"));
        assert!(out.status.success(), "useradd: {}", text(&out));
    }
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "nb");
    let marker = unique("other-user");
    let url = format!("{}&m={marker}", search(&p.uri));
    // Twice in one curl: the second request needs a new connection (num_connects 1), as the
    // proxy closed the first after its 403.
    let write = "\n%{http_code} %{num_connects}";
    let args = ["--reuid", OTHER, "--regid", OTHER, "--clear-groups", "curl", "-sS", "-w", write, &url, &url];
    let out = Command::new("setpriv").args(args).output().unwrap();
    let answers = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(answers.contains("\n403 1{") && answers.ends_with("\n403 1"), "{answers}");
    assert!(answers.contains("only the user who started it"), "{answers}");
    // The same URI from this user works, and its connection is kept for the next request.
    let write = "%{http_code} %{num_connects}\n";
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", write, &url, &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200 1\n200 0\n", "{}", text(&out));
    // Only this user's two requests reached nginx, none of the other user's.
    assert_eq!(nginx_log_with(&marker, 2).matches(&marker).count(), 2, "the other user's requests reached nginx");
}

/// Java's and .NET's clients connect from an IPv6 dual-stack socket, to 127.0.0.1 through
/// its IPv4-mapped address: the kernel lists such a socket only in /proc/net/tcp6.
#[cfg(target_os = "linux")]
#[test]
fn a_client_on_a_dual_stack_socket_as_java_makes_them_is_served() {
    assert!(which("python3"), "python3 is missing: apt-get install python3");
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "nb");
    let port = p.root().rsplit(':').next().unwrap().to_owned();
    let script = r#"
import socket, sys
port, secret = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(("::ffff:127.0.0.1", port))
s.sendall(f"GET /{secret}/api/2.0/mlflow/experiments/search?max_results=1 HTTP/1.1\r\n"
          f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
answer = b""
while chunk := s.recv(65536):
    answer += chunk
print(answer.split(b"\r\n")[0].decode())
"#;
    let out = Command::new("python3").args(["-c", script, &port, &p.secret()]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "HTTP/1.1 200 OK", "{}", text(&out));
}

#[test]
fn faults_are_answered_in_mlflows_error_shape() {
    let w = World::new();
    // Server down: a closed port.
    let out = w.login("down", &fx("MLL_CLOSED_URL"), "alice", "pw-not-checked", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "down");
    let (code, body) = curl(&[&search(&p.uri)]);
    assert_eq!(code, 502, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error_code"], "TEMPORARILY_UNAVAILABLE");
    drop(p);
    // A wrong password: 401 "log in again", no challenge for a browser to prompt with.
    let out = w.login("wrong", &fx("MLL_NGINX_URL"), "alice", "not-her-password", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "wrong");
    let out = Command::new("curl").args(["-sS", "-i", &search(&p.uri)]).output().unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!head.contains("www-authenticate"), "{head}");
    assert!(head.contains("log in again"), "{head}");
    // Logged out while the proxy runs: 401 "log in again".
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "nb");
    assert_eq!(curl(&[&search(&p.uri)]).0, 200);
    assert!(w.run(&["logout", "nb"]).status.success());
    std::thread::sleep(std::time::Duration::from_secs(3)); // one credential read serves 2 s
    let (code, body) = curl(&[&search(&p.uri)]);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("log in again"), "{body}");
}

#[test]
fn a_session_ended_at_the_identity_provider_is_answered_log_in_again() {
    let w = World::new();
    let client = register_client(3);
    sso_login(&w, "sso", &client);
    let p = Running::start(&w, "sso");
    assert_eq!(curl(&[&search(&p.uri)]).0, 200);
    let _ = curl_json(&["-d", "user=alice", &format!("{}/revoke-grants", fx("MLL_OIDC_ADMIN_URL"))]);
    std::thread::sleep(std::time::Duration::from_secs(4)); // the access token expires
    let (code, body) = curl(&[&search(&p.uri)]);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("log in again"), "{body}");
}

#[test]
fn a_port_in_use_fails_at_once_and_sigterm_ends_the_proxy() {
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = w.run(&["proxy", "nb", "--port", &port]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("in use"), "{}", text(&out));
    drop(taken);
    let out = w.cmd().args(["proxy", "nb", "--port", &port]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = out.unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with(&format!("http://127.0.0.1:{port}/")), "{first}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", drain(&mut child));
    assert!(std::net::TcpListener::bind(format!("127.0.0.1:{port}")).is_ok(), "the port is free again");
}

#[test]
fn exec_proxy_gives_the_command_the_proxy_and_no_credential_and_its_exit_code() {
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let script = r#"env | grep '^MLFLOW_TRACKING\|^MLFLOW_LOGIN_SERVER' | sed 's/=.*//' | sort | tr '\n' ' '; echo;
        curl -sS -o /dev/null -w '%{http_code}\n' "$MLFLOW_TRACKING_URI/api/2.0/mlflow/experiments/search?max_results=1"; exit 7"#;
    let out: Output = w
        .cmd()
        .args(["exec", "--proxy", "nb", "--", "sh", "-c", script])
        .env("MLFLOW_TRACKING_PASSWORD", "stale")
        .env("MLFLOW_TRACKING_USERNAME", "stale")
        // Not one this tool sets, but a credential all the same.
        .env("MLFLOW_TRACKING_AWS_SIGV4", "true")
        .env("MLFLOW_TRACKING_AUTH", "other-plugin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let stdout = stdout(&out);
    let mut lines = stdout.lines();
    assert_eq!(lines.next().unwrap().trim(), "MLFLOW_LOGIN_SERVER MLFLOW_TRACKING_URI", "{}", text(&out));
    assert_eq!(lines.next().unwrap(), "200", "{}", text(&out));
}

/// Open sockets of a process (its TCP connections and listener).
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:")))
        .count()
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_large_artifact_streams_with_bounded_memory_and_a_client_gone_mid_download_leaves_nothing() {
    let w = World::new();
    let out = w.login("nb", &fx("MLL_NGINX_URL"), "alice", &fx("MLL_ALICE_PW"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let p = Running::start(&w, "nb");
    let idle = vm_hwm_kib(p.pid());
    python_run_round_trips(&p.uri, 256 << 20);
    let peak = vm_hwm_kib(p.pid());
    assert!(peak < idle + 64 * 1024, "256 MiB up and down raised the proxy's peak RSS from {idle} to {peak} KiB");

    // A client that reads 1 MiB of a 64 MiB artifact and hangs up.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![1u8; 64 << 20]).unwrap();
    let target = format!("{}/api/2.0/mlflow-artifacts/artifacts/proxy-test/{}/big.bin", p.uri, std::process::id());
    let (code, body) = curl(&["-T", big.to_str().unwrap(), &target]);
    assert_eq!(code, 200, "{body}");
    let baseline = sockets(p.pid());
    let part = dir.path().join("part.bin");
    let mut child = Command::new("curl")
        .args(["-sS", "--limit-rate", "1M", "-o", part.to_str().unwrap(), &target])
        .spawn()
        .unwrap();
    // Under way: bytes have arrived through the proxy (a socket count would also see the
    // upload's connection still closing).
    wait_for("the download to be under way", std::time::Duration::from_secs(60), || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() > 0)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let mut left = sockets(p.pid());
    for _ in 0..50 {
        if left <= baseline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = sockets(p.pid());
    }
    assert!(left <= baseline, "{left} sockets open after the client left, {baseline} before");
    assert_eq!(curl(&[&search(&p.uri)]).0, 200, "the proxy still serves");
}

/// `node tests/proxy/ui.mjs LINK EXPERIMENT` (Playwright in Debian's Chromium).
fn ui_lists(link: &str, experiment: &str, secrets: &[&str]) {
    assert!(which("node"), "node is missing: it comes with the machine image (Node.js >= 20)");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(std::path::Path::new(&chromium).exists(), "{chromium} is missing: apt-get install chromium");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        root.join("ui/node_modules/playwright-core").exists(),
        "playwright-core is missing: run scripts/build-ui.sh (or `npm ci` in ui/)"
    );
    let out = Command::new("node")
        .arg(root.join("tests/proxy/ui.mjs"))
        .args([link, experiment])
        .env("MLL_UI_SECRETS", secrets.join("\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_mlflow_ui_in_chromium_lists_experiments_with_no_prompt_and_no_credential_in_the_page() {
    let w = World::new();
    let admin = (fx("MLL_MLFLOW_ADMIN_USER"), fx("MLL_MLFLOW_ADMIN_PW"));
    let servers = [
        ("root", fx("MLL_NGINX_URL"), "alice".to_owned(), fx("MLL_ALICE_PW")),
        ("sub", fx("MLL_NGINX_SUBPATH_URL"), "alice".to_owned(), fx("MLL_ALICE_PW")),
        ("app", fx("MLL_MLFLOW_AUTH_URL"), admin.0, admin.1),
    ];
    for (name, url, user, password) in &servers {
        let out = w.login(name, url, user, password, &[]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let client = register_client(60);
    sso_login(&w, "sso", &client);
    for name in ["root", "sub", "app", "sso"] {
        let p = Running::start(&w, name);
        let experiment = unique(&format!("ui-{name}"));
        let body = format!(r#"{{"name": "{experiment}"}}"#);
        let create = format!("{}/api/2.0/mlflow/experiments/create", p.uri);
        let (code, answer) = curl(&["-H", "Content-Type: application/json", "--data", &body, &create]);
        assert_eq!(code, 200, "{answer}");
        let password = servers.iter().find(|s| s.0 == name).map(|s| s.3.clone());
        let token = (name == "sso").then(|| stdout(&w.run(&["token", "sso"])).trim().to_owned());
        let secret = p.secret();
        let secrets: Vec<&str> = [password.as_deref(), token.as_deref(), Some(&secret)].into_iter().flatten().collect();
        ui_lists(&p.link, &experiment, &secrets);
        // The other site's page created nothing.
        for evil in ["evil-form", "evil-fetch"] {
            let url = format!("{}/api/2.0/mlflow/experiments/get-by-name?experiment_name={evil}", p.uri);
            let (code, answer) = curl(&[&url]);
            assert_eq!(code, 404, "{name}: {evil} was created: {answer}");
        }
    }
}
