//! Who may use the proxy: the checks every request passes before anything is sent on.
//!
//! Any local process and any web page in the user's browser can reach a loopback port, so a
//! request proves it comes from the user:
//! - an API client by the run's secret as the first path segment of its tracking URI;
//! - a browser by a cookie that a one-time link set (`HttpOnly`, `SameSite=Strict`: scripts
//!   cannot read it and other sites' pages do not send it).
//!
//! Before either: the `Host` header must name this proxy (a DNS-rebinding page's requests
//! carry its own host name), and an `Origin`, when sent, must be this proxy's own (a page
//! elsewhere that learned the secret still cannot post with it). A state-changing request
//! that proves itself by the cookie must carry our `Origin`: browsers send one with every
//! such request, so a missing one is not a browser's request of ours. A cookie request
//! whose `Sec-Fetch-Site` says another site sent it is refused: `SameSite` does not keep
//! ports apart, so a page of any other loopback server counts as the same site.
//!
//! Only origin-form requests (`/path`) with methods that read or change resources are
//! served: `TRACE` and `TRACK` would have some servers echo the added `Authorization`
//! back, and `CONNECT` or an absolute-form target would use the proxy as a tunnel.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{COOKIE, HOST, HeaderMap, HeaderName, ORIGIN};

use crate::secret::Secret;

/// The path under which one-time browser links live. Not a path MLflow serves.
pub(crate) const LINK_PREFIX: &str = "/mlflow-login/open/";

/// How long an unused browser link stays valid: long enough to open a browser, short
/// enough that a link left in a terminal's scroll-back is dead.
const LINK_LIFETIME: Duration = Duration::from_secs(300);

/// How a request proved it comes from the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The secret path prefix (API clients). Redirects are answered relative to the
    /// request, so the secret never appears in a `Location`.
    Secret,
    /// The browser cookie. Redirects are answered with absolute paths.
    Cookie,
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict<'a> {
    /// Send it on; `path` is the request's path with the secret taken off (starts with `/`).
    Forward { via: Via, path: &'a str },
    /// A valid one-time link: set the cookie.
    OpenLink,
    /// Refuse with 403 and this reason; nothing is sent on.
    Refuse(&'static str),
    /// Refuse with 405: a method or request target the proxy does not pass on.
    NotAllowed(&'static str),
}

/// The browser's word on which site made a request (Fetch Metadata).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// A random value of 256 bits, URL-safe (base64url without padding), from the operating
/// system's generator (through oauth2, which core uses for PKCE).
pub(crate) fn random_token() -> Secret {
    Secret::new(oauth2::CsrfToken::new_random_len(32).into_secret())
}

/// The access rules of one proxy run.
pub(crate) struct Gate {
    port: u16,
    /// `127.0.0.1:PORT` and `localhost:PORT`: the authorities this proxy is reached at.
    authorities: [String; 2],
    secret: Secret,
    cookie_name: String,
    cookie_value: Secret,
    /// Unused one-time links (their tokens) and when each was made.
    links: Mutex<HashMap<String, Instant>>,
}

/// The secrets and the live one-time links stay out of `Debug` (they are keys to the server).
impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links = self.links.lock().map_or(0, |l| l.len());
        f.debug_struct("Gate").field("port", &self.port).field("open_links", &links).finish_non_exhaustive()
    }
}

impl Gate {
    pub(crate) fn new(port: u16) -> Self {
        Gate {
            port,
            authorities: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            secret: random_token(),
            // Cookies are not kept apart by port: each proxy its own name, so two proxies
            // in one browser do not overwrite each other's.
            cookie_name: format!("mlflow_login_proxy_{port}"),
            cookie_value: random_token(),
            links: Mutex::new(HashMap::new()),
        }
    }

    /// The secret path segment.
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// A new one-time browser link's path (each works once, for [`LINK_LIFETIME`]).
    pub(crate) fn new_link(&self) -> String {
        let token = random_token();
        let path = format!("{LINK_PREFIX}{}", token.expose());
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        links.retain(|_, made| made.elapsed() < LINK_LIFETIME);
        links.insert(token.expose().to_owned(), Instant::now());
        path
    }

    /// The `Set-Cookie` value an opened link answers with.
    pub(crate) fn set_cookie(&self) -> String {
        format!("{}={}; Path=/; HttpOnly; SameSite=Strict", self.cookie_name, self.cookie_value.expose())
    }

    /// The origins this proxy is reached at.
    fn is_own_authority(&self, authority: &str) -> bool {
        self.authorities.iter().any(|own| own == authority)
    }

    /// The verdict on a request. `path` is its raw path (no query) when its target is in
    /// origin form, else the whole target (`*`, `http://...`, `host:port`).
    pub(crate) fn check<'a>(&self, method: &Method, path: &'a str, headers: &HeaderMap) -> Verdict<'a> {
        if *method == Method::TRACE || *method == Method::CONNECT || method.as_str() == "TRACK" {
            return Verdict::NotAllowed("this proxy does not pass TRACE, TRACK or CONNECT on");
        }
        if !path.starts_with('/') {
            return Verdict::NotAllowed("this proxy serves only requests for a path (/...)");
        }
        let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if !self.is_own_authority(host) {
            return Verdict::Refuse("the Host header does not name this proxy (127.0.0.1 and its port)");
        }
        let origin = match headers.get(ORIGIN).map(|o| o.to_str()) {
            None => None,
            Some(Ok(o)) => Some(o),
            Some(Err(_)) => return Verdict::Refuse("the request comes from a page of another site"),
        };
        if let Some(origin) = origin
            && !origin.strip_prefix("http://").is_some_and(|a| self.is_own_authority(a))
        {
            return Verdict::Refuse("the request comes from a page of another site");
        }
        if let Some(rest) = path.strip_prefix('/') {
            let end = rest.find('/').unwrap_or(rest.len());
            if same(&rest.as_bytes()[..end], self.secret.expose().as_bytes()) {
                let tail = &rest[end..];
                return Verdict::Forward { via: Via::Secret, path: if tail.is_empty() { "/" } else { tail } };
            }
        }
        if let Some(token) = path.strip_prefix(LINK_PREFIX) {
            let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
            return match links.remove(token) {
                Some(made) if made.elapsed() < LINK_LIFETIME => Verdict::OpenLink,
                _ => Verdict::Refuse(
                    "this browser link was used already or is too old (each works once): open a new one from \
                     `mlflow-login proxy` or the tray",
                ),
            };
        }
        if self.has_cookie(headers) {
            let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe && origin.is_none() {
                return Verdict::Refuse("a browser request that changes something must come from this proxy's page");
            }
            let site = headers.get(SEC_FETCH_SITE).map(|v| v.as_bytes());
            if site.is_some_and(|s| s != b"same-origin" && s != b"none") {
                return Verdict::Refuse("the request comes from a page of another site");
            }
            return Verdict::Forward { via: Via::Cookie, path };
        }
        Verdict::Refuse(
            "this proxy needs the tracking URI it printed (with its secret), or a browser opened from its link",
        )
    }

    fn has_cookie(&self, headers: &HeaderMap) -> bool {
        headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).any(|pair| {
            pair.trim().split_once('=').is_some_and(|(name, value)| {
                name == self.cookie_name && same(value.as_bytes(), self.cookie_value.expose().as_bytes())
            })
        })
    }
}

/// Byte strings compared in time that depends on their lengths only, so the secret cannot
/// be guessed a byte at a time from answer times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
