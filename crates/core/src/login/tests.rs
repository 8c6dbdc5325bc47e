//! The merge rules of the module table, one row each, and the use case end to end over an
//! in-memory vault and a local server that answers like MLflow.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::ErrorKind;
use crate::config::{ConfigStore, Paths};
use crate::vault::{EntryKey, MemoryVault};
use crate::verify::OutcomeKind;

struct Files {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    ca2: PathBuf,
    cert: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| {
        let p = dir.path().join(n);
        std::fs::write(&p, "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::canonicalize(p).unwrap()
    };
    let (ca, ca2, cert) = (path("ca.pem"), path("ca2.pem"), path("client.pem"));
    Files { _dir: dir, ca, ca2, cert }
}

/// A token server with every TLS setting, as "log in again" finds it.
fn known(f: &Files) -> Server {
    Server {
        url: "https://h.example/mlflow".into(),
        username: Some("alice".into()),
        auth: AuthKind::Bearer,
        ca_bundle: Some(f.ca.clone()),
        client_cert: Some(f.cert.clone()),
        insecure_tls: true,
        sso: None,
        workspace: None,
        personal_token: None,
    }
}

fn input(mode: LoginMode) -> LoginInput {
    LoginInput {
        name: "prod".into(),
        mode,
        url: None,
        username: Change::Keep,
        auth: None,
        ca_bundle: Change::Keep,
        client_cert: Change::Keep,
        insecure_tls: None,
        sso: SsoSettings::default(),
        secret: Secret::new("tok".into()),
        verify: true,
        activate: Activate::IfNone,
    }
}

/// The plan a row expects: the saved server and the settings dropped.
type Expected = fn(&Files) -> (Server, Vec<Setting>);

/// One row of the table: a change to the input, and what the plan must be.
struct Row {
    what: &'static str,
    known: bool,
    mode: LoginMode,
    change: fn(&mut LoginInput, &Files),
    expect: Result<Expected, (&'static str, ErrorKind)>,
}

fn moved(f: &Files) -> Server {
    Server { url: "https://other.example".into(), ca_bundle: None, client_cert: None, insecure_tls: false, ..known(f) }
}

#[test]
fn merge_rules() {
    let rows = [
        Row {
            what: "log in again keeps everything: auth kind, CA bundle, client cert, insecure, username",
            known: true,
            mode: LoginMode::Edit,
            change: |_, _| {},
            expect: Ok(|f| (known(f), vec![])),
        },
        Row {
            what: "the same URL typed again (other spelling) keeps everything",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.url = Some("HTTPS://H.example:443/mlflow/".into()),
            expect: Ok(|f| (known(f), vec![])),
        },
        Row {
            what: "a new sub-path on the same origin keeps the TLS settings",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.url = Some("https://h.example/v2".into()),
            expect: Ok(|f| (Server { url: "https://h.example/v2".into(), ..known(f) }, vec![])),
        },
        Row {
            what: "a URL on another host drops CA bundle, client cert and insecure, and says so",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.url = Some("https://other.example".into()),
            expect: Ok(|f| (moved(f), vec![Setting::CaBundle, Setting::ClientCert, Setting::InsecureTls])),
        },
        Row {
            what: "another port is another origin",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.url = Some("https://h.example:8443/mlflow".into()),
            expect: Ok(|f| {
                let s = Server { url: "https://h.example:8443/mlflow".into(), ..moved(f) };
                (s, vec![Setting::CaBundle, Setting::ClientCert, Setting::InsecureTls])
            }),
        },
        Row {
            what: "a moved URL keeps what is given again explicitly",
            known: true,
            mode: LoginMode::Edit,
            change: |i, f| {
                i.url = Some("https://other.example".into());
                i.ca_bundle = Change::Set(f.ca2.clone());
                i.insecure_tls = Some(true);
            },
            expect: Ok(|f| {
                (Server { ca_bundle: Some(f.ca2.clone()), insecure_tls: true, ..moved(f) }, vec![Setting::ClientCert])
            }),
        },
        Row {
            what: "--no-insecure-tls turns insecure off",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.insecure_tls = Some(false),
            expect: Ok(|f| (Server { insecure_tls: false, ..known(f) }, vec![])),
        },
        Row {
            what: "--no-ca-bundle and --no-client-cert clear them",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| {
                i.ca_bundle = Change::Clear;
                i.client_cert = Change::Clear;
            },
            expect: Ok(|f| (Server { ca_bundle: None, client_cert: None, ..known(f) }, vec![])),
        },
        Row {
            what: "a new CA bundle replaces the old one",
            known: true,
            mode: LoginMode::Edit,
            change: |i, f| i.ca_bundle = Change::Set(f.ca2.clone()),
            expect: Ok(|f| (Server { ca_bundle: Some(f.ca2.clone()), ..known(f) }, vec![])),
        },
        Row {
            what: "switching a token server to Basic keeps its username",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.auth = Some(AuthKind::Basic),
            expect: Ok(|f| (Server { auth: AuthKind::Basic, ..known(f) }, vec![])),
        },
        Row {
            what: "a token server may clear its username label",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.username = Change::Set("  ".into()),
            expect: Ok(|f| (Server { username: None, ..known(f) }, vec![])),
        },
        Row {
            what: "Basic without a username is refused on the username field",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| {
                i.auth = Some(AuthKind::Basic);
                i.username = Change::Clear;
            },
            expect: Err(("username", ErrorKind::InvalidInput)),
        },
        Row {
            what: "adding with the name of a known server is refused on the name field",
            known: true,
            mode: LoginMode::Add,
            change: |i, _| {
                i.url = Some("https://new.example".into());
                i.username = Change::Set("bob".into());
            },
            expect: Err(("name", ErrorKind::InvalidInput)),
        },
        Row {
            what: "editing a server that does not exist is not found",
            known: false,
            mode: LoginMode::Edit,
            change: |_, _| {},
            expect: Err(("name", ErrorKind::NotFound)),
        },
        Row {
            what: "a new server needs a URL",
            known: false,
            mode: LoginMode::Add,
            change: |i, _| i.username = Change::Set("bob".into()),
            expect: Err(("url", ErrorKind::InvalidInput)),
        },
        Row {
            what: "a new server is Basic, secure, with what was given",
            known: false,
            mode: LoginMode::Add,
            change: |i, f| {
                i.url = Some("https://new.example/".into());
                i.username = Change::Set("bob".into());
                i.client_cert = Change::Set(f.cert.clone());
            },
            expect: Ok(|f| {
                let s = Server {
                    url: "https://new.example".into(),
                    username: Some("bob".into()),
                    auth: AuthKind::Basic,
                    ca_bundle: None,
                    client_cert: Some(f.cert.clone()),
                    insecure_tls: false,
                    sso: None,
                    workspace: None,
                    personal_token: None,
                };
                (s, vec![])
            }),
        },
        Row {
            what: "a CA bundle that does not exist is refused on its field",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.ca_bundle = Change::Set("/nonexistent/ca.pem".into()),
            expect: Err(("ca_bundle", ErrorKind::InvalidInput)),
        },
        Row {
            what: "credentials inside the URL are refused on the URL field",
            known: true,
            mode: LoginMode::Edit,
            change: |i, _| i.url = Some("https://a:b@h.example/mlflow".into()),
            expect: Err(("url", ErrorKind::InvalidInput)),
        },
    ];
    for row in rows {
        let f = files();
        let mut i = input(row.mode);
        (row.change)(&mut i, &f);
        let k = known(&f);
        let got = i.plan(row.known.then_some(&k));
        match (got, row.expect) {
            (Ok(plan), Ok(expect)) => {
                let (server, dropped) = expect(&f);
                assert_eq!(plan, Plan { server, dropped }, "{}", row.what);
            }
            (Err(e), Err((field, kind))) => {
                assert_eq!(e.kind(), kind, "{}: {e}", row.what);
                if let Error::InvalidInput { field: got, .. } = e {
                    assert_eq!(got, field, "{}", row.what);
                }
            }
            (got, _) => panic!("{}: unexpected {got:?}", row.what),
        }
    }
}

#[test]
fn sso_settings_follow_the_table() {
    let known = Server {
        url: "https://h.example/mlflow".into(),
        username: None,
        auth: AuthKind::Sso,
        ca_bundle: None,
        client_cert: None,
        insecure_tls: false,
        sso: Some(SsoSettings {
            issuer: Some("https://idp.example".into()),
            client_id: Some("mlflow".into()),
            scopes: vec!["openid".into()],
            redirect_port: Some(8400),
            from_team_list: false,
        }),
        workspace: None,
        personal_token: None,
    };
    let sso = |i: &LoginInput| i.plan(Some(&known)).unwrap().server.sso.unwrap();
    // Log in again: everything kept.
    assert_eq!(sso(&input(LoginMode::Edit)), known.sso.clone().unwrap());
    // A new port (or client) given: that one, the rest kept.
    let mut port = input(LoginMode::Edit);
    port.sso.redirect_port = Some(9000);
    assert_eq!(sso(&port), SsoSettings { redirect_port: Some(9000), ..known.sso.clone().unwrap() });
    // Port 0: back to a port the kernel picks for each sign-in.
    port.sso.redirect_port = Some(0);
    assert_eq!(sso(&port), SsoSettings { redirect_port: None, ..known.sso.clone().unwrap() });
    // Another origin: found again, and no fixed port registered for another server.
    let moved = LoginInput { url: Some("https://other.example".into()), ..input(LoginMode::Edit) };
    assert_eq!(sso(&moved), SsoSettings::default());
}

/// A loopback server answering every request with one canned HTTP response.
fn answering(response: &'static str) -> String {
    answering_after(response, || {})
}

/// [`answering`], running `meanwhile` on each request before it answers (what another
/// front end does while a login waits for the server).
fn answering_after(response: &'static str, meanwhile: impl Fn() + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            meanwhile();
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

const MLFLOW_OK: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
const REFUSED: &str = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn logins() -> (tempfile::TempDir, Arc<Logins<MemoryVault>>) {
    let dir = tempfile::tempdir().unwrap();
    let l = Logins::new(ConfigStore::new(Paths::in_dir(dir.path().join("cfg"))), MemoryVault::default());
    (dir, Arc::new(l))
}

fn add(url: &str, pw: &str) -> LoginInput {
    LoginInput {
        url: Some(url.into()),
        username: Change::Set("alice".into()),
        secret: Secret::new(pw.into()),
        ..input(LoginMode::Add)
    }
}

#[tokio::test]
async fn a_login_verifies_stores_records_and_activates() {
    let (_d, l) = logins();
    let url = answering(MLFLOW_OK);
    let report = log_in(&l, add(&url, "pw1"), &VerifyOptions::default()).await.unwrap();
    let saved = report.saved.unwrap();
    assert!(saved.created && saved.active);
    assert_eq!(report.check.as_ref().unwrap().kind, OutcomeKind::Ok);
    let (name, server, secret) = l.resolve(None).unwrap();
    assert_eq!((name.as_str(), secret.unwrap().expose()), ("prod", "pw1"));
    let recorded = l.checks().get("prod", &server).unwrap();
    assert_eq!(recorded.kind, OutcomeKind::Ok, "the tray sees the CLI's login");
}

#[tokio::test]
async fn a_refused_login_stores_nothing_and_keeps_the_old_password() {
    let (_d, l) = logins();
    let ok = answering(MLFLOW_OK);
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    let before = l.checks().load();
    let refused = answering(REFUSED);
    let again = LoginInput { url: Some(refused), secret: Secret::new("bad".into()), ..input(LoginMode::Edit) };
    let report = log_in(&l, again, &VerifyOptions::default()).await.unwrap();
    assert!(!report.is_saved());
    assert_eq!(report.verification.unwrap().outcome.kind(), OutcomeKind::BadCredentials);
    let (_, server, secret) = l.resolve(Some("prod")).unwrap();
    assert_eq!((server.url.as_str(), secret.unwrap().expose()), (ok.as_str(), "good"));
    assert_eq!(l.checks().load(), before, "a rejected attempt is not the stored password's check");
}

#[tokio::test]
async fn adding_an_existing_name_destroys_nothing() {
    let (_d, l) = logins();
    let ok = answering(MLFLOW_OK);
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    let other = LoginInput { verify: false, ..add("https://elsewhere.example", "new") };
    let err = log_in(&l, other, &VerifyOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "name", .. }), "{err:?}");
    let (_, server, secret) = l.resolve(Some("prod")).unwrap();
    assert_eq!((server.url.as_str(), secret.unwrap().expose()), (ok.as_str(), "good"));
    let elsewhere = Server::new_basic("https://elsewhere.example", "alice").unwrap();
    assert!(
        l.vault().get(&EntryKey::for_server("prod", &elsewhere)).unwrap().is_none(),
        "nothing written to the keychain"
    );
}

#[tokio::test]
async fn saving_without_checking_forgets_the_old_check() {
    let (_d, l) = logins();
    let ok = answering(MLFLOW_OK);
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    let unchecked = LoginInput { secret: Secret::new("other".into()), verify: false, ..input(LoginMode::Edit) };
    let report = log_in(&l, unchecked, &VerifyOptions::default()).await.unwrap();
    assert!(report.is_saved() && report.check.is_none());
    assert!(l.checks().load().is_empty());
    assert_eq!(l.resolve(None).unwrap().2.unwrap().expose(), "other");
}

#[tokio::test]
async fn checks_are_recorded_for_every_front_end() {
    let (_d, l) = logins();
    let ok = answering(MLFLOW_OK);
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    l.save("nopw", Server::new_basic(&ok, "bob").unwrap(), None, Activate::IfNone).unwrap();
    let results = crate::check::check_all(&l, vec!["prod".into(), "nopw".into()], &VerifyOptions::default()).await;
    let kinds: Vec<_> = results.iter().map(|(n, r)| (n.as_str(), r.as_ref().unwrap().record.kind)).collect();
    assert_eq!(kinds, [("prod", OutcomeKind::Ok), ("nopw", OutcomeKind::NoCredentials)]);
    let recorded = l.checks().load();
    assert_eq!(recorded["nopw"].kind, OutcomeKind::NoCredentials);
    let again = crate::check::check(&l, "prod", &VerifyOptions::default()).await.unwrap();
    assert_eq!(again.previous.unwrap().kind, OutcomeKind::Ok);
}

/// A check reads each server's credential once: the keychain is a D-Bus round trip, and a
/// locked one may prompt for each read.
#[tokio::test]
async fn a_check_reads_each_servers_credential_once() {
    use std::sync::atomic::Ordering;
    let (_d, l) = logins();
    let ok = answering(MLFLOW_OK);
    let mut sso = Server::new_basic(&ok, "alice").unwrap();
    sso.auth = AuthKind::Sso;
    sso.username = None;
    sso.sso = Some(crate::server::SsoSettings::default());
    let fresh = crate::oidc::tokens::tests::sample(crate::oidc::now_unix(), Some(3600));
    l.save("sso", sso, Some(&fresh.to_secret()), Activate::IfNone).unwrap();
    let mut pat = Server::new_basic(&ok, "alice").unwrap();
    let now = crate::oidc::now_unix();
    pat.personal_token = Some(crate::server::PersonalToken { minted_at: now, expires_at: now + 86_400, days: 1 });
    l.save("pat", pat, Some(&Secret::new("token".into())), Activate::IfNone).unwrap();
    l.save("basic", Server::new_basic(&ok, "bob").unwrap(), Some(&Secret::new("pw".into())), Activate::IfNone).unwrap();
    for name in ["sso", "pat", "basic"] {
        let before = l.vault().gets.load(Ordering::Relaxed);
        crate::check::check(&l, name, &VerifyOptions::default()).await.unwrap();
        assert_eq!(l.vault().gets.load(Ordering::Relaxed) - before, 1, "keychain reads of checking {name}");
    }
}

#[tokio::test]
async fn a_change_made_while_a_login_waits_is_never_overwritten() {
    let (d, l) = logins();
    let ok = answering(MLFLOW_OK);
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    let f = files();
    // Another front end on the same config (the tray).
    let tray = || Logins::new(ConfigStore::new(Paths::in_dir(d.path().join("cfg"))), MemoryVault::default());
    // While the server (or, for single sign-on, the browser) keeps the login waiting, the
    // tray sets a CA bundle on the same server.
    let (other, ca) = (tray(), f.ca.clone());
    let slow = answering_after(MLFLOW_OK, move || {
        let mut edited = other.config().unwrap().servers["prod"].clone();
        if edited.ca_bundle.is_none() {
            edited.ca_bundle = Some(ca.clone());
            other.save("prod", edited, None, Activate::IfNone).unwrap();
        }
    });
    // A new password, checked at the server's new address: an edit of "prod".
    let again = LoginInput { url: Some(slow.clone()), secret: Secret::new("new".into()), ..input(LoginMode::Edit) };
    let err = log_in(&l, again, &VerifyOptions::default()).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field: "name", message } if message.contains("changed")), "{err:?}");
    let (_, server, secret) = l.resolve(Some("prod")).unwrap();
    assert_eq!(server.ca_bundle.as_ref(), Some(&f.ca), "the change made meanwhile is kept");
    assert_eq!((server.url.as_str(), secret.unwrap().expose()), (ok.as_str(), "good"), "nothing of the login saved");
    let moved = Server { url: slow, ..server.clone() };
    assert!(l.vault().get(&EntryKey::for_server("prod", &moved)).unwrap().is_none(), "nothing written to the keychain");

    // Removed meanwhile: not brought back.
    let other = tray();
    let gone = answering_after(MLFLOW_OK, move || {
        let _ = other.remove("prod");
    });
    let again = LoginInput { url: Some(gone), secret: Secret::new("new".into()), ..input(LoginMode::Edit) };
    let err = log_in(&l, again, &VerifyOptions::default()).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field: "name", message } if message.contains("removed")), "{err:?}");
    assert!(l.config().unwrap().servers.is_empty(), "a removed server is not brought back");

    // Unchanged meanwhile: saved as before.
    log_in(&l, add(&ok, "good"), &VerifyOptions::default()).await.unwrap();
    let again = LoginInput { secret: Secret::new("newer".into()), ..input(LoginMode::Edit) };
    assert!(log_in(&l, again, &VerifyOptions::default()).await.unwrap().is_saved());
    assert_eq!(l.resolve(Some("prod")).unwrap().2.unwrap().expose(), "newer");
}

/// The server asked about its identity provider for a new URL is the
/// one the login would plan: on another origin the known client certificate, CA bundle
/// and "insecure" flag are dropped; on the same origin they are kept.
#[test]
fn the_sso_probe_follows_the_login_rules() {
    let known = Server {
        url: "https://a.example/mlflow".into(),
        username: None,
        auth: AuthKind::Sso,
        ca_bundle: Some("/etc/ssl/a-ca.pem".into()),
        client_cert: Some("/etc/ssl/a-client.pem".into()),
        insecure_tls: true,
        sso: None,
        workspace: None,
        personal_token: None,
    };
    let moved = LoginInput::sso_probe(Some(("a", &known)), "https://lookalike.example/mlflow").unwrap();
    assert_eq!((moved.ca_bundle, moved.client_cert, moved.insecure_tls), (None, None, false));
    let same = LoginInput::sso_probe(Some(("a", &known)), "https://a.example/other").unwrap();
    assert_eq!((same.client_cert.as_ref(), same.insecure_tls), (known.client_cert.as_ref(), true));
    let new = LoginInput::sso_probe(None, "https://b.example").unwrap();
    assert_eq!((new.auth, new.insecure_tls, new.client_cert), (AuthKind::Sso, false, None));
}
