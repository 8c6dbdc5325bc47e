//! The plugin's contract, generated from core: `python/tests/contract.generated.json` holds
//! sample answers of `mlflow-login credential` (made by `Answer::to_json`, the one
//! serialisation), URL-normalisation cases and server-choice cases (computed by core's
//! `request_url` and `server_for_url`). The Python tests read it, so a renamed field or a
//! changed rule fails them instead of a user's run. This test fails when the file is
//! stale. To regenerate after changing the answer or a rule:
//!
//!     MLL_UPDATE_CONTRACT=1 cargo test -p mlflow-login-core --test plugin_contract
#![allow(clippy::unwrap_used)]

use std::path::Path;

use mlflow_login_core::credential::{Answer, Credential, request_url, server_for_url};
use mlflow_login_core::{AuthKind, Config, Fresh, Secret, Server};
use serde_json::{Value, json};

/// A password with what quoting and encodings get wrong.
const SECRET: &str = "s3cr3t-üñí:$'\"`\\";

fn server(url: &str, auth: AuthKind, username: Option<&str>) -> Server {
    let mut s = Server::new_basic(url, username.unwrap_or("x")).unwrap();
    s.auth = auth;
    s.username = username.map(str::to_string);
    s
}

fn answer(config: &Config, picked: Option<&str>, fresh: Option<Fresh>) -> Value {
    let mut a = Answer::new("/home/u/.config/mlflow-login".into(), "1765000000123".into(), config);
    a.server = picked.map(str::to_string);
    a.credential = picked.zip(fresh).map(|(n, f)| Credential::new(&config.servers[n], f));
    serde_json::from_str(&a.to_json()).unwrap()
}

fn answers() -> Value {
    let mut config = Config::default();
    config.servers.insert("prod".into(), server("https://mlflow.example.com", AuthKind::Basic, Some("alice")));
    config.servers.insert("tok".into(), server("https://tok.example.com/mlflow", AuthKind::Bearer, None));
    config.servers.insert("corp".into(), server("https://corp.example.com", AuthKind::Sso, None));
    config.active = Some("prod".into());
    let stored = || Fresh::stored(Secret::new(SECRET.into()));
    let mut sso = stored();
    (sso.expires_at, sso.refresh_at) = (Some(1_765_003_600), Some(1_765_003_540));
    sso.fingerprint = Some(mlflow_login_core::oidc::Fingerprint::of(&Secret::new("an-access-token".into())));
    json!({
        "basic": answer(&config, Some("prod"), Some(stored())),
        "bearer": answer(&config, Some("tok"), Some(stored())),
        "sso": answer(&config, Some("corp"), Some(sso)),
        "no_credential": answer(&config, Some("prod"), None),
        "no_server": answer(&config, None, None),
    })
}

/// Request URLs as the plugin sees them (no user info: it strips that first).
const URLS: &[&str] = &[
    "https://Example.COM:443/mlflow/",
    "http://127.0.0.1:5000",
    "http://127.0.0.1:80/",
    "https://h/a/b/",
    "HTTP://H:8080/Mlflow/api?x=1#f",
    "http://[::1]:80/x",
    "https://h:8443/api/2.0/mlflow/runs/get?run_id=1",
    "https://h/mlflow/ajax-api/2.0/x#top",
    "http://h:8080/mlflow2/api",
    "https://h:443",
];

fn normalisation() -> Value {
    URLS.iter()
        .map(|u| match request_url(u) {
            Ok(n) => json!({ "url": u, "normalized": n }),
            Err(_) => json!({ "url": u, "error": true }),
        })
        .collect()
}

/// Servers (name, URL) and the active one.
type World = (&'static [(&'static str, &'static str)], Option<&'static str>);

/// Server lists and which server each request URL gets.
fn choices() -> Value {
    let worlds: [World; 3] = [
        (&[("root", "http://h:8080"), ("sub", "http://h:8080/mlflow"), ("tls", "https://h")], None),
        (&[("a", "http://h"), ("b", "http://h")], Some("b")),
        (&[("a", "http://h"), ("b", "http://h"), ("c", "http://h/x")], None),
    ];
    let urls = [
        "http://h:8080/api/2.0/mlflow/runs/get?run_id=1",
        "http://H:8080/mlflow/api/2.0/x",
        "http://h:8080/mlflow",
        "http://h:8080/mlflow/",
        "http://h:8080/mlflow2/api",
        "https://h:443/api/2.0/x",
        "http://h/api",
        "http://h/x/api",
        "http://h/xy",
        "http://other:8080/api",
    ];
    worlds
        .iter()
        .map(|(servers, active)| {
            let mut config = Config::default();
            for (name, url) in *servers {
                config.servers.insert((*name).into(), server(url, AuthKind::Basic, Some("u")));
            }
            config.active = active.map(str::to_string);
            let cases: Vec<Value> = urls
                .iter()
                .map(|u| json!({ "url": u, "server": server_for_url(&config, u).unwrap().map(|(n, _)| n) }))
                .collect();
            let listed = Answer::new("/c".into(), String::new(), &config).servers;
            json!({ "active": active, "servers": listed, "cases": cases })
        })
        .collect()
}

fn contract() -> String {
    let doc = json!({
        "//": "Generated from crates/core/src/credential.rs by crates/core/tests/plugin_contract.rs; do not edit. Regenerate: MLL_UPDATE_CONTRACT=1 cargo test -p mlflow-login-core --test plugin_contract",
        "version": mlflow_login_core::credential::VERSION,
        "secret": SECRET,
        "answers": answers(),
        "normalize": normalisation(),
        "choice": choices(),
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

#[test]
fn the_plugins_contract_file_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tests/contract.generated.json");
    let want = contract();
    if std::env::var_os("MLL_UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: regenerate it with\n  MLL_UPDATE_CONTRACT=1 cargo test -p mlflow-login-core --test plugin_contract\nand commit the result",
        path.display()
    );
}
