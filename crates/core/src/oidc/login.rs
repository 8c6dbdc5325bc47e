//! The two login flows: authorization code + PKCE through the browser, and the device
//! flow. Both end with the ID token checked by `openidconnect` (signature against the
//! provider's keys, `iss`, `aud`, `exp`, and the `nonce` of the browser flow).

use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreDeviceAuthorizationResponse, CoreTokenResponse};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, DeviceCodeErrorResponseType, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, ErrorResponse, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl,
    RequestTokenError, Scope, TokenResponse as _, TokenUrl,
};

use super::discovery::Provider;
use super::http::HttpError;
use super::loopback::{Answer, Loopback, Page};
use super::tokens::TokenSet;
use super::{Interaction, Prompt};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::text::clean;

type FlowClient<Device = EndpointNotSet> =
    CoreClient<EndpointSet, Device, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointMaybeSet>;

/// The client for the flows, its token endpoint required.
fn client(provider: &Provider) -> Result<FlowClient> {
    let token_url = TokenUrl::new(provider.token_endpoint()?)
        .map_err(|e| Error::IdentityProvider(format!("{} names an invalid token endpoint: {e}", provider.issuer)))?;
    Ok(CoreClient::from_provider_metadata(provider.metadata.clone(), ClientId::new(provider.client_id.clone()), None)
        .set_token_uri(token_url))
}

/// The scopes to add (`openidconnect` adds `openid` itself).
fn scopes(provider: &Provider) -> impl Iterator<Item = Scope> + '_ {
    provider.scopes.iter().filter(|s| s.as_str() != "openid").map(|s| Scope::new(s.clone()))
}

/// The browser flow. Unbounded: [`super::login`] bounds and cancels it.
pub(crate) async fn browser(provider: &Provider, ui: &dyn Interaction, port: Option<u16>) -> Result<TokenSet> {
    let loopback = Loopback::bind(port).await?;
    let redirect = RedirectUrl::new(loopback.redirect_uri()?)
        .map_err(|e| Error::IdentityProvider(format!("cannot build the redirect URI: {e}")))?;
    let client = client(provider)?.set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(scopes(provider))
        .set_pkce_challenge(challenge);
    if let Some(resource) = &provider.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    let (url, state, nonce) = request.url();
    ui.show(Prompt::OpenBrowser { url: url.as_str() });

    let (answer, tab) = loopback.wait(state.secret()).await;
    let code = match answer {
        // RFC 9207: an `iss` that is not this provider's is a mix-up attack (or a
        // misrouted answer); without one, the ID token's `iss` check still applies.
        Answer::Code { iss: Some(iss), .. } if iss != provider.issuer => {
            tab.finish(Page::Failed).await;
            return Err(Error::IdentityProvider(format!(
                "the sign-in answer came from {} instead of {}",
                clean(&iss, 200),
                provider.issuer
            )));
        }
        Answer::Code { code, .. } => code,
        Answer::Refused { error, description } => {
            tab.finish(Page::Failed).await;
            let description = description.map(|d| format!(": {d}")).unwrap_or_default();
            return Err(Error::IdentityProvider(format!(
                "the identity provider refused the sign-in ({error}){description}"
            )));
        }
    };
    let mut exchange = client.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(verifier);
    if let Some(resource) = &provider.resource {
        exchange = exchange.add_extra_param("resource", resource.clone());
    }
    let result = async {
        let response = exchange.request_async(&provider.http).await.map_err(|e| token_error("the sign-in", e))?;
        token_set(provider, &client, &response, Some(&nonce))
    }
    .await;
    tab.finish(if result.is_ok() { Page::SignedIn } else { Page::Failed }).await;
    result
}

/// The device flow (RFC 8628). Polls as the provider says (`interval`, `slow_down` adds
/// 5 s) until the code's `expires_in`; [`super::login`] bounds and cancels it too.
pub(crate) async fn device(provider: &Provider, ui: &dyn Interaction) -> Result<TokenSet> {
    let device_url =
        provider.metadata.additional_metadata().device_authorization_endpoint.clone().ok_or_else(|| {
            Error::IdentityProvider(format!(
                "{} does not offer the device flow (RFC 8628): sign in with the browser instead",
                provider.issuer
            ))
        })?;
    let client: FlowClient<EndpointSet> = client(provider)?.set_device_authorization_url(device_url);
    let mut request = client.exchange_device_code().add_scopes(scopes(provider));
    if let Some(resource) = &provider.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    let details: CoreDeviceAuthorizationResponse =
        request.request_async(&provider.http).await.map_err(|e| token_error("the device sign-in", e))?;
    let expires_in = details.expires_in();
    // The identity provider's text goes to a terminal or a window: cleaned of control and
    // bidi characters (an escape sequence in a user code would drive the terminal).
    let verification_uri = clean(details.verification_uri().as_str(), 2000);
    let verification_uri_complete = details.verification_uri_complete().map(|u| clean(u.secret(), 2000));
    let user_code = clean(details.user_code().secret(), 100);
    ui.show(Prompt::DeviceCode {
        verification_uri: &verification_uri,
        verification_uri_complete: verification_uri_complete.as_deref(),
        user_code: &user_code,
        expires_in,
    });
    let response = poll_device(&client, &details, provider).await?;
    // No nonce in the device flow (RFC 8628 has none); the rest of the ID token is checked.
    token_set(provider, &client, &response, None)
}

/// Polls the token endpoint; `tokio`'s clock, so tests run it with paused time.
pub(crate) async fn poll_device(
    client: &FlowClient<EndpointSet>,
    details: &CoreDeviceAuthorizationResponse,
    provider: &Provider,
) -> Result<CoreTokenResponse> {
    let expires_in = details.expires_in();
    let expired = || Error::TimedOut { what: "the sign-in with the device code", seconds: expires_in.as_secs() };
    let mut poll = client.exchange_device_access_token(details);
    if let Some(resource) = &provider.resource {
        poll = poll.add_extra_param("resource", resource.clone());
    }
    // The crate checks expiry against the wall clock; this bound uses tokio's.
    let polling = poll.request_async(&provider.http, tokio::time::sleep, Some(expires_in));
    match tokio::time::timeout(expires_in + Duration::from_secs(1), polling).await {
        Err(_) => Err(provider.http.last_error().map_or_else(expired, Error::from)),
        Ok(Ok(response)) => Ok(response),
        Ok(Err(RequestTokenError::ServerResponse(e))) => Err(match e.error() {
            // The crate's own expiry when the polls failed to get through: say why.
            DeviceCodeErrorResponseType::ExpiredToken => provider.http.last_error().map_or_else(expired, Error::from),
            DeviceCodeErrorResponseType::AccessDenied => {
                Error::IdentityProvider("the sign-in with the device code was refused (access_denied)".into())
            }
            _ => server_refusal("the device sign-in", &e),
        }),
        Ok(Err(e)) => Err(token_error("the device sign-in", e)),
    }
}

/// The token set of a login, after checking its ID token.
fn token_set<D>(
    provider: &Provider,
    client: &FlowClient<D>,
    response: &CoreTokenResponse,
    nonce: Option<&Nonce>,
) -> Result<TokenSet>
where
    D: openidconnect::EndpointState,
{
    let bad = |why: String| {
        Error::IdentityProvider(format!("the ID token from {} failed its checks: {why}", provider.issuer))
    };
    let id_token =
        response.id_token().ok_or_else(|| Error::IdentityProvider(format!("{} sent no ID token", provider.issuer)))?;
    let verifier = client.id_token_verifier();
    let claims = match nonce {
        Some(nonce) => id_token.claims(&verifier, nonce),
        None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(|e| bad(e.to_string()))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| bad(e.to_string()))?;
        let key = id_token.signing_key(&verifier).map_err(|e| bad(e.to_string()))?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, key).map_err(|e| bad(e.to_string()))?;
        if actual != *expected {
            return Err(bad("the access token does not match its hash (at_hash)".into()));
        }
    }
    let mut set = TokenSet {
        access_token: Secret::new(String::new()),
        refresh_token: None,
        expires_at: None,
        obtained_at: 0,
        issuer: provider.issuer.clone(),
        client_id: provider.client_id.clone(),
        scopes: provider.scopes.clone(),
        token_endpoint: provider.token_endpoint()?,
        revocation_endpoint: provider
            .metadata
            .additional_metadata()
            .revocation_endpoint
            .as_ref()
            .map(|u| u.url().to_string()),
        resource: provider.resource.clone(),
        user: claims
            .preferred_username()
            .map(|u| u.as_str().to_string())
            .or_else(|| claims.email().map(|e| e.as_str().to_string()))
            .or_else(|| Some(claims.subject().as_str().to_string())),
    };
    set.take_response(response);
    check_audience(&set, provider)?;
    Ok(set)
}

/// An access token is sent only to the server it was issued for: when a resource was asked
/// for (RFC 8707) and the access token is a JWT that names its audience, the audience must
/// include that resource. A token for another audience (a provider that ignored the
/// resource, a misconfigured client) would be a token another service accepts, handed to
/// this server; the login is refused and nothing is stored.
fn check_audience(set: &TokenSet, provider: &Provider) -> Result<()> {
    let (Some(resource), Some(audience)) = (&provider.resource, super::tokens::jwt_audience(set.access_token.expose()))
    else {
        return Ok(());
    };
    let same = |a: &str| a.trim_end_matches('/') == resource.trim_end_matches('/');
    if audience.iter().any(|a| same(a)) {
        return Ok(());
    }
    Err(Error::IdentityProvider(format!(
        "{} issued an access token for {}, not for {resource}: refused, nothing was stored (ask your admin to \
         let the client ask for this server as its resource, RFC 8707)",
        provider.issuer,
        clean(&audience.join(", "), 200),
    )))
}

/// An error answer of the provider, in words (its text cleaned, never a token: error
/// answers carry none).
pub(crate) fn server_refusal<T: ErrorResponse>(what: &str, e: &T) -> Error {
    Error::IdentityProvider(format!("the identity provider refused {what}: {}", clean(&e.to_string(), 300)))
}

/// A failed token-endpoint request. A body that did not parse is never shown (it may hold
/// tokens): only where it broke.
pub(crate) fn token_error<T: ErrorResponse + 'static>(what: &str, err: RequestTokenError<HttpError, T>) -> Error {
    match err {
        RequestTokenError::Request(e) => e.into(),
        RequestTokenError::ServerResponse(e) => server_refusal(what, &e),
        RequestTokenError::Parse(e, _body) => Error::IdentityProvider(format!(
            "the identity provider's answer to {what} is not a valid token response (at `{}`)",
            clean(&e.path().to_string(), 100)
        )),
        RequestTokenError::Other(text) => Error::IdentityProvider(format!("{what} failed: {}", clean(&text, 300))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::time::Instant;

    use super::*;
    use crate::ErrorKind;
    use crate::oidc::discovery::{Metadata, Source};
    use crate::oidc::http::{Http, json_reply};

    pub(crate) fn provider(http: Http) -> Provider {
        let metadata: Metadata = serde_json::from_str(
            r#"{"issuer": "https://idp", "authorization_endpoint": "https://idp/auth",
                "token_endpoint": "https://idp/token", "jwks_uri": "https://idp/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "device_authorization_endpoint": "https://idp/device",
                "revocation_endpoint": "https://idp/revoke"}"#,
        )
        .unwrap();
        Provider {
            issuer: "https://idp".into(),
            client_id: "mlflow-login".into(),
            scopes: vec!["openid".into(), "offline_access".into()],
            resource: None,
            source: Source::Given,
            metadata,
            http,
        }
    }

    /// The token endpoint answers `answers` in turn (the last one again after that) and
    /// records when (tokio's clock) each poll came.
    fn polled(answers: &'static [(u16, &'static str)]) -> (Http, Arc<Mutex<Vec<Duration>>>) {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let log = times.clone();
        let http = Http::fake(move |request| {
            assert_eq!(request.uri(), "https://idp/token");
            let body = String::from_utf8(request.body().clone()).unwrap();
            assert!(body.contains("device_code=the-device-code"), "{body}");
            let mut log = log.lock().unwrap();
            log.push(start.elapsed());
            let (status, body) = answers[(log.len() - 1).min(answers.len() - 1)];
            Ok(json_reply(status, body))
        });
        (http, times)
    }

    fn details(expires_in: u64, interval: u64) -> CoreDeviceAuthorizationResponse {
        serde_json::from_str(&format!(
            r#"{{"device_code": "the-device-code", "user_code": "ABCD-EFGH", "verification_uri": "https://idp/device",
                "expires_in": {expires_in}, "interval": {interval}}}"#
        ))
        .unwrap()
    }

    const PENDING: (u16, &str) = (400, r#"{"error": "authorization_pending"}"#);
    const SLOW_DOWN: (u16, &str) = (400, r#"{"error": "slow_down"}"#);
    const DENIED: (u16, &str) = (400, r#"{"error": "access_denied"}"#);
    const TOKENS: (u16, &str) = (200, r#"{"access_token": "at", "token_type": "Bearer", "expires_in": 60}"#);

    async fn poll(
        answers: &'static [(u16, &'static str)],
        expires_in: u64,
        interval: u64,
    ) -> (Result<CoreTokenResponse>, Vec<u64>) {
        let (http, times) = polled(answers);
        let provider = provider(http);
        let client = client(&provider).unwrap().set_device_authorization_url(
            openidconnect::DeviceAuthorizationUrl::new("https://idp/device".into()).unwrap(),
        );
        let result = poll_device(&client, &details(expires_in, interval), &provider).await;
        let secs = times.lock().unwrap().iter().map(|d| d.as_secs()).collect();
        (result, secs)
    }

    /// When a resource was asked for, a JWT access token for another
    /// audience is refused; one for the resource (a string or in a list), an opaque token
    /// and a JWT without `aud` pass.
    #[test]
    fn an_access_token_for_another_audience_is_refused() {
        use base64::Engine as _;
        let jwt = |claims: &str| {
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(claims))
        };
        let mut provider = provider(Http::fake(|_| unreachable!()));
        provider.resource = Some("https://mlflow.example/team".into());
        let mut set = crate::oidc::tokens::tests::sample(1_700_000_000, Some(60));
        for (token, ok) in [
            (jwt(r#"{"aud":"https://mlflow.example/team"}"#), true),
            (jwt(r#"{"aud":["urn:x","https://mlflow.example/team/"]}"#), true),
            (jwt(r#"{"sub":"alice"}"#), true),
            ("opaque-token".to_string(), true),
            (jwt(r#"{"aud":"https://lookalike.example"}"#), false),
            (jwt(r#"{"aud":["urn:other-api"]}"#), false),
        ] {
            set.access_token = Secret::new(token.clone());
            let result = check_audience(&set, &provider);
            assert_eq!(result.is_ok(), ok, "{token}: {result:?}");
        }
        // Without a resource asked for, the audience is the provider's to choose.
        provider.resource = None;
        check_audience(&set, &provider).unwrap();
    }

    /// The identity provider's user code and verification URIs reach the
    /// front end cleaned of escape sequences and bidi overrides.
    #[tokio::test(start_paused = true)]
    async fn device_texts_of_the_provider_are_cleaned() {
        let http = Http::fake(|request| {
            Ok(if request.uri() == "https://idp/device" {
                json_reply(
                    200,
                    r#"{"device_code": "dc", "user_code": "AB\u001b]0;owned\u0007CD\u202e",
                        "verification_uri": "https://idp/device",
                        "verification_uri_complete": "https://idp/device?code=\u001b[2JX",
                        "expires_in": 60, "interval": 1}"#,
                )
            } else {
                json_reply(DENIED.0, DENIED.1)
            })
        });
        struct Seen(Mutex<Vec<String>>);
        impl Interaction for Seen {
            fn show(&self, prompt: Prompt<'_>) {
                if let Prompt::DeviceCode { verification_uri, verification_uri_complete, user_code, .. } = prompt {
                    let mut seen = self.0.lock().unwrap();
                    seen.extend([verification_uri.to_string(), user_code.to_string()]);
                    seen.extend(verification_uri_complete.map(str::to_string));
                }
            }
        }
        let seen = Seen(Mutex::new(Vec::new()));
        let err = device(&provider(http), &seen).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{err}");
        let seen = seen.0.into_inner().unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        for text in &seen {
            assert!(!text.chars().any(|c| c.is_control() || c == '\u{202e}'), "{text:?}");
        }
        assert_eq!(seen[1], "AB ]0;owned CD");
    }

    #[tokio::test(start_paused = true)]
    async fn device_polling_honours_interval_and_slow_down() {
        let (result, times) = poll(&[PENDING, SLOW_DOWN, PENDING, SLOW_DOWN, TOKENS], 600, 2).await;
        assert_eq!(result.unwrap().access_token().secret(), "at");
        // Every 2 s; after each slow_down, 5 s more.
        assert_eq!(times, [0, 2, 9, 16, 28]);
    }

    #[tokio::test(start_paused = true)]
    async fn device_polling_ends() {
        // The code expires: bounded by expires_in, on tokio's clock.
        let (result, times) = poll(&[PENDING], 10, 3).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::TimedOut);
        assert!(times.len() >= 3 && *times.last().unwrap() <= 11, "{times:?}");
        // Refused: ends at once with the provider's answer.
        let (result, times) = poll(&[PENDING, DENIED], 600, 1).await;
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdentityProvider);
        assert!(err.to_string().contains("access_denied"), "{err}");
        assert_eq!(times, [0, 1]);
        // Unreachable all along: backs off, and says why it ended.
        let provider = provider(Http::fake(|r| {
            Err(crate::oidc::http::HttpError { url: r.uri().to_string(), detail: "connection refused".into() })
        }));
        let client = client(&provider).unwrap().set_device_authorization_url(
            openidconnect::DeviceAuthorizationUrl::new("https://idp/device".into()).unwrap(),
        );
        let err = poll_device(&client, &details(30, 1), &provider).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdpUnreachable, "{err}");
        // Expired at the provider.
        let (result, _) = poll(&[(400, r#"{"error": "expired_token"}"#)], 600, 1).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::TimedOut);
    }
}
