//! Every row of PRODUCT.md's verification table, against the real fixtures: nginx with
//! auth_basic in front of a real MLflow, MLflow's own basic-auth app, TLS with a private
//! CA, and the decoys. Each refused or unchecked login stores nothing.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// Logs in and expects `code`; on failure, checks that nothing was stored.
fn expect(world: &World, url: &str, user: &str, pw: &str, extra: &[&str], code: i32, words: &[&str]) -> String {
    let out = world.login("s", url, user, pw, extra);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(code), "{url}: {all}");
    let lower = all.to_lowercase();
    for w in words {
        assert!(lower.contains(&w.to_lowercase()), "{url}: expected {w:?} in: {all}");
    }
    assert!(!all.contains(pw), "the password leaked into the output: {all}");
    if code != 0 {
        assert!(lower.contains("nothing was stored"), "{all}");
        assert_eq!(world.list_json().as_array().unwrap().len(), 0, "a refused login must not save the server");
        let stored_url = url.trim_end_matches('/');
        assert_eq!(world.keychain(stored_url, user), None, "a refused login must not touch the keychain");
    }
    all
}

#[test]
fn ok_through_nginx_bcrypt_user_is_stored_in_the_real_keychain() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    let pw = fx("MLL_ALICE_PW");
    let out = expect(&w, &url, "alice", &pw, &[], 0, &["verified", "logged in to s as alice"]);
    assert!(out.contains("is the active server"), "{out}");
    assert_eq!(w.keychain(&url, "alice").as_deref(), Some(pw.as_str()));
    let list = w.list_json();
    assert_eq!(list[0]["has_secret"], true);
    assert_eq!(list[0]["active"], true);
}

#[test]
fn ok_apr1_user_and_utf8_password_with_colon() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    expect(&w, &url, "bob", &fx("MLL_BOB_PW"), &[], 0, &[]);
    let carol = fx("MLL_CAROL_PW");
    assert!(carol.contains(':') && !carol.is_ascii());
    let out = w.run_stdin(&["login", "c", "--url", &url, "--username", "carol", "--password-stdin"], &carol);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.keychain(&url, "carol").as_deref(), Some(carol.as_str()));
}

#[test]
fn ok_under_a_sub_path() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_SUBPATH_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 0, &[]);
    // A trailing slash is the same server.
    let url = format!("{}/", fx("MLL_NGINX_SUBPATH_URL"));
    expect(&w, &url, "alice", &fx("MLL_ALICE_PW"), &[], 0, &["updated"]);
}

#[test]
fn ok_with_mlflow_basic_auth_app() {
    let w = World::new();
    expect(&w, &fx("MLL_MLFLOW_AUTH_URL"), "erin", &fx("MLL_ERIN_PW"), &[], 0, &[]);
}

#[test]
fn bad_credentials_refused_by_the_proxy() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_URL"), "alice", "wrong-password", &[], 3, &["password", "proxy"]);
    expect(&w, &fx("MLL_NGINX_URL"), "nobody", "no-such-password", &[], 3, &["password"]);
}

#[test]
fn bad_credentials_refused_by_mlflow_auth_app() {
    let w = World::new();
    expect(&w, &fx("MLL_MLFLOW_AUTH_URL"), "erin", "wrong-password", &[], 3, &["password", "mlflow"]);
}

#[test]
fn other_auth_scheme() {
    let w = World::new();
    expect(&w, &fx("MLL_BEARER_URL"), "alice", "not-the-password", &[], 3, &["bearer"]);
}

#[test]
fn forbidden_by_the_proxy() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_URL"), "dave", &fx("MLL_DAVE_PW"), &[], 3, &["refuse"]);
}

#[test]
fn forbidden_by_mlflow_host_check() {
    let w = World::new();
    expect(&w, &fx("MLL_HOSTCHECK_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 3, &["host"]);
}

#[test]
fn not_mlflow_sso_page() {
    let w = World::new();
    expect(&w, &fx("MLL_SSO_URL"), "alice", "not-the-password", &[], 4, &["not an mlflow"]);
}

#[test]
fn not_mlflow_redirect_to_a_login_page() {
    let w = World::new();
    expect(&w, &fx("MLL_LOGIN_REDIRECT_URL"), "alice", "not-the-password", &[], 4, &["redirect", "/login"]);
}

#[test]
fn redirect_to_https_says_use_https() {
    let w = World::new();
    expect(&w, &fx("MLL_HTTPS_REDIRECT_URL"), "alice", "not-the-password", &[], 4, &["https://"]);
}

#[test]
fn wrong_base_path() {
    let w = World::new();
    let url = format!("{}/nothing-here", fx("MLL_NGINX_URL"));
    expect(&w, &url, "alice", &fx("MLL_ALICE_PW"), &[], 4, &["path"]);
}

#[test]
fn mlflow_down_behind_the_proxy() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_DOWN_URL"), "alice", &fx("MLL_ALICE_PW"), &[], 4, &["proxy"]);
}

#[test]
fn unreachable_refused() {
    let w = World::new();
    expect(&w, &fx("MLL_CLOSED_URL"), "alice", "not-the-password", &[], 4, &["refused"]);
}

#[test]
fn unreachable_timeout() {
    let w = World::new();
    expect(&w, &fx("MLL_BLACKHOLE_URL"), "alice", "not-the-password", &[], 4, &["time"]);
}

#[test]
fn unreachable_dns() {
    let w = World::new();
    expect(&w, "http://no-such-host.invalid", "alice", "not-the-password", &[], 4, &["no-such-host.invalid"]);
}

#[test]
fn tls_private_ca_needs_a_ca_bundle() {
    let w = World::new();
    let url = fx("MLL_NGINX_TLS_URL");
    let pw = fx("MLL_ALICE_PW");
    expect(&w, &url, "alice", &pw, &[], 4, &["certificate", "ca"]);
    let ca = fx("MLL_TLS_CA");
    expect(&w, &url, "alice", &pw, &["--ca-bundle", &ca], 0, &[]);
    // The CA bundle is remembered, and exported for MLflow's own client.
    let env = w.run(&["env", "s", "--shell", "bash"]);
    assert!(stdout(&env).contains("MLFLOW_TRACKING_SERVER_CERT_PATH="), "{}", text(&env));
}

#[test]
fn plain_http_to_the_https_port() {
    let w = World::new();
    expect(&w, &fx("MLL_NGINX_TLS_AS_HTTP_URL"), "alice", "not-the-password", &[], 4, &["https://"]);
}
