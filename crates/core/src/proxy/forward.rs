//! What crosses the proxy, each way: which headers go on, where a request goes, how a
//! redirect comes back, and the proxy's own answers in MLflow's error shape.

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::gate::Via;

/// An error of a body stream, either side.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every answer's body: streamed from the server, or the proxy's own.
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;
/// An answer to the client.
pub(crate) type Answer = hyper::Response<ProxyBody>;

/// Headers that describe one connection, not the message (RFC 9110 7.6.1), and `Expect`:
/// the proxy answers `100 Continue` itself when it reads the body.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::EXPECT,
    header::PROXY_AUTHENTICATE,
];

/// The client's headers that never reach the server: its own credentials (the server's
/// are added instead), and where it comes from (`Origin` and `Referer` name the proxy,
/// whose address and, in a `Referer`, secret are nothing the server should see).
const CLIENT_ONLY: [HeaderName; 5] =
    [header::AUTHORIZATION, header::PROXY_AUTHORIZATION, header::COOKIE, header::ORIGIN, header::REFERER];

/// The server's headers that never reach the client: a challenge would make a browser
/// ask for a password (the proxy holds it), and the server's cookies belong to requests
/// the proxy makes, not to the client (whose cookies are never sent on).
const SERVER_ONLY: [HeaderName; 2] = [header::WWW_AUTHENTICATE, header::SET_COOKIE];

/// Whether a header of `headers` is hop-by-hop: one of [`HOP_BY_HOP`], or named by the
/// message's own `Connection` header. This runs for every header of every request and
/// answer: the `Connection` header is read once per message, and only the names it lists
/// beyond `close` and `keep-alive` (nearly always none) are compared as strings; the others
/// compare as `HeaderName`s (standard ones by their tag).
fn hop_by_hop(headers: &HeaderMap) -> impl Fn(&HeaderName) -> bool + '_ {
    let connection = headers.get_all(header::CONNECTION);
    let mut values = connection.iter();
    let only_keep_alive_or_close = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => {
            v.as_bytes().eq_ignore_ascii_case(b"keep-alive") || v.as_bytes().eq_ignore_ascii_case(b"close")
        }
        _ => false,
    };
    let listed: Vec<&str> = if only_keep_alive_or_close {
        Vec::new()
    } else {
        connection
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("close") && !n.eq_ignore_ascii_case("keep-alive"))
            .collect()
    };
    move |name| HOP_BY_HOP.contains(name) || listed.iter().any(|n| n.eq_ignore_ascii_case(name.as_str()))
}

/// The client's headers as sent on (without `Host`: the client sets the server's).
pub(crate) fn upstream_headers(client: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(client.len());
    let is_hop_by_hop = hop_by_hop(client);
    for (name, value) in client {
        if name == header::HOST || CLIENT_ONLY.contains(name) || is_hop_by_hop(name) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// The server's headers as passed back, in place.
pub(crate) fn downstream_headers(server: &mut HeaderMap) {
    let drop: Vec<HeaderName> = {
        let is_hop_by_hop = hop_by_hop(server);
        server.keys().filter(|name| SERVER_ONLY.contains(name) || is_hop_by_hop(name)).cloned().collect()
    };
    for name in drop {
        server.remove(name);
    }
}

/// The request target (`/path?query`) to send to the server for a request's `path` and
/// `query`: the proxy mirrors the server's paths (so the MLflow UI's absolute links work
/// under a sub-path), and forwards only what lies under the server's URL. `None` for
/// anything else (after `.` and `..` segments are resolved, as `url` resolves them), and
/// for an encoded `/` or `\` (`%2F`, `%5C`): a server that decodes them would resolve a
/// `..%2F` outside its sub-path; for `..;` (a `..` to servers that cut path parameters) and
/// an encoded NUL (`%00`, where some servers end the path). A path with no dot segment and no `\` goes as it came,
/// without a trip through `url` (the common case, on every request).
pub(crate) fn upstream_target(base: &Url, path: &str, query: Option<&str>) -> Option<String> {
    let bytes = path.as_bytes();
    let encoded = |at: usize| bytes.get(at + 1..at + 3).map(|h| [h[0], h[1].to_ascii_lowercase()]);
    let mut plain = true;
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'%' => match encoded(at) {
                Some([b'2', b'f'] | [b'5', b'c'] | [b'0', b'0']) => return None,
                Some([b'2', b'e']) => plain = false,
                _ => {}
            },
            b'\\' => plain = false,
            b'.' if at == 0 || bytes[at - 1] == b'/' => plain = false,
            _ => {}
        }
    }
    let resolved: std::borrow::Cow<'_, str> = if plain {
        path.into()
    } else {
        // `..;x` is `..` to servers that cut path parameters (Tomcat), not to `url`.
        let dots = path.to_ascii_lowercase().replace("%2e", ".");
        if dots.contains("/..;") {
            return None;
        }
        let mut url = base.clone();
        url.set_path(path);
        url.path().to_owned().into()
    };
    let prefix = base.path().trim_end_matches('/');
    let inside = prefix.is_empty()
        || resolved == prefix
        || resolved.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    if !inside {
        return None;
    }
    let mut target = String::with_capacity(resolved.len() + query.map_or(0, |q| q.len() + 1));
    target.push_str(&resolved);
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    Some(target)
}

/// The server's URL for a request target of [`upstream_target`].
pub(crate) fn target_url(base: &Url, target: &str) -> Url {
    let (path, query) = target.split_once('?').map_or((target, None), |(p, q)| (p, Some(q)));
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// A server's `Location` as the client should see it. A target on the server's origin is
/// rewritten to the proxy: an absolute path for the browser (cookie); for an API client,
/// a reference relative to its request, so the secret in its path is kept without being
/// written into the header. A target elsewhere is passed on as it is: the client follows
/// it on its own, with no credential of ours.
pub(crate) fn rewrite_location(
    location: &HeaderValue,
    asked: &Url,
    base: &Url,
    via: Via,
    client_path: &str,
) -> Option<HeaderValue> {
    let target = asked.join(location.to_str().ok()?).ok()?;
    if target.origin() != base.origin() {
        return Some(location.clone());
    }
    let mut rest = target.path().to_owned();
    if let Some(q) = target.query() {
        rest.push('?');
        rest.push_str(q);
    }
    if let Some(f) = target.fragment() {
        rest.push('#');
        rest.push_str(f);
    }
    let rewritten = match via {
        // One leading slash: `//host/...` would be a reference to another site.
        Via::Cookie => format!("/{}", rest.trim_start_matches('/')),
        Via::Secret => {
            let depth = client_path.matches('/').count().saturating_sub(1);
            format!("./{}{}", "../".repeat(depth), rest.trim_start_matches('/'))
        }
    };
    HeaderValue::from_str(&rewritten).ok()
}

/// An MLflow error code and the status the proxy answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 403: the caller did not prove it is the user.
    Forbidden,
    /// 400: the client's request could not be read.
    BadRequest,
    /// 404: outside the server's URL.
    NotFound,
    /// 405: a method or request target the proxy does not pass on.
    MethodNotAllowed,
    /// 401: no usable credential; a new login is the way out.
    LogInAgain,
    /// 502: the server could not be reached or answered wrongly.
    BadGateway,
    /// 503: the keychain or the identity provider did not give a credential; try later.
    Unavailable,
}

impl Refusal {
    fn status_and_code(self) -> (StatusCode, &'static str) {
        match self {
            Refusal::Forbidden => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            Refusal::BadRequest => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            Refusal::NotFound => (StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND"),
            Refusal::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST"),
            Refusal::LogInAgain => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            Refusal::BadGateway => (StatusCode::BAD_GATEWAY, "TEMPORARILY_UNAVAILABLE"),
            Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE"),
        }
    }

    /// The answer: `{"error_code": ..., "message": ...}`, as MLflow's own errors, so its
    /// clients show the message.
    pub(crate) fn answer(self, message: &str) -> Answer {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "error_code": code, "message": message }).to_string();
        let mut answer = hyper::Response::new(full(body));
        *answer.status_mut() = status;
        answer.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        answer.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        answer
    }
}

/// A request body sent in full.
pub(crate) fn full_upstream(body: Bytes) -> super::upstream::UpstreamBody {
    Full::new(body).map_err(|never| match never {}).boxed()
}

/// A body the proxy wrote itself.
pub(crate) fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into()).map_err(|never| match never {}).boxed_unsync()
}
