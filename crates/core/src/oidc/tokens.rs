//! The token set: what a single sign-on login leaves in the keychain, as one [`Secret`]
//! holding a small JSON object.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest margin before expiry at which an access token counts as near expiry.
pub const MAX_REFRESH_MARGIN_SECS: u64 = 60;

/// A login's tokens and what is needed to refresh and revoke them without discovery.
///
/// Stored in the keychain as one [`Secret`] ([`TokenSet::to_secret`]); never written
/// anywhere else. `Debug` shows the times, issuer and client but not the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token (`MLFLOW_TRACKING_TOKEN`).
    pub access_token: Secret,
    /// The refresh token, when the identity provider issued one (`offline_access`).
    pub refresh_token: Option<Secret>,
    /// When the access token expires (Unix seconds), when the provider said (`expires_in`).
    pub expires_at: Option<u64>,
    /// When the access token was obtained (Unix seconds).
    pub obtained_at: u64,
    /// The identity provider (its issuer identifier).
    pub issuer: String,
    /// The OAuth client the tokens were issued to.
    pub client_id: String,
    /// The scopes granted (or asked for, when the provider did not say).
    pub scopes: Vec<String>,
    /// The provider's token endpoint, from discovery at login (refreshing needs no
    /// discovery, so a shell or Python process refreshes with one request).
    pub token_endpoint: String,
    /// The provider's revocation endpoint (RFC 7009), when it offers one.
    pub revocation_endpoint: Option<String>,
    /// The resource indicator (RFC 8707) sent with every grant, when the server named one
    /// in its protected-resource metadata.
    pub resource: Option<String>,
}

/// The JSON form written: borrowed, so the only copy of the tokens is the output text.
/// Field names are short and stable: this is what the keychain holds.
#[derive(Serialize)]
struct WireOut<'a> {
    kind: &'static str,
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    obtained_at: u64,
    issuer: &'a str,
    client_id: &'a str,
    scopes: &'a [String],
    token_endpoint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_endpoint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
}

/// The JSON form read.
#[derive(Deserialize)]
struct WireIn {
    kind: String,
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<u64>,
    obtained_at: u64,
    issuer: String,
    client_id: String,
    #[serde(default)]
    scopes: Vec<String>,
    token_endpoint: String,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    resource: Option<String>,
}

/// Tells a token set from a password in the same keychain slot.
const KIND: &str = "mlflow-login-oidc";

impl TokenSet {
    /// The token set as the one secret stored in the keychain.
    pub fn to_secret(&self) -> Secret {
        let wire = WireOut {
            kind: KIND,
            access_token: self.access_token.expose(),
            refresh_token: self.refresh_token.as_ref().map(Secret::expose),
            expires_at: self.expires_at,
            obtained_at: self.obtained_at,
            issuer: &self.issuer,
            client_id: &self.client_id,
            scopes: &self.scopes,
            token_endpoint: &self.token_endpoint,
            revocation_endpoint: self.revocation_endpoint.as_deref(),
            resource: self.resource.as_deref(),
        };
        // Serialising strings and numbers into a String cannot fail.
        Secret::new(serde_json::to_string(&wire).unwrap_or_default())
    }

    /// Reads a stored token set. A password or a damaged entry is an error that says so
    /// (never its content).
    pub fn from_secret(secret: &Secret) -> Result<Self> {
        let damaged =
            |why: &str| Error::LoginRequired(format!("the stored single sign-on tokens are unusable ({why})"));
        let wire: WireIn = serde_json::from_str(secret.expose()).map_err(|e| {
            // serde's message can quote the input; say only where it broke.
            damaged(&format!("not a token set at line {} column {}", e.line(), e.column()))
        })?;
        if wire.kind != KIND {
            return Err(damaged("not a token set"));
        }
        Ok(TokenSet {
            access_token: Secret::new(wire.access_token),
            refresh_token: wire.refresh_token.map(Secret::new),
            expires_at: wire.expires_at,
            obtained_at: wire.obtained_at,
            issuer: wire.issuer,
            client_id: wire.client_id,
            scopes: wire.scopes,
            token_endpoint: wire.token_endpoint,
            revocation_endpoint: wire.revocation_endpoint,
            resource: wire.resource,
        })
    }

    /// How long before expiry the access token counts as near expiry: 60 s, or a tenth
    /// of its lifetime when that is shorter.
    ///
    /// A token handed to a process should outlive the request it is used for, with room
    /// for clock skew between us, the proxy and the IdP: 60 s covers both at any real IdP
    /// (lifetimes of 5 min to 1 h). A fixed 60 s would make a short-lived token (a strict
    /// IdP's 1 minute, a test's 10 s) near expiry from birth, so every use would refresh;
    /// a tenth keeps 90% of any lifetime usable.
    pub fn refresh_margin(&self) -> u64 {
        let lifetime = self.expires_at.map_or(0, |e| e.saturating_sub(self.obtained_at));
        (lifetime / 10).min(MAX_REFRESH_MARGIN_SECS)
    }

    /// Whether the access token expires within [`Self::refresh_margin`] of `now` (Unix
    /// seconds), or has expired. A token without a known expiry is never near expiry: it
    /// is used until the server refuses it.
    pub fn is_near_expiry(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|e| now.saturating_add(self.refresh_margin()) >= e)
    }

    /// Takes the tokens of a token-endpoint answer: the access token and its expiry, the
    /// refresh token when one came (else the current one stays: no rotation), the scopes
    /// when the provider named some.
    pub(crate) fn take_response(&mut self, response: &impl oauth2::TokenResponse) {
        let now = now_unix();
        self.access_token = Secret::new(response.access_token().secret().clone());
        if let Some(token) = response.refresh_token() {
            self.refresh_token = Some(Secret::new(token.secret().clone()));
        }
        self.expires_at = response.expires_in().map(|d| now.saturating_add(d.as_secs()));
        self.obtained_at = now;
        // An empty `scope` (some IdPs, for a resource's token) says nothing: keep the asked.
        if let Some(scopes) = response.scopes().filter(|s| !s.is_empty()) {
            self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        }
    }

    /// When [`Self::is_near_expiry`] becomes true (Unix seconds), if the expiry is known.
    pub fn refresh_due_at(&self) -> Option<u64> {
        self.expires_at.map(|e| e.saturating_sub(self.refresh_margin()))
    }
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("obtained_at", &self.obtained_at)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Now, in Unix seconds.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::ErrorKind;

    pub(crate) fn sample(obtained_at: u64, lifetime: Option<u64>) -> TokenSet {
        TokenSet {
            access_token: Secret::new("at-SECRET-1".into()),
            refresh_token: Some(Secret::new("rt-SECRET-2".into())),
            expires_at: lifetime.map(|l| obtained_at + l),
            obtained_at,
            issuer: "https://idp.example".into(),
            client_id: "mlflow-login".into(),
            scopes: vec!["openid".into(), "offline_access".into()],
            token_endpoint: "https://idp.example/token".into(),
            revocation_endpoint: Some("https://idp.example/revoke".into()),
            resource: None,
        }
    }

    #[test]
    fn json_round_trip_is_one_secret() {
        let set = sample(1_700_000_000, Some(3600));
        let secret = set.to_secret();
        let text = secret.expose();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["kind"], "mlflow-login-oidc");
        assert_eq!(value["access_token"], "at-SECRET-1");
        assert_eq!(value["expires_at"], 1_700_003_600);
        assert!(value.get("resource").is_none(), "{value}");
        assert_eq!(TokenSet::from_secret(&secret).unwrap(), set);
        let mut bare = set.clone();
        bare.refresh_token = None;
        bare.expires_at = None;
        assert_eq!(TokenSet::from_secret(&bare.to_secret()).unwrap(), bare);
    }

    #[test]
    fn a_password_is_not_a_token_set() {
        for stored in ["hunter2", "{}", r#"{"kind":"mlflow-login-oidc"}"#, r#"{"access_token":"x"}"#] {
            let err = TokenSet::from_secret(&Secret::new(stored.into())).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LoginRequired, "{stored}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let shown = format!("{:?}", sample(1, Some(2)));
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("REDACTED") && shown.contains("mlflow-login"), "{shown}");
    }

    #[test]
    fn near_expiry_margin() {
        let t0 = 1_000_000;
        // One hour: 60 s.
        let hour = sample(t0, Some(3600));
        assert_eq!(hour.refresh_margin(), 60);
        assert!(!hour.is_near_expiry(t0 + 3539));
        assert!(hour.is_near_expiry(t0 + 3540));
        assert!(hour.is_near_expiry(t0 + 9999));
        assert_eq!(hour.refresh_due_at(), Some(t0 + 3540));
        // Ten seconds: a tenth, 1 s.
        let short = sample(t0, Some(10));
        assert_eq!(short.refresh_margin(), 1);
        assert!(!short.is_near_expiry(t0 + 8));
        assert!(short.is_near_expiry(t0 + 9));
        // Five minutes: 30 s.
        assert_eq!(sample(t0, Some(300)).refresh_margin(), 30);
        // No known expiry: never near; an expiry in the past: near.
        assert!(!sample(t0, None).is_near_expiry(u64::MAX));
        assert!(sample(t0, Some(0)).is_near_expiry(t0));
    }
}
