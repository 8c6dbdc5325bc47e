//! The proxy's rules one by one, and the whole proxy against an in-process server that
//! records what reached it. The real servers (nginx, MLflow, Apache with the real IdP),
//! curl, MLflow's Python client and Chromium are driven from crates/cli/tests/proxy.rs.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::forward::{rewrite_location, upstream_headers, upstream_target};
use super::gate::{Gate, LINK_PREFIX, Verdict, Via};
use super::*;
use crate::config::{ConfigStore, Paths};
use crate::logins::{Activate, Logins};
use crate::vault::MemoryVault;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}

// ---- the gate -------------------------------------------------------------------------

#[test]
fn the_secret_path_prefix_lets_a_request_through_without_it() {
    let gate = Gate::new(4000);
    let secret = gate.secret().expose().to_owned();
    assert!(secret.len() >= 43, "256 bits in base64url");
    let h = headers(&[("host", "127.0.0.1:4000")]);
    assert_eq!(
        gate.check(&Method::POST, &format!("/{secret}/api/2.0/mlflow/runs/create"), &h),
        Verdict::Forward { via: Via::Secret, path: "/api/2.0/mlflow/runs/create" }
    );
    assert_eq!(gate.check(&Method::GET, &format!("/{secret}"), &h), Verdict::Forward { via: Via::Secret, path: "/" });
}

#[test]
fn no_secret_a_wrong_one_or_a_prefix_of_it_is_refused() {
    let gate = Gate::new(4000);
    let secret = gate.secret().expose().to_owned();
    let h = headers(&[("host", "127.0.0.1:4000")]);
    for path in ["/", "/api/2.0/mlflow/experiments/search", &format!("/{}/x", &secret[..20]), &format!("/{secret}x/y")]
    {
        assert!(matches!(gate.check(&Method::GET, path, &h), Verdict::Refuse(_)), "{path}");
    }
}

#[test]
fn a_host_other_than_the_proxy_is_refused_even_with_the_secret() {
    let gate = Gate::new(4000);
    let path = format!("/{}/api", gate.secret().expose());
    for host in ["evil.example", "evil.example:4000", "127.0.0.1:4001", "127.0.0.1", ""] {
        let h = headers(&[("host", host)]);
        assert!(matches!(gate.check(&Method::GET, &path, &h), Verdict::Refuse(_)), "{host}");
    }
    let h = headers(&[("host", "localhost:4000")]);
    assert!(matches!(gate.check(&Method::GET, &path, &h), Verdict::Forward { .. }));
}

#[test]
fn a_browser_link_works_once_and_its_cookie_lets_the_browser_in() {
    let gate = Gate::new(4000);
    let link = gate.new_link();
    assert!(link.starts_with(LINK_PREFIX));
    let h = headers(&[("host", "127.0.0.1:4000")]);
    assert_eq!(gate.check(&Method::GET, &link, &h), Verdict::OpenLink);
    assert!(matches!(gate.check(&Method::GET, &link, &h), Verdict::Refuse(_)), "a used link does nothing");
    let cookie = gate.set_cookie();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let with_cookie = headers(&[("host", "127.0.0.1:4000"), ("cookie", &format!("other=1; {pair}"))]);
    assert_eq!(
        gate.check(&Method::GET, "/#/experiments", &with_cookie),
        Verdict::Forward { via: Via::Cookie, path: "/#/experiments" }
    );
    let wrong = headers(&[("host", "127.0.0.1:4000"), ("cookie", &format!("{pair}x"))]);
    assert!(matches!(gate.check(&Method::GET, "/", &wrong), Verdict::Refuse(_)));
}

#[test]
fn a_state_changing_browser_request_needs_the_proxys_own_origin() {
    let gate = Gate::new(4000);
    let pair = gate.set_cookie().split(';').next().unwrap().to_owned();
    let path = "/ajax-api/2.0/mlflow/experiments/create";
    let plain = headers(&[("host", "127.0.0.1:4000"), ("cookie", &pair)]);
    assert!(matches!(gate.check(&Method::POST, path, &plain), Verdict::Refuse(_)), "no Origin");
    let foreign = headers(&[("host", "127.0.0.1:4000"), ("cookie", &pair), ("origin", "http://evil.example")]);
    assert!(matches!(gate.check(&Method::POST, path, &foreign), Verdict::Refuse(_)));
    assert!(matches!(gate.check(&Method::GET, path, &foreign), Verdict::Refuse(_)), "a foreign Origin on any method");
    let own = headers(&[("host", "127.0.0.1:4000"), ("cookie", &pair), ("origin", "http://127.0.0.1:4000")]);
    assert!(matches!(gate.check(&Method::POST, path, &own), Verdict::Forward { .. }));
    // The secret does not excuse a foreign page either.
    let secret_path = format!("/{}/api", gate.secret().expose());
    let h = headers(&[("host", "127.0.0.1:4000"), ("origin", "null")]);
    assert!(matches!(gate.check(&Method::POST, &secret_path, &h), Verdict::Refuse(_)));
}

#[test]
fn trace_track_connect_and_targets_that_are_not_paths_are_not_allowed() {
    let gate = Gate::new(4000);
    let path = format!("/{}/api", gate.secret().expose());
    let h = headers(&[("host", "127.0.0.1:4000")]);
    for method in [Method::TRACE, Method::CONNECT, Method::from_bytes(b"TRACK").unwrap()] {
        assert!(matches!(gate.check(&method, &path, &h), Verdict::NotAllowed(_)), "{method}");
    }
    for target in ["*", "http://127.0.0.1:4000/x", "127.0.0.1:4000", ""] {
        assert!(matches!(gate.check(&Method::OPTIONS, target, &h), Verdict::NotAllowed(_)), "{target}");
    }
}

#[test]
fn a_cookie_request_that_the_browser_says_another_site_sent_is_refused() {
    let gate = Gate::new(4000);
    let pair = gate.set_cookie().split(';').next().unwrap().to_owned();
    // SameSite=Strict counts every 127.0.0.1 port as one site: the browser's Sec-Fetch-Site
    // tells a page of another local server apart.
    for site in ["same-site", "cross-site", "bogus"] {
        let h = headers(&[("host", "127.0.0.1:4000"), ("cookie", &pair), ("sec-fetch-site", site)]);
        assert!(matches!(gate.check(&Method::GET, "/", &h), Verdict::Refuse(_)), "{site}");
    }
    for site in ["same-origin", "none"] {
        let h = headers(&[("host", "127.0.0.1:4000"), ("cookie", &pair), ("sec-fetch-site", site)]);
        assert!(matches!(gate.check(&Method::GET, "/", &h), Verdict::Forward { .. }), "{site}");
    }
}

#[test]
fn the_gates_debug_shows_neither_secrets_nor_live_links() {
    let gate = Gate::new(4000);
    let link = gate.new_link();
    let token = link.strip_prefix(LINK_PREFIX).unwrap();
    let shown = format!("{gate:?}");
    for secret in [token, gate.secret().expose(), gate.set_cookie().split(['=', ';']).nth(1).unwrap()] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

// ---- what crosses ---------------------------------------------------------------------

#[test]
fn the_clients_credentials_and_connection_headers_stay_behind() {
    let h = headers(&[
        ("host", "127.0.0.1:4000"),
        ("authorization", "Basic bWFsbG9yeTp4"),
        ("proxy-authorization", "Basic eA=="),
        ("cookie", "session=1"),
        ("origin", "http://127.0.0.1:4000"),
        ("referer", "http://127.0.0.1:4000/secret/x"),
        ("connection", "keep-alive, X-Private"),
        ("x-private", "1"),
        ("expect", "100-continue"),
        ("range", "bytes=0-9"),
        ("content-type", "application/json"),
    ]);
    let out = upstream_headers(&h);
    let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["range", "content-type"]);
}

#[test]
fn only_paths_under_the_servers_url_are_forwarded() {
    let base = Url::parse("https://h.example/mlflow").unwrap();
    let ok = upstream_target(&base, "/mlflow/api/2.0/x", Some("a=1")).unwrap();
    assert_eq!(ok, "/mlflow/api/2.0/x?a=1");
    assert_eq!(upstream_target(&base, "/mlflow", None).unwrap(), "/mlflow");
    for outside in [
        "/",
        "/other",
        "/mlflowx/api",
        "/mlflow/../admin",
        "/mlflow/%2e%2E/admin",
        "/mlflow/.%2e/admin",
        "/mlflow\\..\\admin",
        "/mlflow/..%2fadmin",
        "/mlflow/..%5Cadmin",
        "/mlflow/x/../../admin",
        "/mlflow/..;/admin",
        "/mlflow/%2E%2e;x/admin",
        "/mlflow/a%00.json",
    ] {
        assert!(upstream_target(&base, outside, None).is_none(), "{outside}");
    }
    // Dot segments that stay inside are resolved, as the server would resolve them.
    assert_eq!(upstream_target(&base, "/mlflow/a/../b/./c", Some("q")).unwrap(), "/mlflow/b/c?q");
    assert_eq!(upstream_target(&base, "/mlflow/.well-known/x", None).unwrap(), "/mlflow/.well-known/x");
    let root = Url::parse("http://h.example:5000/").unwrap();
    assert_eq!(upstream_target(&root, "/anything", None).unwrap(), "/anything");
    assert!(upstream_target(&root, "/a%2Fb", None).is_none(), "a server may decode it to a path separator");
}

#[test]
fn same_origin_redirects_come_back_to_the_proxy_without_the_secret() {
    let base = Url::parse("https://h.example/mlflow").unwrap();
    let asked = Url::parse("https://h.example/mlflow/api/2.0/a").unwrap();
    let loc = |v: &str, via, path| {
        rewrite_location(&HeaderValue::from_str(v).unwrap(), &asked, &base, via, path)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(loc("/mlflow/#/x?y=1", Via::Cookie, "/mlflow/api/2.0/a").unwrap(), "/mlflow/#/x?y=1");
    assert_eq!(loc("https://h.example/mlflow/b?q=1", Via::Cookie, "/mlflow/api/2.0/a").unwrap(), "/mlflow/b?q=1");
    // /SECRET/mlflow/api/2.0/a -> up 3 folders to /SECRET/, then mlflow/b.
    let rel = loc("https://h.example/mlflow/b?q=1", Via::Secret, "/mlflow/api/2.0/a").unwrap();
    assert_eq!(rel, "./../../../mlflow/b?q=1");
    let resolved = Url::parse("http://127.0.0.1:1/SECRET/mlflow/api/2.0/a").unwrap().join(&rel).unwrap();
    assert_eq!(resolved.as_str(), "http://127.0.0.1:1/SECRET/mlflow/b?q=1");
    // A path that starts with // must not become a reference to another host.
    assert_eq!(loc("https://h.example//evil.example/x", Via::Cookie, "/mlflow/a").unwrap(), "/evil.example/x");
    assert_eq!(loc("//h.example//evil.example/x", Via::Cookie, "/mlflow/a").unwrap(), "/evil.example/x");
    // Elsewhere: as it is (followed by the client, with nothing of ours).
    assert_eq!(loc("https://idp.example/auth", Via::Secret, "/x").unwrap(), "https://idp.example/auth");
}

#[test]
fn the_socket_tables_owner_is_found_by_both_ends() {
    let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
        0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n\
        1: 0100007F:D431 0100007F:0FA0 01 00000000:00000000 00:00000000 00000000  1001        0 2 1\n\
        2: 0100007F:0FA0 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 3 1\n";
    let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
    if cfg!(target_endian = "little") {
        assert_eq!(peer::owner(table, peer, local), Some(1001));
        assert_eq!(peer::owner(table, "127.0.0.1:5".parse().unwrap(), local), None);
    }
}

#[test]
fn a_dual_stack_clients_socket_is_found_in_the_ipv6_table_by_its_mapped_address() {
    // A Java client's socket: local ::ffff:127.0.0.1:54321, remote ::ffff:127.0.0.1:4000.
    let table = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
        0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:0FA0 01 00000000:00000000 00:00000000 00000000  1001        0 2 1\n";
    let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
    if cfg!(target_endian = "little") {
        assert_eq!(peer::owner(table, peer, local), Some(1001));
        assert_eq!(peer::owner(table, local, peer), None, "the other end");
    }
}

/// A client socket of family AF_INET6 (as Java and .NET make them) connected to 127.0.0.1
/// through its IPv4-mapped address.
#[cfg(target_os = "linux")]
fn dual_stack_client(to: SocketAddr) -> std::net::TcpStream {
    let mapped = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped().into(), to.port());
    let stream = std::net::TcpStream::connect(mapped).unwrap();
    assert!(stream.local_addr().unwrap().is_ipv6(), "an AF_INET6 socket");
    stream
}

#[cfg(target_os = "linux")]
#[test]
fn the_kernel_names_a_connections_owner_over_netlink_plain_and_dual_stack() {
    let me = nix::unistd::geteuid().as_raw();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap();
    let plain = std::net::TcpStream::connect(local).unwrap();
    let (_a, peer) = listener.accept().unwrap();
    assert_eq!(peer::sock_diag::owner(peer, local), Some(me));
    let dual = dual_stack_client(local);
    let (_b, dual_peer) = listener.accept().unwrap();
    assert_eq!(peer::sock_diag::owner(dual_peer, local), Some(me));
    // No such connection: the kernel says so, and nobody owns it.
    let nobody: SocketAddr = "127.0.0.1:1".parse().unwrap();
    assert_eq!(peer::sock_diag::owner(nobody, local), None);
    drop((plain, dual));
}

/// An answer of the kernel's (`inet_diag_msg` after its `nlmsghdr`) for a socket in `state`
/// at `src` connected to `dst`, owned by `uid`.
fn diag_answer(state: u8, src: SocketAddr, dst: SocketAddr, uid: u32) -> Vec<u8> {
    let mut a = vec![0u8; 88];
    a[0..4].copy_from_slice(&88u32.to_ne_bytes());
    a[4..6].copy_from_slice(&20u16.to_ne_bytes());
    a[16] = 2;
    a[17] = state;
    a[20..22].copy_from_slice(&src.port().to_be_bytes());
    a[22..24].copy_from_slice(&dst.port().to_be_bytes());
    let v4 = |s: SocketAddr| match s.ip() {
        std::net::IpAddr::V4(v4) => v4.octets(),
        std::net::IpAddr::V6(_) => unreachable!(),
    };
    a[24..28].copy_from_slice(&v4(src));
    a[40..44].copy_from_slice(&v4(dst));
    a[80..84].copy_from_slice(&uid.to_ne_bytes());
    a
}

#[cfg(target_os = "linux")]
#[test]
fn only_the_connected_socket_asked_for_counts_in_the_kernels_answer() {
    let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
    let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let established = 1;
    assert_eq!(peer::sock_diag::uid_of(&diag_answer(established, peer, local, 1001), peer, local), Some(1001));
    // A listening socket on the client's address (the lookup's fallback when the client's
    // socket is gone), a TIME_WAIT entry (no owner), another socket, a short answer.
    for state in [10, 6, 12] {
        assert_eq!(peer::sock_diag::uid_of(&diag_answer(state, peer, local, 1001), peer, local), None, "{state}");
    }
    let other: SocketAddr = "127.0.0.1:5".parse().unwrap();
    assert_eq!(peer::sock_diag::uid_of(&diag_answer(established, other, local, 1001), peer, local), None);
    assert_eq!(peer::sock_diag::uid_of(&diag_answer(established, peer, local, 1001)[..60], peer, local), None);
}

#[cfg(target_os = "linux")]
#[test]
fn a_dual_stack_connection_of_this_user_is_recognised_as_its_own() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap();
    let client = dual_stack_client(local);
    let (_server, peer) = listener.accept().unwrap();
    assert!(peer::is_own_user(peer, local));
    drop(client);
}

#[cfg(target_os = "linux")]
#[test]
fn a_connection_of_this_user_is_recognised_as_its_own() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap();
    let client = std::net::TcpStream::connect(local).unwrap();
    let (_server, peer) = listener.accept().unwrap();
    assert!(peer::is_own_user(peer, local));
    drop(client);
}

// ---- the whole proxy against a recording server ---------------------------------------

/// What the server received, request by request.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: HeaderMap,
}

/// A server that records every request and answers by path: `/echo` streams the request
/// body back, `/upload` reads the whole body first, `/redirect-here` and `/redirect-away`
/// redirect, `/refuse` answers 401 with a challenge, `/big?n=BYTES` streams that many
/// bytes; anything else 200 "ok".
async fn recording_server() -> (Url, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let log = log.clone();
                    async move {
                        log.lock()
                            .unwrap()
                            .push(Seen { target: req.uri().to_string(), headers: req.headers().clone() });
                        if req.uri().path() == "/base/upload" {
                            // Reads the whole body before it answers, as an upload does.
                            let stored = req.into_body().collect().await.is_ok();
                            let answer = forward::full(if stored { "stored" } else { "broken" });
                            return Ok::<_, std::convert::Infallible>(hyper::Response::new(answer));
                        }
                        Ok::<_, std::convert::Infallible>(reply(req, addr))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (Url::parse(&format!("http://{addr}/base")).unwrap(), seen)
}

fn reply(req: hyper::Request<Incoming>, addr: SocketAddr) -> forward::Answer {
    let path = req.uri().path().to_owned();
    let mut answer = match path.as_str() {
        "/base/echo" => hyper::Response::new(req.into_body().map_err(Into::into).boxed_unsync()),
        "/base/big" => {
            let n: usize = req.uri().query().and_then(|q| q.strip_prefix("n=")).unwrap().parse().unwrap();
            let chunk = Bytes::from(vec![7u8; 64 * 1024]);
            let stream = futures_stream(n, chunk);
            hyper::Response::new(stream)
        }
        _ => hyper::Response::new(forward::full("ok")),
    };
    match path.as_str() {
        "/base/redirect-here" => {
            *answer.status_mut() = StatusCode::FOUND;
            let to = format!("http://{addr}/base/landed");
            answer.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&to).unwrap());
        }
        "/base/redirect-away" => {
            *answer.status_mut() = StatusCode::FOUND;
            answer.headers_mut().insert(header::LOCATION, HeaderValue::from_static("http://elsewhere.example/x"));
        }
        "/base/refuse" => {
            *answer.status_mut() = StatusCode::UNAUTHORIZED;
            answer.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"x\""));
        }
        _ => {}
    }
    answer.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("upstream=1"));
    answer
}

/// `n` bytes in chunks, produced as they are read.
fn futures_stream(n: usize, chunk: Bytes) -> forward::ProxyBody {
    let mut left = n;
    Frames(move || {
        (left > 0).then(|| {
            let take = left.min(chunk.len());
            left -= take;
            chunk.slice(..take)
        })
    })
    .boxed_unsync()
}

/// A body whose frames a function makes, one per poll.
struct Frames<F>(F);

impl<F: FnMut() -> Option<Bytes> + Unpin> hyper::body::Body for Frames<F> {
    type Data = Bytes;
    type Error = forward::BoxError;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready((self.0)().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

const PASSWORD: &str = "s3cret-pässword";

/// A proxy in front of the recording server, for a Basic server with `PASSWORD` stored.
async fn proxy_for(base: &Url) -> (Proxy, Arc<Logins<MemoryVault>>, tempfile::TempDir) {
    proxy_in(base, None).await
}

/// [`proxy_for`], with a workspace selected for the server.
async fn proxy_in(base: &Url, workspace: Option<&str>) -> (Proxy, Arc<Logins<MemoryVault>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(ConfigStore::new(Paths::in_dir(dir.path().join("cfg"))), MemoryVault::default()));
    let mut server = Server::new_basic(base.as_str(), "alice").unwrap();
    server.workspace = workspace.map(str::to_owned);
    logins.save("rec", server.clone(), Some(&Secret::new(PASSWORD.into())), Activate::Yes).unwrap();
    let proxy = start(logins.clone(), "rec", &server, ProxyOptions::default()).await.unwrap();
    (proxy, logins, dir)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn json(r: reqwest::Response) -> (StatusCode, serde_json::Value) {
    let status = r.status();
    (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_the_server_with_its_credential_and_nothing_of_the_client() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    let r = client()
        .get(format!("{uri}/api/2.0/mlflow/experiments/search?max_results=1"))
        .header(header::AUTHORIZATION, "Bearer client-token")
        .header(header::COOKIE, "mine=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get(header::SET_COOKIE).is_none(), "the server's cookies stay behind");
    assert_eq!(r.text().await.unwrap(), "ok");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/base/api/2.0/mlflow/experiments/search?max_results=1");
    let expected = format!("Basic {}", crate::text::base64(format!("alice:{PASSWORD}").as_bytes()));
    assert_eq!(seen[0].headers.get_all(header::AUTHORIZATION).iter().collect::<Vec<_>>(), [expected.as_str()]);
    assert!(seen[0].headers.get(header::COOKIE).is_none());
    assert_eq!(
        seen[0].headers.get(header::HOST).unwrap(),
        base.host_str().map(|h| format!("{h}:{}", base.port().unwrap())).unwrap().as_str()
    );
    let everything = format!("{seen:?}");
    assert!(!everything.contains(&secret), "the secret reached the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selected_workspace_goes_with_requests_that_name_none() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_in(&base, Some("team-b")).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let c = client();
    assert_eq!(c.get(format!("{uri}/api")).send().await.unwrap().status(), 200);
    let own = c.get(format!("{uri}/api")).header(crate::workspaces::HEADER, "team-a").send().await.unwrap();
    assert_eq!(own.status(), 200);
    let sent: Vec<Vec<_>> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.headers.get_all(crate::workspaces::HEADER).iter().map(|v| v.to_str().unwrap().to_owned()).collect())
        .collect();
    assert_eq!(sent, [["team-b"], ["team-a"]], "the selected one by default, the client's own kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_callers_never_reach_the_server() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let root = format!("http://{}", proxy.addr());
    let link = proxy.browser_link().expose().to_owned();
    let c = client();
    assert_eq!(c.get(&link).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let attempts = [
        c.get(format!("{root}/base/api/2.0/mlflow/experiments/search")),
        c.get(format!("{root}/wrong-secret/base/api")),
        c.get(&link),
        c.get(format!("{uri}/api")).header(header::HOST, "evil.example"),
        c.post(format!("{uri}/api")).header(header::ORIGIN, "http://evil.example"),
    ];
    for attempt in attempts {
        let (status, body) = json(attempt.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error_code"], "PERMISSION_DENIED");
    }
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_on_the_servers_origin_return_to_the_proxy_and_others_pass_as_they_are() {
    let (base, _seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    let r = client().get(format!("{uri}/redirect-here")).send().await.unwrap();
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(!location.contains(&secret), "{location}");
    let followed = Url::parse(&format!("{uri}/redirect-here")).unwrap().join(&location).unwrap();
    assert_eq!(followed.as_str(), format!("{uri}/landed"));
    let r = client().get(format!("{uri}/redirect-away")).send().await.unwrap();
    assert_eq!(r.headers()[header::LOCATION], "http://elsewhere.example/x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_is_answered_log_in_again_without_a_challenge() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let r = client().get(format!("{uri}/refuse")).send().await.unwrap();
    assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none(), "a browser would ask for a password");
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "UNAUTHENTICATED");
    assert!(body["message"].as_str().unwrap().contains("log in again"), "{body}");
    // The keychain was read again (the same password): no second attempt.
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keychain_a_logout_and_a_server_down_are_answered_in_mlflows_error_shape() {
    let (base, seen) = recording_server().await;
    let (proxy, logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    *logins.vault().fail_with.lock().unwrap() = Some(crate::ErrorKind::KeychainLocked);
    let (status, body) = json(client().get(format!("{uri}/api")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("TEMPORARILY_UNAVAILABLE"))
    );
    *logins.vault().fail_with.lock().unwrap() = None;
    logins.logout("rec").unwrap();
    let (status, body) = json(client().get(format!("{uri}/api")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["message"].as_str().unwrap().contains("log in again"), "{body}");
    assert!(seen.lock().unwrap().is_empty());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = Url::parse(&format!("http://{}/", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let (proxy, _logins, _dir) = proxy_for(&down).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let (status, body) = json(client().get(format!("{uri}/api")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways_byte_for_byte() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    // 8 MiB up with a length, echoed back; a chunked upload; a generated download.
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let r = client().put(format!("{uri}/echo")).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap() == data);
    let mut chunks = data.chunks(100_000).map(Bytes::copy_from_slice).collect::<Vec<_>>().into_iter();
    let r = client()
        .put(format!("{uri}/echo"))
        .body(reqwest::Body::wrap(Frames(move || chunks.next())))
        .send()
        .await
        .unwrap();
    assert!(r.bytes().await.unwrap() == data);
    let r = client().get(format!("{uri}/big?n=10000000")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 10_000_000);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].headers[header::CONTENT_LENGTH], data.len().to_string().as_str());
    assert_eq!(seen[1].headers[header::TRANSFER_ENCODING], "chunked");
}

/// Sends `request` as it is on a new connection and reads the answer to its end (the
/// request says `Connection: close`).
async fn raw(mut stream: tokio::net::TcpStream, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

async fn connect(proxy: &Proxy) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(proxy.addr()).await.unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_on_a_dual_stack_socket_gets_through() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    let client = dual_stack_client(proxy.addr());
    client.set_nonblocking(true).unwrap();
    let request = format!("GET /{secret}/base/api HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", proxy.addr());
    let answer = raw(tokio::net::TcpStream::from_std(client).unwrap(), request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_absolute_form_requests_are_answered_405_and_never_sent_on() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    let addr = proxy.addr();
    let requests = [
        format!("TRACE /{secret}/base/api HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        format!("TRACK /{secret}/base/api HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        format!("CONNECT {addr} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        format!("GET http://{addr}/{secret}/base/api HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        format!("OPTIONS * HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    ];
    for request in requests {
        let answer = raw(connect(&proxy).await, request.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 405"), "{request}: {answer}");
    }
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_request_from_another_sites_page_never_reaches_the_server() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let c = client();
    let opened = c.get(proxy.browser_link().expose()).send().await.unwrap();
    let cookie = opened.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = format!("http://{}/base/", proxy.addr());
    let from = |site: &str| c.get(&page).header(header::COOKIE, &cookie).header("sec-fetch-site", site);
    assert_eq!(from("same-site").send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(from("same-origin").send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoded_slash_is_not_sent_on_and_answers_under_the_secret_keep_it_out_of_referers() {
    let (base, seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    for path in ["..%2fadmin", "..%2Fadmin", "..%5cadmin", "x%5C..%5C..%5Cadmin"] {
        assert_eq!(client().get(format!("{uri}/{path}")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    assert!(seen.lock().unwrap().is_empty());
    let r = client().get(format!("{uri}/page")).send().await.unwrap();
    assert_eq!(r.headers()[header::REFERRER_POLICY], "same-origin");
    let shown = format!("{proxy:?}");
    assert!(!shown.contains(uri.split('/').nth(3).unwrap()), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_the_client_does_not_finish_is_a_400() {
    let (base, _seen) = recording_server().await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    // A chunk size that is not hexadecimal: the body breaks off after its first chunk. The
    // server answers once it has the whole body (an echo would answer at its first chunk,
    // and the client would get that answer, cut short).
    let request = format!(
        "POST /{secret}/base/upload HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\nzz\r\n",
        proxy.addr()
    );
    let answer = raw(connect(&proxy).await, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// A Basic server that answers 401 to everything and, on each request, stores a new
/// password for `rec` (the user logged in again while the request was under way).
async fn refusing_server(logins: Arc<Logins<MemoryVault>>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::new_basic(&format!("http://{}/", listener.local_addr().unwrap()), "alice").unwrap();
    let served = server.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (logins, server) = (logins.clone(), served.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let (logins, server) = (logins.clone(), server.clone());
                    async move {
                        let _ = req.into_body().collect().await;
                        logins.save("rec", server, Some(&Secret::new("new-password".into())), Activate::Yes).unwrap();
                        let mut answer = hyper::Response::new(forward::full("no"));
                        *answer.status_mut() = StatusCode::UNAUTHORIZED;
                        Ok::<_, std::convert::Infallible>(answer)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_refused_just_before_a_renewed_credential_is_answered_send_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(ConfigStore::new(Paths::in_dir(dir.path().join("cfg"))), MemoryVault::default()));
    let server = refusing_server(logins.clone()).await;
    logins.save("rec", server.clone(), Some(&Secret::new(PASSWORD.into())), Activate::Yes).unwrap();
    let proxy = start(logins.clone(), "rec", &server, ProxyOptions::default()).await.unwrap();
    let uri = proxy.tracking_uri().expose().to_owned();
    // Chunked: streamed, so it cannot be sent a second time.
    let mut chunks = vec![Bytes::from_static(b"run data")].into_iter();
    let r = client().post(format!("{uri}/upload")).body(reqwest::Body::wrap(Frames(move || chunks.next()))).send();
    let (status, body) = json(r.await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("send the request again") && !message.contains("log in again"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_finishes_the_tls_handshake_is_a_502_after_the_connect_timeout() {
    // Accepts connections (the kernel's backlog) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = Url::parse(&format!("https://{}/", silent.local_addr().unwrap())).unwrap();
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    // Far above the proxy's connect timeout: a proxy without one fails here, not hangs.
    let patient = reqwest::Client::builder().no_proxy().timeout(std::time::Duration::from_secs(60)).build().unwrap();
    let (status, body) = json(patient.get(format!("{uri}/api")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no connection within"), "{body}");
    drop(silent);
}

// ---- connections: the server's kept, the client's closed when idle --------------------

/// A server written by hand, so that the test decides when a connection ends: it answers
/// by path (`/empty` 204, `/chunked` a chunked body, anything else "ok"; a `HEAD` no body),
/// waits `delay` before each answer, and counts the connections it accepted. After
/// `per_connection` answers it reads one more request and closes the connection without
/// a word, as a server whose keep-alive time ran out just as the request came.
async fn counting_server(
    per_connection: usize,
    delay: std::time::Duration,
) -> (Url, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(stream);
                for answered in 0..=per_connection {
                    let mut head = Vec::new();
                    loop {
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push(line);
                    }
                    let length = head
                        .iter()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().to_owned())
                        })
                        .map_or(0, |n| n.parse().unwrap());
                    let mut body = vec![0; length];
                    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut body).await.unwrap();
                    if answered == per_connection {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    let answer: &[u8] = match head[0].split(' ').take(2).collect::<Vec<_>>()[..] {
                        ["HEAD", _] => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
                        [_, "/empty"] => b"HTTP/1.1 204 No Content\r\n\r\n",
                        [_, "/chunked"] => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                        _ => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                    };
                    stream.get_mut().write_all(answer).await.unwrap();
                }
            });
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_connection_serves_request_after_request_and_one_it_closed_is_replaced() {
    let (base, accepted) = counting_server(1000, std::time::Duration::ZERO).await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let client = client();
    for (method, path, body) in [
        (Method::GET, "/a", "ok"),
        (Method::HEAD, "/a", ""),
        (Method::GET, "/empty", ""),
        (Method::GET, "/chunked", "ok"),
        (Method::POST, "/a", "ok"),
        (Method::GET, "/a", "ok"),
    ] {
        let r = client.request(method.clone(), format!("{uri}{path}")).body("x").send().await.unwrap();
        assert!(r.status().is_success(), "{method} {path}: {}", r.status());
        assert_eq!(r.text().await.unwrap(), body, "{method} {path}");
    }
    // Bodies of every kind, none, and none by the method: each gave the connection back.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A server that closes each connection when a second request comes on it: an
    // idempotent request goes again on a new connection, and the client sees no error; a
    // POST may have been acted on, so it is not sent twice.
    let (base, accepted) = counting_server(1, std::time::Duration::ZERO).await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    for method in [Method::GET, Method::GET, Method::PUT, Method::DELETE, Method::HEAD] {
        let r = client.request(method.clone(), format!("{uri}/a")).body("x").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{method}");
    }
    // Each request after the first went out on the kept connection, which closed, and
    // then on a new one.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5);
    let (status, body) = json(client.post(format!("{uri}/a")).body("x").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("could not reach the server"), "{body}");

    // Two kept connections that the server will both close: the request goes once more on
    // a new connection, not on the other kept one.
    let (base, accepted) = counting_server(1, std::time::Duration::from_millis(200)).await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let (a, b) = tokio::join!(client.get(format!("{uri}/a")).send(), client.get(format!("{uri}/a")).send());
    assert_eq!((a.unwrap().status(), b.unwrap().status()), (StatusCode::OK, StatusCode::OK));
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    let r = client.get(format!("{uri}/a")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// The proxy's answer on a connection kept open (no `Connection: close`): its head and a
/// `Content-Length` body.
async fn answer_on(stream: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> String {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = n.trim().parse().unwrap();
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// A connection waiting for its client to read what is written is not idle, whatever else.
#[tokio::test(start_paused = true)]
async fn a_connection_whose_client_reads_slowly_is_not_idle() {
    let activity = Arc::new(Activity::default());
    activity.writing.store(true, std::sync::atomic::Ordering::Relaxed);
    let watched = activity.clone();
    let watch = tokio::spawn(async move { idle(&watched).await });
    tokio::time::sleep(5 * IDLE).await;
    assert!(!watch.is_finished(), "closed while a write waited");
    activity.writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let since = tokio::time::Instant::now();
    watch.await.unwrap();
    assert!(since.elapsed() <= 2 * IDLE);
}

/// Virtual time (`start_paused`): the clock jumps to the next timer whenever every task
/// waits, so minutes pass in no time.
#[tokio::test(start_paused = true)]
async fn an_idle_client_connection_is_closed_and_a_slow_answer_is_not_cut() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let slow = 3 * IDLE;
    let (base, _accepted) = counting_server(1000, slow).await;
    let (proxy, _logins, _dir) = proxy_for(&base).await;
    let uri = proxy.tracking_uri().expose().to_owned();
    let secret = uri.split('/').nth(3).unwrap().to_owned();
    let mut stream = tokio::io::BufReader::new(connect(&proxy).await);
    let asked = tokio::time::Instant::now();
    let request = format!("GET /{secret}/a HTTP/1.1\r\nHost: {}\r\n\r\n", proxy.addr());
    stream.get_mut().write_all(request.as_bytes()).await.unwrap();
    // Nothing crosses the client's connection while the server thinks: it stays open.
    let answer = answer_on(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
    assert!(asked.elapsed() >= slow);

    // Then idle: closed after one to two idle periods.
    let answered = tokio::time::Instant::now();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    let waited = answered.elapsed();
    assert!(waited >= IDLE && waited <= 2 * IDLE + std::time::Duration::from_secs(1), "{waited:?}");
}
