//! The loopback listener of the browser flow (RFC 8252 §7.3): `127.0.0.1`, a port the
//! kernel picks (or the fixed one an identity provider requires), one path.
//!
//! Every connection is read on its own task with its own short limit, so a browser's
//! speculative pre-connection that never sends a request cannot hold up the real one.
//! A request for another path, or with another `state` (a stale tab, another login, a page
//! poking at the port), is answered and ignored: only the answer for this login ends the
//! wait, with its code or with the provider's `error`.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::text::clean;

/// The redirect URI's path (the test IdP registers exactly this one).
pub(crate) const CALLBACK_PATH: &str = "/callback";

/// The longest request head read (a code and a state are short; some IdPs add more).
const MAX_HEAD: usize = 16 * 1024;

/// How long one connection may take to send its request, and to take our answer.
const PER_CONNECTION: Duration = Duration::from_secs(10);

/// What the provider's redirect brought.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The authorization code, and the `iss` the provider added (RFC 9207).
    Code { code: String, iss: Option<String> },
    /// The provider's `error` (`access_denied`, ...) and `error_description`.
    Refused { error: String, description: Option<String> },
}

/// A browser tab waiting for the page that tells how the login ended.
#[derive(Debug)]
pub(crate) struct Tab(TcpStream);

/// The page a tab is left with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    SignedIn,
    Failed,
    NotFound,
    Stale,
}

impl Tab {
    /// Answers the tab (bounded; a closed tab is fine).
    pub(crate) async fn finish(mut self, page: Page) {
        let _ = tokio::time::timeout(PER_CONNECTION, write_page(&mut self.0, page)).await;
    }
}

/// The listener.
#[derive(Debug)]
pub(crate) struct Loopback {
    listener: TcpListener,
}

impl Loopback {
    /// Binds `127.0.0.1` on a port the kernel picks, which cannot be taken; or on `port`,
    /// for an identity provider that requires a fixed redirect URI. A taken `port` fails at
    /// once (on the `redirect_port` field), before any browser opens.
    pub(crate) async fn bind(port: Option<u16>) -> Result<Self> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port.unwrap_or(0))).await.map_err(
            |e| match (port, e.kind()) {
                (Some(port), std::io::ErrorKind::PermissionDenied) => Error::invalid(
                    "redirect_port",
                    format!(
                        "port {port} on 127.0.0.1 needs privileges this program does not have: register a loopback \
                         port from 1024 up at the identity provider and give it with --redirect-port"
                    ),
                ),
                (Some(port), std::io::ErrorKind::AddrInUse) => Error::invalid(
                    "redirect_port",
                    format!(
                        "port {port} on 127.0.0.1, the sign-in's redirect port, is in use (another sign-in, or another \
                         program): end it, or register another loopback port at the identity provider and give it \
                         with --redirect-port"
                    ),
                ),
                _ => Error::io("127.0.0.1 (the sign-in redirect listener)", e),
            },
        )?;
        Ok(Self { listener })
    }

    /// `http://127.0.0.1:PORT/callback`.
    pub(crate) fn redirect_uri(&self) -> Result<String> {
        let port =
            self.listener.local_addr().map_err(|e| Error::io("127.0.0.1 (the sign-in redirect listener)", e))?.port();
        Ok(format!("http://127.0.0.1:{port}{CALLBACK_PATH}"))
    }

    /// Waits (unbounded: the caller bounds it) for the redirect that carries `state`.
    pub(crate) async fn wait(self, state: &str) -> (Answer, Tab) {
        let (tx, mut rx) = mpsc::channel::<(Answer, Tab)>(4);
        // Dropped on return: aborts the connections still being read.
        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let (tx, state) = (tx.clone(), state.to_string());
                        tasks.spawn(async move {
                            if let Ok(Some(found)) = tokio::time::timeout(PER_CONNECTION, serve(stream, &state)).await {
                                let _ = tx.send(found).await;
                            }
                        });
                    }
                    // Out of descriptors and the like: wait a little instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                },
                Some(found) = rx.recv() => return found,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}

/// Reads one request. This login's answer is handed back with its tab; anything else is
/// answered here.
async fn serve(mut stream: TcpStream, state: &str) -> Option<(Answer, Tab)> {
    let head = read_head(&mut stream).await?;
    let target = request_target(&head);
    match target.as_deref().map(|t| classify(t, state)) {
        Some(Some(answer)) => Some((answer, Tab(stream))),
        Some(None) => {
            let page = if target.as_deref().is_some_and(|t| t.split('?').next() == Some(CALLBACK_PATH)) {
                Page::Stale
            } else {
                Page::NotFound
            };
            let _ = write_page(&mut stream, page).await;
            None
        }
        None => {
            let _ = write_page(&mut stream, Page::NotFound).await;
            None
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(head)
}

/// The target of a `GET` request line.
fn request_target(head: &[u8]) -> Option<String> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && version.starts_with("HTTP/1.") && target.starts_with('/')).then(|| target.to_string())
}

/// This login's answer, if the target is the callback path with this `state`.
pub(crate) fn classify(target: &str, state: &str) -> Option<Answer> {
    let url = url::Url::parse("http://127.0.0.1").ok()?.join(target).ok()?;
    if url.path() != CALLBACK_PATH {
        return None;
    }
    let (mut got_state, mut code, mut error, mut description, mut iss) = (None, None, None, None, None);
    for (name, value) in url.query_pairs() {
        match &*name {
            "state" => got_state = Some(value.into_owned()),
            "code" => code = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            "iss" => iss = Some(value.into_owned()),
            _ => {}
        }
    }
    if got_state.as_deref() != Some(state) {
        return None;
    }
    match (error, code) {
        (Some(error), _) => {
            Some(Answer::Refused { error: clean(&error, 100), description: description.map(|d| clean(&d, 300)) })
        }
        (None, Some(code)) if !code.is_empty() => Some(Answer::Code { code, iss }),
        _ => None,
    }
}

async fn write_page(stream: &mut TcpStream, page: Page) -> std::io::Result<()> {
    let (status, title, text) = match page {
        Page::SignedIn => ("200 OK", "Signed in", "MLflow Login is signed in. You can close this tab."),
        Page::Failed => {
            ("200 OK", "Sign-in failed", "The sign-in did not complete: MLflow Login says why. You can close this tab.")
        }
        Page::Stale => (
            "400 Bad Request",
            "Not this sign-in",
            "This page belongs to another or an earlier sign-in. Use the newest one, or start again.",
        ),
        Page::NotFound => ("404 Not Found", "Not found", "Nothing here."),
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} - MLflow Login</title></head>\
         <body style=\"font-family: sans-serif; margin: 3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_this_state_on_this_path() {
        assert!(
            matches!(classify("/callback?code=abc&state=s1", "s1"), Some(Answer::Code { code, iss: None }) if code == "abc")
        );
        assert!(
            matches!(classify("/callback?code=abc&state=s1&iss=https%3A%2F%2Fidp", "s1"), Some(Answer::Code { iss: Some(i), .. }) if i == "https://idp")
        );
        assert!(classify("/callback?code=abc&state=s2", "s1").is_none());
        assert!(classify("/callback?code=abc", "s1").is_none());
        assert!(classify("/other?code=abc&state=s1", "s1").is_none());
        assert!(classify("/callback?state=s1", "s1").is_none());
        assert!(classify("/callback?state=s1&code=", "s1").is_none());
        let refused = classify("/callback?error=access_denied&error_description=no%0Athanks&state=s1", "s1");
        assert!(
            matches!(&refused, Some(Answer::Refused { error, description: Some(d) }) if error == "access_denied" && d == "no thanks"),
            "{refused:?}"
        );
        // An error for another login does not end this one.
        assert!(classify("/callback?error=access_denied&state=s2", "s1").is_none());
        assert_eq!(request_target(b"GET /callback?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").as_deref(), Some("/callback?x=1"));
        assert_eq!(request_target(b"POST /callback HTTP/1.1\r\n\r\n"), None);
        assert_eq!(request_target(b"GET http://evil/callback HTTP/1.1\r\n\r\n"), None);
    }

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn stray_requests_do_not_end_the_wait() {
        let loopback = Loopback::bind(None).await.unwrap();
        let uri = loopback.redirect_uri().unwrap();
        let port: u16 = uri.trim_start_matches("http://127.0.0.1:").trim_end_matches(CALLBACK_PATH).parse().unwrap();
        let waiting = tokio::spawn(async move {
            let (answer, tab) = loopback.wait("good").await;
            tab.finish(Page::SignedIn).await;
            answer
        });
        // A pre-connection that sends nothing, a wrong path, a wrong state.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        assert!(get(port, "/callback?code=x&state=bad").await.starts_with("HTTP/1.1 400"));
        assert!(!waiting.is_finished());
        let page = get(port, "/callback?code=the-code&state=good").await;
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("close this tab"), "{page}");
        assert!(matches!(waiting.await.unwrap(), Answer::Code { code, .. } if code == "the-code"));
    }

    #[tokio::test]
    async fn a_fixed_port_is_used_and_a_taken_one_fails_at_once() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = Loopback::bind(Some(port)).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidInput { field: "redirect_port", .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("port {port} on 127.0.0.1")), "{err}");
        drop(taken);
        let loopback = Loopback::bind(Some(port)).await.unwrap();
        assert_eq!(loopback.redirect_uri().unwrap(), format!("http://127.0.0.1:{port}/callback"));
    }
}
