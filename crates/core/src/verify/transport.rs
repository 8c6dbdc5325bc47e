//! The HTTP side of a check: the request with its credentials, the capped body read, and
//! every echo of the credentials scrubbed from the answer. The client itself (TLS settings
//! per server) and transport errors as outcomes are `crate::http`'s.

use std::time::Duration;

use reqwest::Client;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use url::Url;
use zeroize::Zeroizing;

use super::classify::{Asked, Reply};
use super::{Outcome, Sent, VerifyOptions};
use crate::http::server_client;
use crate::secret::Secret;
use crate::server::{AuthKind, Server};

/// The credentials to send.
enum Auth<'a> {
    None,
    Basic { username: &'a str, password: &'a Secret },
    Bearer(HeaderValue),
}

/// A prepared check of one server: its client, tracking URL and credentials.
pub(crate) struct Check<'a> {
    client: Client,
    base: Url,
    auth: Auth<'a>,
    kind: AuthKind,
}

impl<'a> Check<'a> {
    /// Reads the TLS files and builds the client. Nothing is sent yet; a setting that
    /// cannot work comes back as its outcome.
    pub(crate) async fn new(
        server: &'a Server,
        secret: Option<&'a Secret>,
        opts: &VerifyOptions,
    ) -> Result<Self, Outcome> {
        let auth = auth(server, secret)?;
        let (client, base) = server_client(server, opts).await?;
        Ok(Check { client, base, auth, kind: server.auth })
    }

    /// The tracking URL.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// What a request carries.
    pub(crate) fn sent(&self) -> Sent {
        match self.auth {
            Auth::None => Sent::None,
            Auth::Basic { .. } => Sent::Basic,
            Auth::Bearer(_) => Sent::Bearer,
        }
    }

    /// What was asked, for classifying the answer to `url`.
    pub(crate) fn asked<'u>(&'u self, url: &'u Url) -> Asked<'u> {
        Asked { base: &self.base, url, sent: self.sent(), auth: self.kind }
    }

    /// `GET url` with the credentials; reads at most `cap` body bytes. Only URLs on the
    /// tracking URL's origin are ever passed here.
    pub(crate) async fn get(&self, url: &Url, timeout: Duration, cap: usize) -> Result<Reply, reqwest::Error> {
        debug_assert_eq!(url.origin(), self.base.origin(), "credentials go to the tracking URL's origin only");
        let request = self.client.get(url.clone()).header(ACCEPT, "application/json").timeout(timeout);
        let request = match &self.auth {
            Auth::None => request,
            // reqwest encodes `username:password` as UTF-8, then base64, and marks the
            // header sensitive.
            Auth::Basic { username, password } => request.basic_auth(username, Some(password.expose())),
            Auth::Bearer(value) => request.header(AUTHORIZATION, value.clone()),
        };
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await? {
            let room = cap.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let mut reply = Reply { status, headers, body, truncated };
        self.auth.scrub(&mut reply);
        Ok(reply)
    }
}

impl Auth<'_> {
    /// The forms of the credentials a server could send back: the password or token as
    /// sent, the Basic header's base64, and the password percent-encoded. Forms shorter
    /// than 4 bytes are left alone (they would blank out ordinary text, and show nothing).
    fn echoes(&self) -> Vec<Vec<u8>> {
        let mut forms = match self {
            Auth::None => Vec::new(),
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                vec![
                    password.expose().as_bytes().to_vec(),
                    crate::text::base64(pair.as_bytes()).into_bytes(),
                    url::form_urlencoded::byte_serialize(password.expose().as_bytes()).collect::<String>().into_bytes(),
                ]
            }
            Auth::Bearer(value) => {
                let token = value.as_bytes().strip_prefix(b"Bearer ").unwrap_or(value.as_bytes());
                vec![token.to_vec()]
            }
        };
        forms.retain(|f| f.len() >= 4);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        forms
    }

    /// Replaces every echo of the credentials in the reply's headers and body, before
    /// anything classifies or shows it: a hostile or careless server that puts the
    /// password into a `Location`, a realm or an error page never gets it on screen.
    fn scrub(&self, reply: &mut Reply) {
        let forms = self.echoes();
        if forms.is_empty() {
            return;
        }
        if let Some(body) = scrubbed(&reply.body, &forms) {
            reply.body = body;
        }
        for value in reply.headers.values_mut() {
            if let Some(clean) = scrubbed(value.as_bytes(), &forms)
                && let Ok(v) = HeaderValue::from_bytes(&clean)
            {
                *value = v;
            }
        }
    }
}

/// `bytes` with every occurrence of each form replaced by `[REDACTED]`; `None` when none
/// occurs.
fn scrubbed(bytes: &[u8], forms: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut out = bytes.to_vec();
    let mut changed = false;
    for form in forms {
        let mut i = 0;
        let mut next = Vec::with_capacity(out.len());
        while i < out.len() {
            if out[i..].starts_with(form) {
                next.extend_from_slice(b"[REDACTED]");
                i += form.len();
                changed = true;
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    changed.then_some(out)
}

fn auth<'a>(server: &'a Server, secret: Option<&'a Secret>) -> Result<Auth<'a>, Outcome> {
    Ok(match (server.auth, secret, server.username.as_deref()) {
        (_, None, _) | (AuthKind::Basic, _, None) => Auth::None,
        (AuthKind::Basic, Some(password), Some(username)) => Auth::Basic { username, password },
        // Single sign-on: the caller passes the (fresh) access token.
        (AuthKind::Bearer | AuthKind::Sso, Some(token), _) => {
            let text = Zeroizing::new(format!("Bearer {}", token.expose()));
            let mut value = HeaderValue::from_str(&text).map_err(|_| Outcome::UnusableSecret {
                detail: "it holds a character an HTTP header cannot carry (a line break or control character)".into(),
            })?;
            value.set_sensitive(true);
            Auth::Bearer(value)
        }
    })
}
