//! The token set: what a single sign-on login leaves in the keychain, as one [`Secret`]
//! holding a small JSON object.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest margin before expiry at which an access token counts as near expiry.
pub const MAX_REFRESH_MARGIN_SECS: u64 = 60;

/// The longest lifetime taken from a JWT access token's `exp` claim (a year): access tokens
/// live minutes to hours, so a later `exp` is a mistake (milliseconds for seconds, say) and
/// is ignored rather than postponing the refresh for ever.
const MAX_JWT_LIFETIME_SECS: u64 = 366 * 24 * 3600;

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
    /// When the access token expires (Unix seconds): from the token response's `expires_in`,
    /// else from the `exp` claim of an access token that is a JWT; `None` when neither says.
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
    /// Who signed in, for display (`list`, `status`): the ID token's `preferred_username`,
    /// else `email`, else `sub`. Never used to decide anything.
    pub user: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
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
    #[serde(default)]
    user: Option<String>,
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
            user: self.user.as_deref(),
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
            user: wire.user,
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
        // `expires_in` is only RECOMMENDED (RFC 6749 §5.1): without it, a JWT's own `exp`,
        // else no known expiry (the token is then refreshed only when a server refuses it).
        self.expires_at = response
            .expires_in()
            .map(|d| now.saturating_add(d.as_secs()))
            .or_else(|| jwt_expiry(self.access_token.expose(), now));
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

    /// The fingerprint of the access token (see [`Fingerprint`]).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.access_token)
    }
}

/// Names an access token without giving it away: the first 16 hex digits of its SHA-256.
///
/// A front end whose request the server refused passes it back ("refresh, unless the stored
/// token is no longer this one"), so that processes refused together refresh once; the
/// token itself never has to travel through argv or a log. 64 bits of a hash of a token
/// with a signature's entropy tell nothing about the token, and are enough to tell the
/// few tokens of one login apart.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

/// Hex digits in a [`Fingerprint`].
const FINGERPRINT_LEN: usize = 16;

impl Fingerprint {
    /// The fingerprint of `token`.
    pub fn of(token: &Secret) -> Self {
        Self(sha256_hex(&[token.expose().as_bytes()], FINGERPRINT_LEN / 2))
    }

    /// Reads a fingerprint as [`Self::as_str`] shows it (16 hex digits, either case).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() == FINGERPRINT_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(Error::invalid(
                "fingerprint",
                format!(
                    "a token fingerprint is {FINGERPRINT_LEN} hexadecimal digits (as the credential JSON gives it)"
                ),
            ))
        }
    }

    /// The 16 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

/// The `exp` claim (Unix seconds) of an access token that is a JWT in compact JWS form
/// (`header.payload.signature`, the payload a base64url JSON object), when it is a number
/// after `now` and less than [`MAX_JWT_LIFETIME_SECS`] after it; else `None` (an opaque
/// token, an encrypted JWE, a malformed payload, an `exp` already past or absurd).
///
/// No signature is checked, on purpose: the claim only schedules our own refresh. Nothing
/// is trusted or granted from it (the server checks the token it receives), and a wrong
/// `exp` moves the refresh at worst; a server's refusal still forces one.
fn jwt_expiry(token: &str, now: u64) -> Option<u64> {
    let claims = jwt_claims(token)?;
    let exp = claims.get("exp")?;
    // A NumericDate may have a fraction (RFC 7519 §2): whole seconds, rounded down.
    let exp = exp.as_u64().or_else(|| exp.as_f64().filter(|e| e.is_finite() && *e >= 0.0).map(|e| e as u64))?;
    (exp > now && exp - now <= MAX_JWT_LIFETIME_SECS).then_some(exp)
}

/// The claims of a JWT in compact JWS form (`header.payload.signature`, the payload a
/// base64url JSON object); `None` for anything else (an opaque token, a JWE). Unverified:
/// callers read only what schedules or refuses something of ours, never what grants.
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    // JWS compact serialisation has no padding (RFC 7515 §2); a padded one is still read.
    const BASE64URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    serde_json::from_slice(&BASE64URL.decode(payload).ok()?).ok()
}

/// The `aud` claim of a JWT access token (a string or a list of them, RFC 7519 §4.1.3);
/// `None` when the token is not a JWT or names no audience.
pub(crate) fn jwt_audience(token: &str) -> Option<Vec<String>> {
    match jwt_claims(token)?.get("aud")? {
        serde_json::Value::String(one) => Some(vec![one.clone()]),
        serde_json::Value::Array(many) => Some(many.iter().filter_map(|a| a.as_str().map(str::to_string)).collect()),
        _ => None,
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

/// The first `bytes` bytes of the SHA-256 of `parts` (each followed by a 0 byte but the
/// last, so `("a", "bc")` and `("ab", "c")` differ), as lowercase hex: a name that gives
/// nothing away (a token's fingerprint, a lock file's name).
pub(crate) fn sha256_hex(parts: &[&[u8]], bytes: usize) -> String {
    let mut hash = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update([0]);
        }
        hash.update(part);
    }
    hash.finalize()[..bytes].iter().map(|b| format!("{b:02x}")).collect()
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
            user: Some("alice".into()),
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

    /// A JWT with `claims` as its payload (unsigned: only the payload is read).
    pub(crate) fn jwt(claims: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2lnbmF0dXJl", b64(r#"{"alg":"RS256","typ":"at+jwt"}"#), b64(claims))
    }

    #[test]
    fn jwt_exp_is_read_when_sound() {
        let now = 1_700_000_000;
        let at = |exp: &str| jwt(&format!(r#"{{"sub":"alice","aud":"mlflow","exp":{exp}}}"#));
        assert_eq!(jwt_expiry(&at("1700000600"), now), Some(now + 600));
        assert_eq!(jwt_expiry(&at("1700000600.75"), now), Some(now + 600));
        // Padded base64url is read too.
        let padded = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE.encode(r#"{"exp":1700000600} "#));
        assert!(padded.contains('='), "{padded}");
        assert_eq!(jwt_expiry(&padded, now), Some(now + 600));
        // Past, now, absurd (milliseconds), not a number, missing.
        for exp in ["1699999999", "1700000000", "1700000000000", r#""1700000600""#, "null", "-5", "1e400"] {
            assert_eq!(jwt_expiry(&at(exp), now), None, "{exp}");
        }
        assert_eq!(jwt_expiry(&jwt(r#"{"sub":"alice"}"#), now), None);
        // Not a JWT, or not one we can read: opaque, two or five parts (JWE), bad base64,
        // not JSON, JSON that is not an object.
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":1700000600}"#);
        for token in [
            "opaque-2YotnFZFEjr1zCsicMWpAA".to_string(),
            format!("e30.{payload}"),
            format!("e30.{payload}.sig.iv.tag"),
            "e30.!!!.sig".into(),
            format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("exp=1700000600")),
            format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("[1700000600]")),
            String::new(),
        ] {
            assert_eq!(jwt_expiry(&token, now), None, "{token}");
        }
    }

    fn response(json: &str) -> oauth2::basic::BasicTokenResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn expiry_comes_from_expires_in_else_from_a_jwt() {
        let now = now_unix();
        let token = jwt(&format!(r#"{{"exp":{}}}"#, now + 300));
        // `expires_in` wins over the token's own claim.
        let mut set = sample(1, Some(2));
        set.take_response(&response(&format!(
            r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#
        )));
        assert!(set.expires_at.unwrap() >= now + 3600, "{set:?}");
        // Without it: the claim, with the lifetime (and so the margin) counted from now.
        let mut set = sample(1, Some(2));
        set.take_response(&response(&format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#)));
        assert_eq!(set.expires_at, Some(now + 300));
        assert!(set.obtained_at >= now && set.obtained_at <= now + 5, "{set:?}");
        assert_eq!(set.refresh_margin(), (now + 300 - set.obtained_at) / 10);
        assert!(!set.is_near_expiry(set.obtained_at));
        assert!(set.is_near_expiry(now + 300 - set.refresh_margin()));
        // An opaque token without `expires_in`: no known expiry (as before).
        let mut set = sample(1, Some(2));
        set.take_response(&response(r#"{"access_token":"opaque","token_type":"Bearer"}"#));
        assert_eq!(set.expires_at, None);
        assert_eq!(set.refresh_due_at(), None);
    }

    #[test]
    fn fingerprints_name_tokens_without_showing_them() {
        let a = Fingerprint::of(&Secret::new("at-SECRET-1".into()));
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{a}");
        // python3 -c "import hashlib; print(hashlib.sha256(b'at-SECRET-1').hexdigest()[:16])"
        assert_eq!(a.as_str(), "a48811fe631569bd");
        assert_eq!(sample(1, Some(2)).fingerprint(), a);
        assert_ne!(Fingerprint::of(&Secret::new("at-SECRET-2".into())), a);
        assert_eq!(Fingerprint::parse(&a.as_str().to_ascii_uppercase()).unwrap(), a);
        for bad in ["", "abc", "0123456789abcdeg", "0123456789abcdef0", "at-SECRET-1"] {
            assert_eq!(Fingerprint::parse(bad).unwrap_err().kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }
}
