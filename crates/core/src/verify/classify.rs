//! From an HTTP answer to an [`Outcome`]: pure functions, no I/O.
//!
//! What MLflow itself answers was read in MLflow 3.17.2's source:
//! - `mlflow/server/auth/__init__.py` `make_basic_auth_response`: 401, `WWW-Authenticate:
//!   Basic realm="mlflow"`, body "You are not authenticated. Please see
//!   `https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow` on how
//!   to authenticate." (the FastAPI middleware sends the same text);
//! - same file, `make_forbidden_response`: 403, body exactly "Permission denied" — also
//!   the fail-closed answer (`MLFLOW_BASIC_AUTH_FAIL_CLOSED`) to a path it does not know;
//! - `mlflow/server/security_utils.py` `INVALID_HOST_MSG`: 403, body "Invalid Host header -
//!   possible DNS rebinding attack detected" (`/health` and `/version` are exempt).

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use serde::de::IgnoredAny;
use url::Url;

use super::{API_PATH, ForbiddenReason, LooksLike, Outcome, RefusedBy, Sent, TlsFix, TlsProblem};
use crate::server::{AuthKind, normalize_url};
use crate::text::clean;

/// The start of the body of MLflow's basic-auth app's 401.
const MLFLOW_401_BODY: &str = "You are not authenticated";
/// The body of MLflow's basic-auth app's 403.
const MLFLOW_403_BODY: &str = "Permission denied";
/// Part of the body of MLflow's host check's 403.
const MLFLOW_HOST_CHECK_BODY: &str = "Invalid Host header";
/// nginx's 400 to plain HTTP on an `ssl` port (lower-cased).
const NGINX_PLAIN_HTTP_BODY: &str = "plain http request was sent to https port";

/// One HTTP answer, with at most the body cap read.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// The body was longer than the cap.
    pub(crate) truncated: bool,
}

/// What was asked, for classifying the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    /// The tracking URL.
    pub(crate) base: &'a Url,
    /// The URL requested.
    pub(crate) url: &'a Url,
    /// What the request carried.
    pub(crate) sent: Sent,
    /// What the server is set up for.
    pub(crate) auth: AuthKind,
}

/// Classifies the answer to the API request.
pub(crate) fn classify(asked: Asked<'_>, reply: &Reply) -> Outcome {
    match reply.status {
        200 if is_json_object(reply) => Outcome::Ok,
        200..=299 => Outcome::NotMlflow {
            status: reply.status,
            location: None,
            suggested_url: None,
            looks_like: looks_like(reply),
        },
        300..=399 => redirect(asked, reply),
        400 if body_text(reply).to_lowercase().contains(NGINX_PLAIN_HTTP_BODY) => Outcome::Tls {
            problem: TlsProblem::PlainHttpToHttpsPort,
            fix: TlsFix::UseHttps,
            suggested_url: with_scheme(asked.base, "https"),
            detail: "the server answered 400: The plain HTTP request was sent to HTTPS port".into(),
        },
        401 => unauthorized(asked, reply),
        403 => Outcome::Forbidden { reason: forbidden_reason(reply) },
        404 => Outcome::WrongPath { suggested_url: None },
        502..=504 => Outcome::ServerDown { status: reply.status },
        status => Outcome::UnexpectedStatus { status },
    }
}

/// Whether a follow-up probe found MLflow's API: a JSON object, or MLflow's own 401.
pub(crate) fn looks_like_mlflow_api(reply: &Reply) -> bool {
    match reply.status {
        200 => is_json_object(reply),
        401 => challenges(&reply.headers).iter().any(|c| c.is_basic() && is_mlflow_401(c, reply)),
        _ => false,
    }
}

/// The server version from a `/version` answer: a short version-like text, or nothing.
pub(crate) fn version(reply: &Reply) -> Option<String> {
    if reply.status != 200 || reply.truncated {
        return None;
    }
    let text = std::str::from_utf8(&reply.body).ok()?.trim();
    let ok = (1..=64).contains(&text.len())
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'));
    ok.then(|| text.to_string())
}

/// Where else to look after a 404: `/mlflow` under a bare host, else the host's root.
pub(crate) fn alternative_base(base: &Url) -> Url {
    let mut alt = base.clone();
    alt.set_path(if base.path().trim_end_matches('/').is_empty() { "/mlflow" } else { "/" });
    alt
}

/// The normalised tracking URL for `url` (as the config stores it).
pub(crate) fn tracking_url(url: &Url) -> Option<String> {
    normalize_url(url.as_str()).ok().map(|u| u.to_string_normalized())
}

/// The tracking URL with another scheme (the port is kept when it is not the default).
fn with_scheme(base: &Url, scheme: &str) -> Option<String> {
    let mut url = base.clone();
    url.set_scheme(scheme).ok()?;
    tracking_url(&url)
}

fn body_text(reply: &Reply) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&reply.body)
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body)
}

fn header_text(reply: &Reply, name: reqwest::header::HeaderName) -> Option<&str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_json_content_type(reply: &Reply) -> bool {
    header_text(reply, CONTENT_TYPE).is_some_and(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("application/json") || ct.contains("+json")
    })
}

/// A body that parses as a JSON object (even `{}`), whatever the content type says. A
/// body cut at the cap counts when it is declared JSON and starts as an object.
fn is_json_object(reply: &Reply) -> bool {
    let body = strip_bom(&reply.body);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => value.is_object(),
        Err(_) => reply.truncated && is_json_content_type(reply) && body.trim_ascii_start().starts_with(b"{"),
    }
}

fn looks_like(reply: &Reply) -> LooksLike {
    let body = strip_bom(&reply.body).trim_ascii();
    if body.is_empty() {
        return LooksLike::Empty;
    }
    if header_text(reply, CONTENT_ENCODING).is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity")) {
        return LooksLike::Binary;
    }
    // A body cut at the cap may end inside a UTF-8 sequence: judge the valid prefix.
    let text = match std::str::from_utf8(body) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&body[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let content_type = header_text(reply, CONTENT_TYPE).unwrap_or_default().to_ascii_lowercase();
    let lower = text.map(str::to_lowercase);
    let html = content_type.starts_with("text/html")
        || content_type.starts_with("application/xhtml")
        || lower
            .as_deref()
            .is_some_and(|t| ["<!doctype html", "<html", "<head", "<body"].iter().any(|p| t.starts_with(p)));
    if html {
        return if lower.as_deref().is_some_and(is_login_page) { LooksLike::LoginPage } else { LooksLike::WebPage };
    }
    if serde_json::from_slice::<IgnoredAny>(body).is_ok() {
        return LooksLike::Json;
    }
    match text {
        Some(_) => LooksLike::Text,
        None => LooksLike::Binary,
    }
}

fn is_login_page(lower_html: &str) -> bool {
    [
        "type=\"password\"",
        "type='password'",
        "type=password",
        "sign in",
        "sign-in",
        "signin",
        "log in",
        "login",
        "single sign-on",
    ]
    .iter()
    .any(|needle| lower_html.contains(needle))
}

fn is_login_url(url: &str) -> bool {
    let lower = url.to_lowercase();
    ["login", "signin", "sign-in", "sign_in", "sso", "oauth", "saml", "openid", "auth"]
        .iter()
        .any(|n| lower.contains(n))
}

fn redirect(asked: Asked<'_>, reply: &Reply) -> Outcome {
    let status = reply.status;
    let Some(raw) = header_text(reply, LOCATION).map(str::trim).filter(|l| !l.is_empty()) else {
        return Outcome::NotMlflow { status, location: None, suggested_url: None, looks_like: LooksLike::Redirect };
    };
    let Ok(mut target) = asked.url.join(raw) else {
        let looks_like = if is_login_url(raw) { LooksLike::LoginPage } else { LooksLike::Redirect };
        return Outcome::NotMlflow { status, location: Some(clean(raw, 300)), suggested_url: None, looks_like };
    };
    // Not ours, but never echo credentials a server put in a URL.
    let _ = target.set_username("");
    let _ = target.set_password(None);
    let location = clean(target.as_str(), 300);
    let same_host = target.host_str().map(str::to_ascii_lowercase) == asked.url.host_str().map(str::to_ascii_lowercase);
    if asked.url.scheme() == "http" && target.scheme() == "https" && same_host {
        let suggested = api_base(&target).or_else(|| {
            let mut url = asked.base.clone();
            url.set_scheme("https").ok()?;
            url.set_port(target.port()).ok()?;
            tracking_url(&url)
        });
        if let Some(suggested_url) = suggested {
            return Outcome::UseHttps { location, suggested_url };
        }
    }
    let downgrade = asked.url.scheme() == "https" && target.scheme() != "https";
    let suggested_url =
        api_base(&target).filter(|s| !downgrade && Some(s.as_str()) != tracking_url(asked.base).as_deref());
    let looks_like = if is_login_url(target.as_str()) { LooksLike::LoginPage } else { LooksLike::Redirect };
    Outcome::NotMlflow { status, location: Some(location), suggested_url, looks_like }
}

/// The tracking URL whose API a redirect target is, when it ends with MLflow's API path.
fn api_base(target: &Url) -> Option<String> {
    if !matches!(target.scheme(), "http" | "https") {
        return None;
    }
    let prefix = target.path().strip_suffix(API_PATH)?;
    let mut base = target.clone();
    base.set_path(if prefix.is_empty() { "/" } else { prefix });
    base.set_query(None);
    base.set_fragment(None);
    tracking_url(&base)
}

fn unauthorized(asked: Asked<'_>, reply: &Reply) -> Outcome {
    let challenges = challenges(&reply.headers);
    let realm = |c: &Challenge| c.realm.as_deref().map(|r| clean(r, 100));
    if let Some(basic) = challenges.iter().find(|c| c.is_basic()) {
        let refused_by = if is_mlflow_401(basic, reply) { RefusedBy::Mlflow } else { RefusedBy::Proxy };
        return Outcome::BadCredentials { refused_by, realm: realm(basic), sent: asked.sent };
    }
    let bearer = challenges.iter().find(|c| c.scheme.eq_ignore_ascii_case("bearer"));
    if let Some(bearer) = bearer
        && asked.auth.uses_token()
    {
        return Outcome::BadCredentials { refused_by: RefusedBy::Server, realm: realm(bearer), sent: asked.sent };
    }
    Outcome::OtherAuthScheme { scheme: challenges.first().map(|c| clean(&c.scheme, 40)) }
}

fn is_mlflow_401(basic: &Challenge, reply: &Reply) -> bool {
    basic.realm.as_deref().is_some_and(|r| r.eq_ignore_ascii_case("mlflow"))
        && body_text(reply).contains(MLFLOW_401_BODY)
}

fn forbidden_reason(reply: &Reply) -> ForbiddenReason {
    let text = body_text(reply);
    if text.contains(MLFLOW_HOST_CHECK_BODY) {
        return ForbiddenReason::HostCheck;
    }
    let mlflow_error_code = serde_json::from_slice::<serde_json::Value>(strip_bom(&reply.body))
        .ok()
        .and_then(|v| v.get("error_code").and_then(|c| c.as_str()).map(|c| c == "PERMISSION_DENIED"));
    if text.trim() == MLFLOW_403_BODY || mlflow_error_code == Some(true) {
        return ForbiddenReason::MlflowPermission;
    }
    ForbiddenReason::Proxy
}

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    pub(crate) realm: Option<String>,
    /// Every auth-param, the realm too, names lower-cased, values unquoted (the single
    /// sign-on discovery reads a Bearer challenge's `resource_metadata`, RFC 9728 §5.1).
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    fn is_basic(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("basic")
    }

    /// The first auth-param named `name` (lower-case).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The challenges of all `WWW-Authenticate` headers (RFC 9110 §11.6.1), leniently parsed.
/// Bounded: at most 16 headers of 4 KiB each are looked at.
pub(crate) fn challenges(headers: &HeaderMap) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in headers.get_all(WWW_AUTHENTICATE).iter().take(16) {
        let bytes = value.as_bytes();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        parse_challenges(&text, &mut out);
    }
    out
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses `Basic realm="a, b", charset="UTF-8", Bearer realm=x, Negotiate`.
pub(crate) fn parse_challenges(header: &str, out: &mut Vec<Challenge>) {
    // Split on commas outside quoted strings.
    let mut parts = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in header.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                current.push(c);
            }
            '\\' if quoted => {
                escaped = true;
                current.push(c);
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);

    for part in parts {
        let part = part.trim();
        let token_len = part.find(|c: char| !is_tchar(c)).unwrap_or(part.len());
        if token_len == 0 {
            continue;
        }
        let (token, rest) = part.split_at(token_len);
        let rest = rest.trim_start();
        let param = if let Some(value) = rest.strip_prefix('=') {
            // An auth-param of the current challenge: `name=value`.
            Some((token, value))
        } else {
            out.push(Challenge { scheme: token.to_string(), realm: None, params: Vec::new() });
            // The challenge's first auth-param, if any (a token68 has no name: ignored).
            rest.find('=').map(|eq| (rest[..eq].trim(), &rest[eq + 1..]))
        };
        if let (Some((name, value)), Some(challenge)) = (param, out.last_mut()) {
            let value = unquote(value.trim());
            if name.eq_ignore_ascii_case("realm") && challenge.realm.is_none() {
                challenge.realm = Some(value.clone());
            }
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
    }
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The schemes and realms.
    fn parse(header: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        parse_challenges(header, &mut out);
        out.into_iter().map(|c| (c.scheme, c.realm)).collect()
    }

    fn ch(scheme: &str, realm: Option<&str>) -> (String, Option<String>) {
        (scheme.into(), realm.map(Into::into))
    }

    #[test]
    fn keeps_every_param() {
        let mut out = Vec::new();
        let header = r#"Bearer realm="x", error="invalid_token", resource_metadata="https://h/.well-known/oauth-protected-resource", Basic"#;
        parse_challenges(header, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].param("error"), Some("invalid_token"));
        assert_eq!(out[0].param("resource_metadata"), Some("https://h/.well-known/oauth-protected-resource"));
        assert_eq!(out[0].param("realm"), Some("x"));
        assert!(out[1].params.is_empty());
        out.clear();
        parse_challenges("Bearer Resource_Metadata=unquoted", &mut out);
        assert_eq!(out[0].param("resource_metadata"), Some("unquoted"));
    }

    #[test]
    fn parses_challenges() {
        assert_eq!(parse(r#"Basic realm="mlflow""#), vec![ch("Basic", Some("mlflow"))]);
        assert_eq!(parse(r#"Basic realm="MLflow proxy""#), vec![ch("Basic", Some("MLflow proxy"))]);
        assert_eq!(parse("basic realm=x"), vec![ch("basic", Some("x"))]);
        assert_eq!(
            parse(r#"Bearer realm="a, b", error="invalid_token", Basic realm="y\"z", charset="UTF-8""#),
            vec![ch("Bearer", Some("a, b")), ch("Basic", Some("y\"z"))]
        );
        assert_eq!(parse("Negotiate"), vec![ch("Negotiate", None)]);
        assert_eq!(parse("Negotiate abc=="), vec![ch("Negotiate", None)]);
        assert_eq!(parse("Basic"), vec![ch("Basic", None)]);
        assert_eq!(parse("Basic realm = \"spaced\""), vec![ch("Basic", Some("spaced"))]);
        assert!(parse("").is_empty());
        assert!(parse(" , ,, \"").is_empty());
        // Hostile: unterminated quotes, no panics.
        assert_eq!(parse("Basic realm=\"abc"), vec![ch("Basic", Some("abc"))]);
        assert_eq!(parse("Basic realm=\"abc\\"), vec![ch("Basic", Some("abc"))]);
    }

    #[test]
    fn versions() {
        let reply = |status, body: &str| Reply {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            truncated: false,
        };
        assert_eq!(version(&reply(200, "3.17.2")), Some("3.17.2".into()));
        assert_eq!(version(&reply(200, " 2.9.0rc1\n")), Some("2.9.0rc1".into()));
        assert_eq!(version(&reply(200, "<html>3.1</html>")), None);
        assert_eq!(version(&reply(200, "")), None);
        assert_eq!(version(&reply(200, "latest")), None);
        assert_eq!(version(&reply(404, "3.17.2")), None);
        assert_eq!(version(&reply(200, &"1".repeat(65))), None);
    }

    #[test]
    fn alternative_bases() {
        let alt = |u: &str| tracking_url(&alternative_base(&Url::parse(u).unwrap()));
        assert_eq!(alt("https://h/").as_deref(), Some("https://h/mlflow"));
        assert_eq!(alt("https://h:8443/ml").as_deref(), Some("https://h:8443"));
    }
}
