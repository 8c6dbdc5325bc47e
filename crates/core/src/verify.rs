//! The verifier: one HTTP request that tells whether a server accepts the credentials.
//!
//! [`verify`] sends `GET {url}/api/2.0/mlflow/experiments/search?max_results=1` with the
//! server's credentials (Basic or Bearer), `Accept: application/json`, no redirect followed
//! and no retry, within the connect and total timeouts of [`VerifyOptions`], and reads at
//! most `body_cap` bytes of the answer. The answer (or the transport error) is classified
//! into an [`Outcome`] that says what happened in a data scientist's words, what to do,
//! and which login-form field to fix (PRODUCT.md, "Verification"). The classification
//! knows what MLflow itself answers (its basic-auth app's 401 and 403 bodies, its host
//! check's 403) so it can tell MLflow from the proxy in front of it.
//!
//! Follow-up requests go only to the configured URL's origin, never with a downgraded
//! scheme: after a success, `{url}/version` (the server version) and `{url}/api/2.0/mlflow/
//! users/current` (the identity the server sees, [`Identity`]) at once, so they add one
//! round trip; after MLflow's own 403, the identity alone (it tells a user without
//! permission from a wrong path); after a 404, the same API one path level up or down
//! (`/mlflow`) to suggest a URL. A follow-up never changes a verdict to worse.
//!
//! Without a secret no `Authorization` header is sent; the check still runs, which tests
//! the URL, and a 401 then says that no password was sent ([`Sent::None`]).
//!
//! Each call builds its own HTTP client ([`crate::http`], with the server's CA bundle,
//! client certificate and insecure flag) on tokio's blocking pool, since loading the OS trust store is
//! blocking work; concurrent checks of several servers share nothing and take about the
//! time of the slowest. The OS trust store is used through rustls-platform-verifier, with
//! the CA bundle added to it; the system proxy (`HTTPS_PROXY`, `NO_PROXY`) is honoured.
//! Must run inside a tokio runtime (as reqwest does).
//!
//! Server-supplied text that ends up in an outcome (realm, redirect target, error details)
//! is stripped of control characters and shortened, so it is safe to print. No outcome
//! holds the password or the `Authorization` header.
//!
//! Where the parts live: the outcomes and their wording in [`crate::outcome`], the client
//! and transport errors in [`crate::http`], the request with its credentials in
//! `transport`, the reading of an answer in `classify`, the identity in `identity`.

pub(crate) mod classify;
pub(crate) mod identity;
pub(crate) mod transport;

pub use identity::Identity;

// Front ends name the outcomes and the options as the verifier's.
pub use crate::http::VerifyOptions;
pub use crate::outcome::{
    ForbiddenReason, LooksLike, Outcome, OutcomeClass, OutcomeKind, RefusedBy, Sent, TlsFile, TlsFix, TlsProblem,
    UnreachableReason,
};

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::http;
use crate::secret::Secret;
use crate::server::Server;

/// The API path every MLflow 2.x and 3.x server serves, read-only.
pub(crate) const API_PATH: &str = "/api/2.0/mlflow/experiments/search";

/// Longest wait for each best-effort follow-up request (`/version`, the 404 probe).
const FOLLOW_UP_TIMEOUT: Duration = Duration::from_secs(3);

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// What happened.
    pub outcome: Outcome,
    /// Time to the response (or failure), in milliseconds.
    pub latency_ms: u64,
    /// The server's MLflow version, from `/version`, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The account the server says the credentials belong to, when it has an API for it
    /// (MLflow's basic-auth app, mlflow-oidc-auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl Verification {
    /// A verification without follow-up facts.
    pub fn new(outcome: Outcome, latency_ms: u64) -> Self {
        Self { outcome, latency_ms, server_version: None, identity: None }
    }

    /// How the outcome counts (shorthand for `self.outcome.class()`).
    pub fn class(&self) -> OutcomeClass {
        self.outcome.class()
    }
}

/// Checks the credentials against the server. Never panics, never follows a redirect.
///
/// With `secret` `None`, no credentials are sent (see the module docs). Returns within
/// about twice `total_timeout`: the identity after a 200 or a 403 gets as long as the
/// check itself; the other follow-ups at most 3 s.
pub async fn verify(server: &Server, secret: Option<&Secret>, opts: &VerifyOptions) -> Verification {
    let check = match transport::Check::new(server, secret, opts).await {
        Ok(check) => check,
        Err(outcome) => return Verification::new(outcome, 0),
    };
    let url = api_url(check.base());
    let start = Instant::now();
    // reqwest enforces the total timeout itself; this outer bound is a backstop (e.g. a
    // system proxy lookup that hangs) so that no caller ever waits much longer.
    let backstop = opts.total_timeout + Duration::from_millis(500);
    let reply = tokio::time::timeout(backstop, check.get(&url, opts.total_timeout, opts.body_cap)).await;
    let latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let reply = match reply {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => {
            return Verification::new(http::classify_error(&err, &url), latency_ms);
        }
        Err(_elapsed) => {
            let detail = format!("no complete answer within {} ms", backstop.as_millis());
            return Verification::new(Outcome::Unreachable { reason: UnreachableReason::Timeout, detail }, latency_ms);
        }
    };
    let mut outcome = classify::classify(check.asked(&url), &reply);
    let follow_up = opts.total_timeout.min(FOLLOW_UP_TIMEOUT);
    let (mut server_version, mut identity) = (None, None);
    let identity_url = http::endpoint(check.base(), identity::PATH, None);
    // The identity is shown as prominently as the verdict: it gets the main request's
    // time, not the shorter bound of a nice-to-have (a loaded auth app spends most of a
    // request hashing the password).
    let who = async || {
        let limit = opts.total_timeout;
        bounded(limit, check.get(&identity_url, limit, identity::BODY_CAP))
            .await
            .and_then(|reply| identity::parse(&reply))
    };
    match &mut outcome {
        Outcome::Ok => {
            let version_url = http::endpoint(check.base(), "/version", None);
            let version = async {
                bounded(follow_up, check.get(&version_url, follow_up, 256)).await.and_then(|r| classify::version(&r))
            };
            (server_version, identity) = tokio::join!(version, who());
            if let Some(id) = identity.as_mut()
                && id.is_admin != Some(true)
            {
                id.reads_experiments = Some(identity::lists_experiments(&reply));
            }
        }
        Outcome::Forbidden { reason } if *reason == ForbiddenReason::MlflowPermission => {
            identity = who().await;
            if identity.is_some() {
                *reason = ForbiddenReason::NotPermitted;
            }
        }
        Outcome::WrongPath { suggested_url } => {
            // Same origin, same credentials: one probe one path level up or down.
            let alternative = classify::alternative_base(check.base());
            let probe = api_url(&alternative);
            if let Some(reply) = bounded(follow_up, check.get(&probe, follow_up, opts.body_cap)).await
                && classify::looks_like_mlflow_api(&reply)
            {
                *suggested_url = classify::tracking_url(&alternative);
            }
        }
        _ => {}
    }
    Verification { outcome, latency_ms, server_version, identity }
}

/// The API URL under a tracking URL.
fn api_url(base: &url::Url) -> url::Url {
    http::endpoint(base, API_PATH, Some("max_results=1"))
}

/// A follow-up request's reply, or `None` on any failure or after `limit`.
async fn bounded(
    limit: Duration,
    request: impl Future<Output = Result<classify::Reply, reqwest::Error>>,
) -> Option<classify::Reply> {
    tokio::time::timeout(limit + Duration::from_millis(200), request).await.ok()?.ok()
}
