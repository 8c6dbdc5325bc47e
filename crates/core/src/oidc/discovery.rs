//! Finding the identity provider of an MLflow server, then its endpoints.
//!
//! Order (the first that answers wins; nothing is sent with credentials, no redirect is
//! followed to another origin):
//! 1. One unauthenticated `GET` of MLflow's API path. A `401` with a
//!    `WWW-Authenticate: Bearer ... resource_metadata="URL"` challenge names the
//!    protected-resource metadata (RFC 9728 §5.1); a redirect (followed on the server's own
//!    origin only) to an authorization endpoint (`client_id` and `response_type` in its
//!    query) is remembered for step 3.
//! 2. The protected-resource metadata (RFC 9728): the challenge's URL, then
//!    `/.well-known/oauth-protected-resource` inserted before the tracking URL's path
//!    (§3.1), then at the origin's root. Its `resource` must cover the tracking URL; its
//!    first `authorization_servers` entry is the issuer. It names no client id.
//! 3. An oauth2-proxy style redirect: the issuer is the longest prefix of the authorization
//!    endpoint's path whose `/.well-known/openid-configuration` names that very
//!    authorization endpoint; the client id is the redirect's `client_id`.
//!
//! Then OIDC discovery (`{issuer}/.well-known/openid-configuration`, checked by
//! `openidconnect`: the document's `issuer` must be the one asked) gives the endpoints and
//! the signing keys.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, DeviceAuthorizationUrl, DiscoveryError, IssuerUrl, ProviderMetadata, RevocationUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{Http, HttpError};
use crate::error::{Error, Result};
use crate::http::endpoint;
use crate::http::error_chain;
use crate::server::is_loopback;
use crate::text::clean;
use crate::verify::API_PATH;

/// Hops of redirects followed on the server's own origin while looking for the IdP
/// (oauth2-proxy answers `/api/...` with a redirect to its own `/oauth2/start` first).
const MAX_SAME_ORIGIN_HOPS: usize = 3;

/// The path-prefix candidates tried above an authorization endpoint.
const MAX_ISSUER_CANDIDATES: usize = 6;

/// What the caller already knows; each field set skips finding it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The issuer (`--issuer`).
    pub issuer: Option<String>,
    /// The OAuth client id (`--client-id`).
    pub client_id: Option<String>,
    /// The scopes to ask for (`--scope`); empty: `openid`, plus `offline_access` (for a
    /// refresh token) when the provider lists it or lists no scopes at all.
    pub scopes: Vec<String>,
}

/// How the issuer was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// The caller gave it.
    Given,
    /// From the server's protected-resource metadata (RFC 9728) at `url`.
    ResourceMetadata {
        /// Where the metadata was read.
        url: String,
    },
    /// From the server's redirect to the provider's authorization endpoint.
    Redirect {
        /// The authorization endpoint (without its query).
        authorization_endpoint: String,
    },
}

/// The provider's metadata fields beyond OIDC Discovery's.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revocation_endpoint: Option<RevocationUrl>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

pub(crate) type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A discovered identity provider, ready for [`super::login`].
#[derive(Clone)]
pub struct Provider {
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) resource: Option<String>,
    pub(crate) source: Source,
    pub(crate) metadata: Metadata,
    pub(crate) http: Http,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("resource", &self.resource)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// The issuer identifier (for `--issuer` and the dialog's field).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The client id in use.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// How the issuer was found.
    pub fn source(&self) -> &Source {
        &self.source
    }
    /// Whether the provider offers the device flow (RFC 8628).
    pub fn supports_device_flow(&self) -> bool {
        self.metadata.additional_metadata().device_authorization_endpoint.is_some()
    }
    /// Whether the provider offers revocation (RFC 7009).
    pub fn supports_revocation(&self) -> bool {
        self.metadata.additional_metadata().revocation_endpoint.is_some()
    }
    pub(crate) fn token_endpoint(&self) -> Result<String> {
        self.metadata
            .token_endpoint()
            .map(|t| t.url().to_string())
            .ok_or_else(|| Error::IdentityProvider(format!("{} names no token endpoint", self.issuer)))
    }
}

/// What the server told about its identity provider (steps 1 to 3 of the module docs),
/// before OIDC discovery. Every field may be missing.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Hints {
    /// The issuer.
    pub issuer: Option<String>,
    /// The client id (only a redirect names one).
    pub client_id: Option<String>,
    /// The resource identifier, from protected-resource metadata.
    pub resource: Option<String>,
    /// Where the issuer was found.
    pub source: Option<Source>,
}

/// An authorization endpoint the server redirected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedirectHint {
    pub(crate) endpoint: Url,
    pub(crate) client_id: String,
}

/// Finds the provider for the tracking URL `base` and reads its metadata.
pub(crate) async fn discover_with(http: Http, base: &Url, overrides: &Overrides) -> Result<Provider> {
    let given_issuer = overrides.issuer.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let given_client = overrides.client_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let located = match (given_issuer, given_client) {
        // Given both, the server is still asked for its resource identifier (RFC 9728), so
        // that the token is asked for this server (RFC 8707) and bound to it.
        (Some(_), Some(_)) => locate(&http, base).await.unwrap_or_default(),
        // Only the client id is missing: the server may still name it (a redirect); if it
        // cannot be asked, the error below names --client-id.
        (Some(_), None) => locate(&http, base).await.unwrap_or_default(),
        (None, _) => locate(&http, base).await?,
    };
    let (issuer, source) = match (given_issuer, &located.issuer) {
        (Some(issuer), _) => (issuer.to_string(), Source::Given),
        (None, Some(issuer)) => (issuer.clone(), located.source.clone().unwrap_or(Source::Given)),
        (None, None) => {
            return Err(Error::invalid(
                "issuer",
                format!(
                    "could not find the identity provider of {base}: it serves no OAuth protected-resource metadata (RFC 9728) and does not redirect to a sign-in page; pass --issuer URL and --client-id ID (your MLflow admin knows both)"
                ),
            ));
        }
    };
    check_issuer(&issuer)?;
    let client_id = match (given_client, &located.client_id) {
        (Some(id), _) => id.to_string(),
        // A redirect's client id belongs to the issuer it was found with.
        (None, Some(id)) if given_issuer.is_none() || located.issuer.as_deref() == given_issuer => id.clone(),
        _ => {
            return Err(Error::invalid(
                "client_id",
                format!(
                    "found the identity provider {issuer}, but not which client to use with it: pass --client-id ID (the public client your admin registered for MLflow Login)"
                ),
            ));
        }
    };
    let metadata = provider_metadata(&http, &issuer).await?;
    check_endpoints(&metadata)?;
    // The provider's own spelling (validated equal by `openidconnect`), for later checks.
    let issuer = metadata.issuer().as_str().to_string();
    let scopes = if overrides.scopes.is_empty() { default_scopes(&metadata) } else { overrides.scopes.clone() };
    Ok(Provider { issuer, client_id, scopes, resource: located.resource, source, metadata, http })
}

/// `openid`, and `offline_access` when the provider may grant it: most IdPs issue a
/// refresh token only for it (Okta, Entra ID, Auth0, oidc-provider).
fn default_scopes(metadata: &Metadata) -> Vec<String> {
    let offline = metadata.scopes_supported().is_none_or(|s| s.iter().any(|s| s.as_str() == "offline_access"));
    let mut scopes = vec!["openid".to_string()];
    if offline {
        scopes.push("offline_access".into());
    }
    scopes
}

/// OIDC discovery of `issuer`: its metadata and signing keys.
pub(crate) async fn provider_metadata(http: &Http, issuer: &str) -> Result<Metadata> {
    let issuer_url = IssuerUrl::new(issuer.to_string())
        .map_err(|e| Error::invalid("issuer", format!("\"{}\" is not a valid issuer URL: {e}", clean(issuer, 200))))?;
    Metadata::discover_async(issuer_url, http).await.map_err(|e| discovery_error(issuer, e))
}

fn discovery_error(issuer: &str, err: DiscoveryError<HttpError>) -> Error {
    match err {
        DiscoveryError::Request(e) => e.into(),
        DiscoveryError::Response(status, _, _) => Error::IdentityProvider(format!(
            "{issuer} is not an OpenID provider: its /.well-known/openid-configuration answered HTTP {status}"
        )),
        other => Error::IdentityProvider(format!(
            "the OpenID metadata of {issuer} is unusable: {}",
            clean(&error_chain(&other), 300)
        )),
    }
}

/// Every endpoint the metadata names is held to the issuer's rule (https, or http on a
/// loopback address): the authorization, token, device authorization and revocation
/// endpoints receive codes and tokens, and the JWKS and userinfo endpoints decide which
/// ID tokens are believed and whose claims are read; any of them in clear is a way in.
fn check_endpoints(metadata: &Metadata) -> Result<()> {
    let more = metadata.additional_metadata();
    let mut urls: Vec<&Url> = vec![metadata.authorization_endpoint().url(), metadata.jwks_uri().url()];
    urls.extend(metadata.token_endpoint().map(|t| t.url()));
    urls.extend(metadata.userinfo_endpoint().map(|u| u.url()));
    urls.extend(more.device_authorization_endpoint.as_ref().map(|u| u.url()));
    urls.extend(more.revocation_endpoint.as_ref().map(|u| u.url()));
    for url in urls {
        check_issuer(url.as_str()).map_err(|_| {
            Error::IdentityProvider(format!(
                "the identity provider's metadata names an endpoint that is not https: {}",
                clean(url.as_str(), 200)
            ))
        })?;
    }
    Ok(())
}

/// An issuer must be `https`, or `http` on a loopback host (a local test IdP).
fn check_issuer(issuer: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid("issuer", format!("\"{}\" {why}", clean(issuer, 200)));
    let url = Url::parse(issuer).map_err(|_| bad("is not a URL"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        _ => Err(bad("must be an https:// URL")),
    }
}

/// Steps 1 to 3 of the module docs.
pub(crate) async fn locate(http: &Http, base: &Url) -> Result<Hints> {
    let probe = endpoint(base, API_PATH, Some("max_results=1"));
    // The server and its public metadata are reached with the server's own TLS settings;
    // what then goes to the identity provider never is (see `Http`).
    let http = &http.for_resource();
    let (challenge_metadata, redirect) = probe_server(http, probe).await?;
    let mut candidates: Vec<Url> = challenge_metadata.into_iter().collect();
    for url in resource_metadata_urls(base) {
        if !candidates.contains(&url) {
            candidates.push(url);
        }
    }
    for url in candidates {
        let Ok(reply) = http.get(&url).await else { continue };
        if reply.status() != 200 {
            continue;
        }
        if let Some((issuer, resource)) = parse_resource_metadata(reply.body(), base) {
            return Ok(Hints {
                issuer: Some(issuer),
                client_id: None,
                resource: Some(resource),
                source: Some(Source::ResourceMetadata { url: url.to_string() }),
            });
        }
    }
    let Some(hint) = redirect else { return Ok(Hints::default()) };
    for candidate in issuer_candidates(&hint.endpoint) {
        let Ok(reply) = http.get(&openid_configuration_url(&candidate)).await else { continue };
        if reply.status() != 200 {
            continue;
        }
        if let Some(issuer) = confirms_endpoint(reply.body(), &hint.endpoint) {
            return Ok(Hints {
                issuer: Some(issuer),
                client_id: Some(hint.client_id),
                resource: None,
                source: Some(Source::Redirect { authorization_endpoint: hint.endpoint.to_string() }),
            });
        }
    }
    Err(Error::invalid(
        "issuer",
        format!(
            "{base} redirects to the sign-in page {}, but no OpenID provider metadata was found above it: pass --issuer URL",
            hint.endpoint
        ),
    ))
}

/// The unauthenticated probe: a challenge's `resource_metadata` URL, or a redirect to an
/// authorization endpoint (following redirects on the server's own origin only).
async fn probe_server(http: &Http, mut url: Url) -> Result<(Option<Url>, Option<RedirectHint>)> {
    let origin = url.origin();
    for _ in 0..=MAX_SAME_ORIGIN_HOPS {
        let reply = http.get(&url).await?;
        let status = reply.status().as_u16();
        if status == 401 {
            let metadata = resource_metadata_from_challenges(reply.headers(), &url);
            return Ok((metadata, None));
        }
        if !(300..400).contains(&status) {
            return Ok((None, None));
        }
        let Some(target) = reply
            .headers()
            .get(oauth2::http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok())
        else {
            return Ok((None, None));
        };
        if let Some(hint) = authorization_redirect(&target) {
            return Ok((None, Some(hint)));
        }
        if target.origin() != origin {
            return Ok((None, None));
        }
        url = target;
    }
    Ok((None, None))
}

/// The `resource_metadata` of a Bearer challenge, resolved against the request URL; never a
/// downgrade from https to http.
pub(crate) fn resource_metadata_from_challenges(headers: &oauth2::http::HeaderMap, asked: &Url) -> Option<Url> {
    let mut challenges = Vec::new();
    for value in headers.get_all(oauth2::http::header::WWW_AUTHENTICATE).iter().take(16) {
        let bytes = value.as_bytes();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        crate::verify::classify::parse_challenges(&text, &mut challenges);
    }
    let value = challenges
        .iter()
        .filter(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .find_map(|c| c.param("resource_metadata"))?;
    let url = asked.join(value).ok()?;
    let downgrade = asked.scheme() == "https" && url.scheme() != "https";
    (matches!(url.scheme(), "http" | "https") && !downgrade).then_some(url)
}

/// RFC 9728 §3.1: the well-known segment goes between the host and the path; at the root
/// too, for servers that publish one document for the whole host.
pub(crate) fn resource_metadata_urls(base: &Url) -> Vec<Url> {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let path = base.path().trim_end_matches('/');
    let mut root = base.clone();
    root.set_query(None);
    root.set_fragment(None);
    let mut urls = Vec::new();
    if !path.is_empty() {
        let mut inserted = root.clone();
        inserted.set_path(&format!("{WELL_KNOWN}{path}"));
        urls.push(inserted);
    }
    root.set_path(WELL_KNOWN);
    urls.push(root);
    urls
}

/// The issuer and resource of protected-resource metadata that covers `base`: the
/// `resource` on the same origin, its path a prefix of the tracking URL's path.
pub(crate) fn parse_resource_metadata(body: &[u8], base: &Url) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Metadata {
        resource: String,
        #[serde(default)]
        authorization_servers: Vec<String>,
    }
    let metadata: Metadata = serde_json::from_slice(body).ok()?;
    let resource = Url::parse(&metadata.resource).ok()?;
    let resource_path = resource.path().trim_end_matches('/');
    let base_path = base.path().trim_end_matches('/');
    let covers = resource.origin() == base.origin()
        && (base_path == resource_path || base_path.starts_with(&format!("{resource_path}/")));
    let issuer = metadata.authorization_servers.into_iter().find(|s| !s.trim().is_empty())?;
    covers.then_some((issuer, metadata.resource))
}

/// A URL that looks like an OAuth authorization request: `client_id` and `response_type`.
pub(crate) fn authorization_redirect(target: &Url) -> Option<RedirectHint> {
    let mut client_id = None;
    let mut response_type = false;
    for (name, value) in target.query_pairs() {
        match &*name {
            "client_id" if !value.is_empty() => client_id = Some(value.into_owned()),
            "response_type" => response_type = true,
            _ => {}
        }
    }
    let mut endpoint = target.clone();
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    Some(RedirectHint { endpoint, client_id: client_id.filter(|_| response_type)? })
}

/// The issuers an authorization endpoint may belong to: its path's prefixes, longest first,
/// down to the origin (`https://idp/realms/x/protocol/openid-connect/auth` gives
/// `.../openid-connect`, `.../protocol`, `https://idp/realms/x`, ...).
pub(crate) fn issuer_candidates(endpoint: &Url) -> Vec<Url> {
    let segments: Vec<&str> = endpoint.path().split('/').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::new();
    for keep in (0..segments.len()).rev() {
        let mut url = endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&format!("/{}", segments[..keep].join("/")));
        out.push(url);
        if out.len() == MAX_ISSUER_CANDIDATES {
            break;
        }
    }
    out
}

/// `{issuer}/.well-known/openid-configuration` (OIDC Discovery §4: appended to the path).
pub(crate) fn openid_configuration_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    url.set_path(&format!("{}/.well-known/openid-configuration", issuer.path().trim_end_matches('/')));
    url
}

/// The issuer of an OpenID configuration whose `authorization_endpoint` is `endpoint`.
fn confirms_endpoint(body: &[u8], endpoint: &Url) -> Option<String> {
    #[derive(Deserialize)]
    struct Config {
        issuer: String,
        authorization_endpoint: String,
    }
    let config: Config = serde_json::from_slice(body).ok()?;
    let named = Url::parse(&config.authorization_endpoint).ok()?;
    (named == *endpoint).then_some(config.issuer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use oauth2::http;

    use super::*;
    use crate::ErrorKind;
    use crate::oidc::http::json_reply;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Every endpoint the metadata names is https (or http on a literal
    /// loopback address); `*.localhost` names are not loopback.
    #[test]
    fn every_endpoint_of_the_metadata_must_be_https() {
        let metadata = |field: &str, value: &str| -> Metadata {
            let mut doc = serde_json::json!({
                "issuer": "https://idp.example",
                "authorization_endpoint": "https://idp.example/auth",
                "token_endpoint": "https://idp.example/token",
                "jwks_uri": "https://idp.example/jwks",
                "userinfo_endpoint": "https://idp.example/me",
                "device_authorization_endpoint": "https://idp.example/device",
                "revocation_endpoint": "https://idp.example/revoke",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            });
            doc[field] = value.into();
            serde_json::from_value(doc).unwrap()
        };
        check_endpoints(&metadata("issuer", "https://idp.example")).unwrap();
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "userinfo_endpoint",
            "device_authorization_endpoint",
            "revocation_endpoint",
        ] {
            let err = check_endpoints(&metadata(field, "http://idp.example/x")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{field}: {err}");
            check_endpoints(&metadata(field, "http://127.0.0.1:9/x")).unwrap();
            check_endpoints(&metadata(field, "http://localhost:9/x")).unwrap();
            let err = check_endpoints(&metadata(field, "http://idp.localhost:9/x")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{field}, a *.localhost name: {err}");
        }
        assert!(check_issuer("http://evil.localhost").is_err(), "a *.localhost issuer is not loopback");
    }

    #[test]
    fn resource_metadata_urls_insert_the_path() {
        let urls = |b: &str| resource_metadata_urls(&url(b)).into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(urls("https://h"), ["https://h/.well-known/oauth-protected-resource"]);
        assert_eq!(
            urls("https://h:8443/team/mlflow"),
            [
                "https://h:8443/.well-known/oauth-protected-resource/team/mlflow",
                "https://h:8443/.well-known/oauth-protected-resource"
            ]
        );
    }

    #[test]
    fn challenge_names_the_metadata() {
        let asked = url("https://h/mlflow/api/2.0/mlflow/experiments/search");
        let headers = |values: &[&str]| {
            let mut h = http::HeaderMap::new();
            for v in values {
                h.append(http::header::WWW_AUTHENTICATE, v.parse().unwrap());
            }
            h
        };
        let found = resource_metadata_from_challenges(
            &headers(&[
                r#"Basic realm="x""#,
                r#"Bearer error="invalid_token", resource_metadata="/.well-known/oauth-protected-resource/mlflow""#,
            ]),
            &asked,
        );
        assert_eq!(found.unwrap().as_str(), "https://h/.well-known/oauth-protected-resource/mlflow");
        // Not on a Basic challenge, not a downgrade, not another scheme.
        assert_eq!(resource_metadata_from_challenges(&headers(&[r#"Basic resource_metadata="/x""#]), &asked), None);
        assert_eq!(
            resource_metadata_from_challenges(&headers(&[r#"Bearer resource_metadata="http://h/x""#]), &asked),
            None
        );
        assert_eq!(
            resource_metadata_from_challenges(&headers(&[r#"Bearer resource_metadata="file:///etc/passwd""#]), &asked),
            None
        );
        assert_eq!(resource_metadata_from_challenges(&headers(&["Bearer"]), &asked), None);
    }

    #[test]
    fn resource_metadata_must_cover_the_server() {
        let doc = |resource: &str| {
            format!(r#"{{"resource": "{resource}", "authorization_servers": ["https://idp/realms/x"]}}"#).into_bytes()
        };
        let base = url("https://h/mlflow");
        let issuer = |r: &str| parse_resource_metadata(&doc(r), &base).map(|(i, _)| i);
        assert_eq!(issuer("https://h/mlflow").as_deref(), Some("https://idp/realms/x"));
        assert_eq!(issuer("https://h/mlflow/").as_deref(), Some("https://idp/realms/x"));
        assert_eq!(issuer("https://h").as_deref(), Some("https://idp/realms/x"));
        assert_eq!(issuer("https://h/ml"), None);
        assert_eq!(issuer("https://other/mlflow"), None);
        assert_eq!(issuer("http://h/mlflow"), None);
        assert_eq!(parse_resource_metadata(br#"{"resource": "https://h/mlflow"}"#, &base), None);
        assert_eq!(parse_resource_metadata(b"<html>", &base), None);
    }

    #[test]
    fn redirects_to_an_authorization_endpoint() {
        let hint = authorization_redirect(&url(
            "https://idp/realms/x/protocol/openid-connect/auth?client_id=proxy&response_type=code&redirect_uri=https%3A%2F%2Fh%2Foauth2%2Fcallback&state=abc",
        ))
        .unwrap();
        assert_eq!(hint.client_id, "proxy");
        assert_eq!(hint.endpoint.as_str(), "https://idp/realms/x/protocol/openid-connect/auth");
        assert_eq!(authorization_redirect(&url("https://h/oauth2/start?rd=%2F")), None);
        assert_eq!(authorization_redirect(&url("https://idp/auth?client_id=x")), None);
        let candidates: Vec<String> = issuer_candidates(&hint.endpoint)
            .into_iter()
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .collect();
        assert_eq!(
            candidates,
            [
                "https://idp/realms/x/protocol/openid-connect",
                "https://idp/realms/x/protocol",
                "https://idp/realms/x",
                "https://idp/realms",
                "https://idp"
            ]
        );
        assert_eq!(
            openid_configuration_url(&url("https://idp/realms/x")).as_str(),
            "https://idp/realms/x/.well-known/openid-configuration"
        );
        assert_eq!(
            openid_configuration_url(&url("https://idp")).as_str(),
            "https://idp/.well-known/openid-configuration"
        );
    }

    type Row<'a> = (&'a str, u16, &'a [(&'a str, &'a str)], &'a str);
    type OwnedRow = (String, u16, Vec<(String, String)>, String);

    /// A fake network: `(url, status, headers, body)` rows; the rest is 404. Records the
    /// URLs asked, in order.
    fn network(rows: &[Row<'_>]) -> (Http, Arc<Mutex<Vec<String>>>) {
        let rows: Vec<OwnedRow> = rows
            .iter()
            .map(|(u, s, h, b)| {
                (u.to_string(), *s, h.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), b.to_string())
            })
            .collect();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let http = Http::fake(move |request| {
            let uri = request.uri().to_string();
            assert!(request.headers().get(http::header::AUTHORIZATION).is_none(), "no credentials in discovery");
            log.lock().unwrap().push(uri.clone());
            let Some((_, status, headers, body)) = rows.iter().find(|r| r.0 == uri) else {
                return Ok(json_reply(404, "{}"));
            };
            let mut reply = json_reply(*status, body);
            for (name, value) in headers {
                reply.headers_mut().append(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    http::HeaderValue::from_str(value).unwrap(),
                );
            }
            Ok(reply)
        });
        (http, asked)
    }

    const API: &str = "https://h/mlflow/api/2.0/mlflow/experiments/search?max_results=1";

    #[tokio::test]
    async fn discovery_order() {
        let prm = r#"{"resource": "https://h/mlflow", "authorization_servers": ["https://idp"]}"#;
        let rmd = "https://h/.well-known/oauth-protected-resource/mlflow";
        let base = url("https://h/mlflow");

        // The challenge's URL first.
        let challenge = r#"Bearer resource_metadata="https://h/meta""#;
        let (http, asked) =
            network(&[(API, 401, &[("www-authenticate", challenge)], "{}"), ("https://h/meta", 200, &[], prm)]);
        let found = locate(&http, &base).await.unwrap();
        assert_eq!(found.issuer.as_deref(), Some("https://idp"));
        assert_eq!(found.source, Some(Source::ResourceMetadata { url: "https://h/meta".into() }));
        assert_eq!(*asked.lock().unwrap(), [API, "https://h/meta"]);

        // No challenge URL: the path-inserted well-known, then the root one.
        let (http, asked) = network(&[
            (API, 401, &[("www-authenticate", "Bearer")], "{}"),
            ("https://h/.well-known/oauth-protected-resource", 200, &[], prm),
        ]);
        let found = locate(&http, &base).await.unwrap();
        assert_eq!(found.resource.as_deref(), Some("https://h/mlflow"));
        assert_eq!(*asked.lock().unwrap(), [API, rmd, "https://h/.well-known/oauth-protected-resource"]);

        // A redirect (same origin first, then the IdP): the metadata above the endpoint
        // that names it gives the issuer; the redirect gives the client id.
        let auth = "https://idp/realms/x/protocol/openid-connect/auth?client_id=proxy&response_type=code";
        let config = r#"{"issuer": "https://idp/realms/x", "authorization_endpoint": "https://idp/realms/x/protocol/openid-connect/auth"}"#;
        let (http, asked) = network(&[
            (API, 302, &[("location", "/oauth2/start?rd=%2F")], ""),
            ("https://h/oauth2/start?rd=%2F", 302, &[("location", auth)], ""),
            ("https://idp/realms/x/.well-known/openid-configuration", 200, &[], config),
        ]);
        let found = locate(&http, &base).await.unwrap();
        assert_eq!(found.issuer.as_deref(), Some("https://idp/realms/x"));
        assert_eq!(found.client_id.as_deref(), Some("proxy"));
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked[..2], [API, "https://h/oauth2/start?rd=%2F"]);
        assert!(asked.iter().all(|u| !u.contains("client_id")), "the IdP's sign-in page is never loaded: {asked:?}");
        assert_eq!(asked.last().unwrap(), "https://idp/realms/x/.well-known/openid-configuration");

        // A redirect to another origin that is no authorization request: nothing found.
        let (http, _) = network(&[(API, 302, &[("location", "https://elsewhere/login")], "")]);
        assert_eq!(locate(&http, &base).await.unwrap(), Hints::default());

        // Nothing: the error names the flags.
        let (http, _) = network(&[(API, 401, &[("www-authenticate", "Bearer")], "{}")]);
        let err = discover_with(http, &base, &Overrides::default()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("--issuer"), "{err}");

        // Resource metadata but no client id: the error names --client-id.
        let (http, _) = network(&[(rmd, 200, &[], prm)]);
        let err = discover_with(http, &base, &Overrides::default()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: "client_id", .. }), "{err}");

        // Both given: the server is still asked for its resource identifier (the token is
        // bound to it, RFC 8707), then the given provider; a server that names none is no
        // error.
        let (http, asked) = network(&[]);
        let overrides = Overrides { issuer: Some("https://idp".into()), client_id: Some("c".into()), scopes: vec![] };
        let err = discover_with(http, &base, &overrides).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{err}");
        assert_eq!(
            *asked.lock().unwrap(),
            [
                "https://h/mlflow/api/2.0/mlflow/experiments/search?max_results=1",
                "https://h/.well-known/oauth-protected-resource/mlflow",
                "https://h/.well-known/oauth-protected-resource",
                "https://idp/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        check_issuer("https://idp").unwrap();
        check_issuer("http://127.0.0.1:8080").unwrap();
        check_issuer("http://localhost:8080/realms/x").unwrap();
        assert!(check_issuer("http://idp.example").is_err());
        assert!(check_issuer("idp.example").is_err());
    }
}
