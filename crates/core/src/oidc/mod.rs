//! Single sign-on: the OpenID Connect client.
//!
//! Four calls, each bounded, none printing (and [`hints`], discovery's first half, for a
//! dialog that lets the user edit what was found):
//! - [`discover`]: from the MLflow server to its identity provider (RFC 9728 protected-
//!   resource metadata, or an oauth2-proxy style redirect; see the `discovery` docs), then
//!   OIDC discovery for the endpoints and signing keys. Nothing secret is sent.
//! - [`login`]: the browser flow (authorization code + PKCE S256, a loopback redirect on
//!   `127.0.0.1` with a port the kernel picks, RFC 8252) or the device flow (RFC 8628).
//!   Core never opens a browser nor prints: it hands the URL or the user code to the
//!   caller's [`Interaction`] (the CLI prints and runs `$BROWSER`, the tray shows a
//!   dialog), and waits, bounded by [`LoginOptions::timeout`] and the caller's cancel
//!   future. The result is a [`TokenSet`].
//! - [`refresh_locked`]: a fresh access token from the keychain, refreshed when near
//!   expiry ([`TokenSet::refresh_margin`]), one refresh across all processes (a file lock,
//!   then a second read of the keychain); an `invalid_grant` is [`ErrorKind::LoginRequired`].
//! - [`revoke`]: RFC 7009 revocation of the refresh token, for `logout`.
//!
//! The protocols are `openidconnect` 4 / `oauth2` 5 (PKCE, `state`/`nonce` from the OS
//! CSPRNG, ID token signature and claims, device polling with `slow_down`), driven through
//! their async HTTP-client trait over the verifier's reqwest client: the server's TLS
//! settings apply, no redirect is followed, answers are capped. Tokens leave this module
//! only inside [`TokenSet`] (one [`crate::Secret`] in the keychain); no error message
//! holds a token or a code.
//!
//! [`ErrorKind::LoginRequired`]: crate::ErrorKind::LoginRequired

mod discovery;
mod http;
mod login;
mod loopback;
mod refresh;
pub(crate) mod tokens;
pub mod trust;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::Duration;

pub use discovery::{Hints, Overrides, Provider, Source};
pub use refresh::{RefreshOptions, Refreshed, Revoked, refresh_locked, refresh_locked_from, revoke};
pub(crate) use refresh::{hold, hold_blocking};
pub(crate) use tokens::now_unix;
pub use tokens::{Fingerprint, MAX_REFRESH_MARGIN_SECS, TokenSet};

use crate::error::{Error, Result};
use crate::server::Server;

/// How the user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Authorization code + PKCE in a browser on this machine, back to a loopback listener.
    Browser,
    /// The device flow: a code entered on any device (SSH sessions, no display).
    Device,
}

impl Flow {
    /// The flow to use when the user did not choose: the device flow over SSH
    /// (`SSH_CONNECTION`: a browser would open on the far side, if at all) or without a
    /// display, else the browser.
    pub fn for_environment() -> Flow {
        let ssh = std::env::var_os("SSH_CONNECTION").is_some_and(|v| !v.is_empty());
        Flow::choose(ssh, crate::vault::can_prompt())
    }

    /// The flow of a login: the one the user asked for (the CLI's `--device`, or
    /// `--no-browser`, which is the browser flow with the URL printed and no browser
    /// started: over SSH with `ssh -L` and `--redirect-port`, the only way to the browser
    /// flow), else [`Flow::for_environment`]. The environment chooses only the default.
    pub fn asked_or_default(asked: Option<Flow>) -> Flow {
        asked.unwrap_or_else(Flow::for_environment)
    }

    /// [`Flow::for_environment`]'s rule.
    pub fn choose(ssh: bool, display: bool) -> Flow {
        if ssh || !display { Flow::Device } else { Flow::Browser }
    }
}

/// What core asks the front end to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt<'a> {
    /// Before anything opens: where the user is about to sign in, and for which server
    /// ("signing in at ISSUER for HOST"), so a lookalike server or identity provider shows
    /// before a password is typed. Both are cleaned for display.
    SigningIn {
        /// The identity provider's issuer.
        issuer: &'a str,
        /// The MLflow server's host (and port).
        host: &'a str,
    },
    /// Open `url` in the user's browser, and show it (to copy) in case that fails.
    OpenBrowser {
        /// The provider's authorization URL for this login.
        url: &'a str,
    },
    /// Show where to go and the code to enter.
    DeviceCode {
        /// The verification URL (`verification_uri`).
        verification_uri: &'a str,
        /// The same with the code filled in, when the provider gives one.
        verification_uri_complete: Option<&'a str>,
        /// The code to enter.
        user_code: &'a str,
        /// How long the code is valid.
        expires_in: Duration,
    },
}

/// The front end's side of a login.
pub trait Interaction: Send + Sync {
    /// Shows the prompt (and for [`Prompt::OpenBrowser`], starts the browser). Must return
    /// promptly: start the browser and do not wait for it, since the login completes only
    /// while core serves the redirect. A browser that fails to open is the front end's to
    /// report; core keeps waiting for the user to open the URL by hand, until the timeout.
    fn show(&self, prompt: Prompt<'_>);
}

/// Limits of a login.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// The longest wait for the user (the browser's redirect, the device code's entry).
    pub timeout: Duration,
    /// The longest wait for one answer of the provider or the server.
    pub request_timeout: Duration,
    /// The browser flow's loopback port; `None`: a port the kernel picks. [`crate::log_in_sso`]
    /// sets it from the server's settings ([`crate::SsoSettings::redirect_port`]).
    pub redirect_port: Option<u16>,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(300), request_timeout: Duration::from_secs(15), redirect_port: None }
    }
}

/// Finds the identity provider of `server` (unless [`Overrides`] name it) and reads its
/// metadata. Uses the server's TLS settings for every request; sends no credentials.
///
/// Errors: [`Error::InvalidInput`] with field `issuer` or `client_id` when it cannot be
/// found (the message names the flag to pass); [`crate::ErrorKind::IdpUnreachable`];
/// [`crate::ErrorKind::IdentityProvider`] for metadata that does not fit.
pub async fn discover(server: &Server, overrides: &Overrides, opts: &LoginOptions) -> Result<Provider> {
    let http = http::Http::for_server(server, opts.request_timeout).await?;
    let base = server.parsed_url()?;
    discovery::discover_with(http, &base, overrides).await
}

/// Only what the server tells about its identity provider, without OIDC discovery and
/// without failing when something is missing: for a dialog to fill its issuer and client
/// id fields, which the user may then edit and pass to [`discover`] as [`Overrides`].
pub async fn hints(server: &Server, opts: &LoginOptions) -> Result<Hints> {
    let http = http::Http::for_server(server, opts.request_timeout).await?;
    discovery::locate(&http, &server.parsed_url()?).await
}

/// Signs in with `flow`. Ends with the token set, or an error: [`Error::TimedOut`] after
/// `opts.timeout`, [`Error::Cancelled`] as soon as `cancel` completes,
/// [`crate::ErrorKind::IdentityProvider`] when the provider refused (`access_denied`, a
/// bad ID token). Nothing is stored: the caller verifies the access token against the
/// server, then stores [`TokenSet::to_secret`].
pub async fn login(
    provider: &Provider,
    flow: Flow,
    ui: &dyn Interaction,
    cancel: impl Future<Output = ()>,
    opts: &LoginOptions,
) -> Result<TokenSet> {
    let run = async {
        match flow {
            Flow::Browser => login::browser(provider, ui, opts.redirect_port).await,
            Flow::Device => login::device(provider, ui).await,
        }
    };
    let what = match flow {
        Flow::Browser => "the sign-in in the browser",
        Flow::Device => "the sign-in with the device code",
    };
    tokio::select! {
        result = tokio::time::timeout(opts.timeout, run) => result.unwrap_or_else(|_| {
            // Device polls that stopped getting through say so rather than "timed out".
            Err(match (flow, provider.http.last_error()) {
                (Flow::Device, Some(unreachable)) => unreachable.into(),
                _ => Error::TimedOut { what, seconds: opts.timeout.as_secs() },
            })
        }),
        () = cancel => Err(Error::Cancelled),
    }
}
