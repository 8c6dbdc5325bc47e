//! Real tests against the fixture identity provider (npm `oidc-provider`), its scripted
//! browser and the Apache `mod_auth_openidc` proxy in front of MLflow
//! (tests/fixtures/oidc/README.md). Run with the fixtures up:
//!
//! ```sh
//! tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh \
//!     cargo test -p mlflow-login-core --lib oidc::tests::real -- --ignored --test-threads 1
//! ```
//!
//! One at a time: the refresh test counts the IdP's token requests of its own client, and
//! the device test forces `slow_down` for the next poll of any client.

#![allow(clippy::unwrap_used)]

mod real {
    use std::process::{Child, Command};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::ErrorKind;
    use crate::oidc::tokens::now_unix;
    use crate::oidc::{
        Flow, Interaction, LoginOptions, Overrides, Prompt, Provider, RefreshOptions, Refreshed, Revoked, Source,
        TokenSet, discover, login, refresh_locked, revoke,
    };
    use crate::server::{AuthKind, Server, normalize_url};
    use crate::vault::{EntryKey, KeyringVault, Vault};
    use crate::verify::{Outcome, VerifyOptions, verify};

    /// A fixture variable; without the fixtures, the test fails saying how to run it.
    fn var(name: &str) -> String {
        let how = "run the real SSO tests with the fixtures, e.g. `tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh cargo test -p mlflow-login-core --lib oidc::tests::real -- --ignored --test-threads 1` (see tests/fixtures/oidc/README.md)";
        if std::env::var_os("MLL_OIDC_ISSUER").is_none_or(|v| v.is_empty()) {
            panic!("MLL_OIDC_ISSUER is not set: {how}");
        }
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => v,
            _ => panic!("{name} is not set: {how}"),
        }
    }

    fn bearer_server(url: &str) -> Server {
        Server {
            url: normalize_url(url).unwrap().to_string_normalized(),
            username: None,
            auth: AuthKind::Bearer,
            ca_bundle: None,
            client_cert: None,
            insecure_tls: false,
            sso: None,
            workspace: None,
            personal_token: None,
        }
    }

    fn proxy() -> Server {
        bearer_server(&var("MLL_OIDC_PROXY_URL"))
    }

    /// An MLflow server with `insecure_tls` (the TLS fixture, whose CA
    /// is not given) is read insecurely, but its origin as an identity provider is not: the
    /// identity-provider client refuses the unverifiable certificate.
    #[tokio::test]
    #[ignore = "needs the fixtures (tests/fixtures/up.sh)"]
    async fn real_the_identity_provider_client_is_never_insecure() {
        var("MLL_OIDC_ISSUER");
        let url = var("MLL_NGINX_TLS_URL");
        let server = Server { insecure_tls: true, ..bearer_server(&url) };
        let http = crate::oidc::http::Http::for_server(&server, Duration::from_secs(10)).await.unwrap();
        let target = url::Url::parse(&format!("{url}/.well-known/openid-configuration")).unwrap();
        let read = http.for_resource().get(&target).await;
        assert!(read.is_ok(), "the server itself is read with its own settings: {:?}", read.err());
        let err = http.get(&target).await.expect_err("the IdP client accepted an unverified certificate");
        assert!(err.detail.to_lowercase().contains("certificate"), "{err}");
    }

    fn opts(timeout_secs: u64) -> LoginOptions {
        LoginOptions { timeout: Duration::from_secs(timeout_secs), ..LoginOptions::default() }
    }

    /// The scripted browser as a front end would start it: spawned, not waited for.
    struct ScriptedBrowser {
        mode: &'static str,
        children: Mutex<Vec<Child>>,
        shown: Mutex<Vec<String>>,
    }

    impl ScriptedBrowser {
        fn new(mode: &'static str) -> Arc<Self> {
            Arc::new(Self { mode, children: Mutex::new(Vec::new()), shown: Mutex::new(Vec::new()) })
        }

        /// Waits for the browsers started; true when all exited 0.
        fn finish(&self) -> bool {
            let mut ok = true;
            for mut child in self.children.lock().unwrap().drain(..) {
                ok &= child.wait().unwrap().success();
            }
            ok
        }
    }

    impl Interaction for ScriptedBrowser {
        fn show(&self, prompt: Prompt<'_>) {
            let mut command = Command::new(var("MLL_OIDC_BROWSER"));
            command.env("MLL_BROWSER_MODE", self.mode);
            match prompt {
                Prompt::OpenBrowser { url } => {
                    self.shown.lock().unwrap().push(url.to_string());
                    command.arg(url);
                }
                Prompt::DeviceCode { verification_uri, user_code, .. } => {
                    self.shown.lock().unwrap().push(format!("{verification_uri} {user_code}"));
                    command.args(["--device", verification_uri, user_code]);
                }
                Prompt::SigningIn { .. } => return,
            }
            self.children.lock().unwrap().push(command.spawn().expect("start the scripted browser"));
        }
    }

    /// A client for the fixture's test routes (rustls needs its provider first).
    fn plain_client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    fn json_post(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
        request.header("content-type", "application/json").body(body.to_string())
    }

    async fn admin(method: &str, route: &str, body: Value) -> Value {
        let url = format!("{}/{route}", var("MLL_OIDC_ADMIN_URL"));
        let client = plain_client();
        let request = if method == "POST" { json_post(client.post(&url), &body) } else { client.get(&url) };
        let reply = request.send().await.unwrap();
        assert!(reply.status().is_success(), "{url}: {}", reply.status());
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap_or(Value::Null)
    }

    /// A client of this test's own (dynamic registration), so its counts are its own.
    async fn own_client(ttl_secs: u64) -> String {
        let url = format!("{}/reg", var("MLL_OIDC_ISSUER"));
        let body = json!({
            "application_type": "native", "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
            "response_types": ["code"], "redirect_uris": ["http://127.0.0.1/callback"],
            "mll_access_token_ttl": ttl_secs,
        });
        let reply = json_post(plain_client().post(url), &body).send().await.unwrap();
        assert_eq!(reply.status(), 201);
        let value: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        value["client_id"].as_str().unwrap().to_string()
    }

    async fn refreshes(client_id: &str) -> Vec<String> {
        let events = admin("GET", &format!("events?client_id={client_id}"), Value::Null).await;
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["grant_type"] == "refresh_token")
            .map(|e| e["outcome"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn provider_for(client_id: &str) -> Provider {
        let overrides = Overrides { client_id: Some(client_id.into()), ..Overrides::default() };
        discover(&proxy(), &overrides, &opts(30)).await.unwrap()
    }

    async fn browser_login(provider: &Provider) -> TokenSet {
        let browser = ScriptedBrowser::new("ok");
        let set = login(provider, Flow::Browser, &*browser, std::future::pending(), &opts(60)).await.unwrap();
        assert!(browser.finish(), "the scripted browser saw the listener's page");
        set
    }

    /// The proxy accepts the access token.
    async fn accepted(set: &TokenSet) -> Outcome {
        verify(&proxy(), Some(&set.access_token), &VerifyOptions::default()).await.outcome
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_discovery() {
        // RFC 9728 metadata named by the proxy's challenge; no client id in it.
        let err = discover(&proxy(), &Overrides::default(), &opts(30)).await.unwrap_err();
        assert!(matches!(err, crate::Error::InvalidInput { field: "client_id", .. }), "{err}");
        let provider = provider_for(&var("MLL_OIDC_CLIENT_ID")).await;
        assert_eq!(provider.issuer(), var("MLL_OIDC_ISSUER"));
        let metadata_url = format!("{}/.well-known/oauth-protected-resource", var("MLL_OIDC_PROXY_URL"));
        assert_eq!(provider.source(), &Source::ResourceMetadata { url: metadata_url });
        assert!(provider.supports_device_flow() && provider.supports_revocation());
        assert_eq!(provider.scopes(), ["openid", "offline_access"]);
        // The dialog's pre-fill: the issuer without a client id, no error.
        let hints = crate::oidc::hints(&proxy(), &opts(30)).await.unwrap();
        assert_eq!(hints.issuer.as_deref(), Some(var("MLL_OIDC_ISSUER").as_str()));
        assert_eq!(hints.client_id, None);
        assert_eq!(hints.resource.as_deref(), Some(var("MLL_OIDC_RESOURCE").as_str()));
        // The oauth2-proxy style redirect gives issuer and client id.
        let redirecting = bearer_server(&var("MLL_OIDC_REDIRECT_PROXY_URL"));
        let provider = discover(&redirecting, &Overrides::default(), &opts(30)).await.unwrap();
        assert_eq!(provider.issuer(), var("MLL_OIDC_ISSUER"));
        assert_eq!(provider.client_id(), "mlflow-login");
        assert!(matches!(provider.source(), Source::Redirect { .. }), "{:?}", provider.source());
        // Nothing to find: the error names --issuer.
        let nothing = bearer_server(&var("MLL_SSO_URL"));
        let err = discover(&nothing, &Overrides::default(), &opts(30)).await.unwrap_err();
        assert!(matches!(err, crate::Error::InvalidInput { field: "issuer", .. }), "{err}");
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_browser_flow() {
        let provider = provider_for(&var("MLL_OIDC_CLIENT_ID")).await;
        let set = browser_login(&provider).await;
        assert_eq!(set.issuer, var("MLL_OIDC_ISSUER"));
        assert!(set.refresh_token.is_some());
        assert!(set.expires_at.is_some_and(|e| e > now_unix()));
        assert_eq!(accepted(&set).await, Outcome::Ok);
        let shown = format!("{set:?}");
        assert!(!shown.contains(set.access_token.expose()), "{shown}");
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_browser_flow_ends() {
        let provider = provider_for(&var("MLL_OIDC_CLIENT_ID")).await;
        // The person presses Cancel: the provider's error ends the wait.
        let browser = ScriptedBrowser::new("deny");
        let err = login(&provider, Flow::Browser, &*browser, std::future::pending(), &opts(60)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{err}");
        assert!(err.to_string().contains("access_denied"), "{err}");
        browser.finish();
        // A browser that cannot open: the timeout ends the wait.
        let browser = ScriptedBrowser::new("fail");
        let err = login(&provider, Flow::Browser, &*browser, std::future::pending(), &opts(2)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(!browser.finish());
        assert_eq!(browser.shown.lock().unwrap().len(), 1, "the URL was handed over to show");
        // Cancelled by the caller.
        let browser = ScriptedBrowser::new("fail");
        let cancel = tokio::time::sleep(Duration::from_millis(300));
        let err = login(&provider, Flow::Browser, &*browser, cancel, &opts(60)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
        browser.finish();
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_device_flow() {
        let client_id = own_client(30).await;
        let provider = provider_for(&client_id).await;
        // The next poll answers slow_down: the flow waits 5 s more and still succeeds.
        admin("POST", "device-slow-down", json!({"count": 1})).await;
        let browser = ScriptedBrowser::new("ok");
        let set = login(&provider, Flow::Device, &*browser, std::future::pending(), &opts(120)).await.unwrap();
        assert!(browser.finish());
        assert_eq!(accepted(&set).await, Outcome::Ok);
        let stats = admin("GET", "stats", Value::Null).await;
        let device = &stats["by_client"][&client_id]["device_code"];
        assert!(device["slow_down"].as_u64().unwrap_or(0) >= 1, "{stats}");
        assert_eq!(device["ok"], 1, "{stats}");
        // Refused on the device page.
        let browser = ScriptedBrowser::new("deny");
        let err = login(&provider, Flow::Device, &*browser, std::future::pending(), &opts(120)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IdentityProvider, "{err}");
        browser.finish();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_refresh_rotation_with_concurrent_refreshers() {
        const TTL: u64 = 3;
        let client_id = own_client(TTL).await;
        let provider = provider_for(&client_id).await;
        let set = browser_login(&provider).await;
        let server = proxy();
        let key = EntryKey {
            service: format!("mlflow-login-test-{:x}:{}", fastrand::u64(..), server.url),
            account: "token".into(),
        };
        let vault = Arc::new(KeyringVault::default());
        let lock_dir = tempfile::tempdir().unwrap();
        vault.set(&key, &set.to_secret()).unwrap();
        let mut access_tokens = vec![set.access_token.clone()];
        for round in 1..=3 {
            // Across an expiry (the margin of a 3 s token is 0 s: wait it out).
            let stored = TokenSet::from_secret(&vault.get(&key).unwrap().unwrap()).unwrap();
            let wait = stored.expires_at.unwrap().saturating_sub(now_unix()) + 1;
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let (vault, key, server) = (vault.clone(), key.clone(), server.clone());
                let dir = lock_dir.path().to_path_buf();
                tasks.push(tokio::spawn(async move {
                    refresh_locked(&server, &*vault, &key, &dir, &RefreshOptions::default()).await
                }));
            }
            let mut now = 0;
            let mut tokens = Vec::new();
            for task in tasks {
                let (set, how) = task.await.unwrap().unwrap();
                now += usize::from(how == Refreshed::Now);
                tokens.push(set.access_token);
            }
            assert_eq!(now, 1, "round {round}: one process refreshed");
            assert!(tokens.windows(2).all(|w| w[0] == w[1]), "round {round}: all use the new token");
            assert!(!access_tokens.contains(&tokens[0]), "round {round}: a new token");
            access_tokens.push(tokens[0].clone());
            let stored = TokenSet::from_secret(&vault.get(&key).unwrap().unwrap()).unwrap();
            assert_eq!(accepted(&stored).await, Outcome::Ok, "round {round}");
            assert_eq!(refreshes(&client_id).await, vec!["ok".to_string(); round], "round {round}: never a reuse");
        }
        vault.delete(&key).unwrap();
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_replay_and_ended_sessions_mean_log_in_again() {
        let client_id = own_client(30).await;
        let provider = provider_for(&client_id).await;
        let http = &provider.http;
        // Reusing a rotated refresh token: invalid_grant, and the IdP ends the grant, so the
        // newest token fails too.
        let first = browser_login(&provider).await;
        let second = crate::oidc::refresh::refresh_with(http, &first).await.unwrap();
        assert_ne!(second.refresh_token, first.refresh_token, "rotated");
        let err = crate::oidc::refresh::refresh_with(http, &first).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired, "{err}");
        let err = crate::oidc::refresh::refresh_with(http, &second).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired, "{err}");
        // The IdP ends the session.
        let set = browser_login(&provider).await;
        let granted = admin("POST", "revoke-grants", json!({"user": var("MLL_OIDC_USER")})).await;
        assert!(granted["grants"].as_u64().unwrap() >= 1, "{granted}");
        let err = crate::oidc::refresh::refresh_with(http, &set).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired, "{err}");
        assert!(!err.to_string().contains(set.refresh_token.as_ref().unwrap().expose()));
    }

    #[tokio::test]
    #[ignore = "needs the SSO fixtures (tests/fixtures/oidc/README.md)"]
    async fn real_revocation() {
        let client_id = own_client(30).await;
        let provider = provider_for(&client_id).await;
        let set = browser_login(&provider).await;
        assert_eq!(revoke(&proxy(), &set, Duration::from_secs(15)).await.unwrap(), Revoked::Done);
        let events = admin("GET", &format!("events?client_id={client_id}"), Value::Null).await;
        let revoked =
            events["events"].as_array().unwrap().iter().any(|e| e["endpoint"] == "revocation" && e["outcome"] == "ok");
        assert!(revoked, "{events}");
        let err = crate::oidc::refresh::refresh_with(&provider.http, &set).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired, "{err}");
    }
}

#[test]
fn device_flow_over_ssh_or_without_display() {
    use super::Flow;
    assert_eq!(Flow::choose(false, true), Flow::Browser);
    assert_eq!(Flow::choose(true, true), Flow::Device);
    assert_eq!(Flow::choose(false, false), Flow::Device);
}

/// The tray awaits these on tokio's multi-thread runtime: their futures must be `Send`.
#[allow(dead_code, clippy::diverging_sub_expression)]
fn futures_are_send() {
    fn send<T: Send>(_: T) {}
    fn never<T>() -> T {
        unreachable!()
    }
    let server: crate::Server = never();
    let provider: super::Provider = never();
    let set: super::TokenSet = never();
    let ui: &dyn super::Interaction = never();
    let vault: &dyn crate::Vault = never();
    let key: crate::EntryKey = never();
    let opts = super::LoginOptions::default();
    send(super::discover(&server, &super::Overrides::default(), &opts));
    send(super::login(&provider, super::Flow::Browser, ui, async {}, &opts));
    send(super::refresh_locked(&server, vault, &key, std::path::Path::new(""), &super::RefreshOptions::default()));
    send(super::revoke(&server, &set, std::time::Duration::from_secs(1)));
}
