//! Server lists a team shares: `servers export` writes one, `servers import` reads one.
//!
//! The format is the `[servers.NAME]` tables of `config.toml` and nothing else: no active
//! server, and never a secret (a `password` or `token` key is an unknown field, refused with
//! the file and line like any other). A header comment says what the file is.
//!
//! What an export leaves out: the client certificate (it names the exporter's private key
//! file, which nobody else has), and with [`ExportOptions::usernames`] off the usernames
//! (a team list: each member logs in as themself).
//!
//! Importing changes the config only: it stores no password and deletes none. A server a
//! list replaces keeps nothing of its old settings but its client certificate (same URL
//! only); a password stored for its old URL or account stays in the keychain, unused,
//! rather than a list from the network deleting a secret.
//!
//! Paths: a CA bundle path in an imported *file* that is relative is read relative to that
//! file's folder (a team keeps `ca.pem` next to `servers.toml` in a repository); from a
//! *URL* a relative path means nothing on this machine and is refused. Absolute paths are
//! taken as they are and must exist, as for a login.
//!
//! A team publishes its list on an `https://` URL; plain `http://` is accepted only for a
//! loopback host (tests, a local mirror), since anyone on the path could otherwise change
//! which servers (and so which hosts get the passwords) the list names. The fetch sends no
//! credentials, follows redirects only to `https://`, and reads at most [`MAX_LIST_BYTES`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::server::{AuthKind, Server, SsoSettings, is_loopback, normalize_url, validate_name};
use crate::verify::VerifyOptions;

/// A server list larger than this is not one.
pub const MAX_LIST_BYTES: usize = 1024 * 1024;

/// A server as a team list holds it: a [`Server`] whose username may be left to each member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedServer {
    /// The tracking URL.
    pub url: String,
    /// The username, when the list names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic (default), Bearer or Sso.
    #[serde(default, skip_serializing_if = "is_basic")]
    pub auth: AuthKind,
    /// A PEM bundle of extra CA certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// Skip TLS certificate verification.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_tls: bool,
    /// Single sign-on: the identity provider and client (a team shares them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoSettings>,
    /// The team's default workspace (MLflow 3.10+): a member's own choice on the same URL wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

fn is_basic(a: &AuthKind) -> bool {
    *a == AuthKind::Basic
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    servers: BTreeMap<String, ListedServer>,
}

/// What an export includes.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions {
    /// Include each server's username (off for a list every member of a team uses).
    pub usernames: bool,
}

/// The servers `names` (all when empty) as a server list.
pub fn export(config: &Config, names: &[String], opts: ExportOptions) -> Result<String> {
    let mut file = ListFile::default();
    let wanted: Vec<&str> = if names.is_empty() {
        config.servers.keys().map(String::as_str).collect()
    } else {
        names.iter().map(String::as_str).collect()
    };
    for name in wanted {
        let s = config.get(name)?;
        file.servers.insert(
            name.to_string(),
            ListedServer {
                url: s.url.clone(),
                username: if opts.usernames { s.username.clone() } else { None },
                auth: s.auth,
                ca_bundle: s.ca_bundle.clone(),
                insecure_tls: s.insecure_tls,
                sso: s.sso.clone().map(|sso| SsoSettings { from_team_list: false, ..sso }),
                workspace: s.workspace.clone(),
            },
        );
    }
    let body = toml::to_string_pretty(&file)
        .map_err(|e| Error::invalid("servers", format!("cannot write the server list: {e}")))?;
    Ok(format!(
        "# MLflow Login server list: `mlflow-login servers import FILE|URL` adds these servers.\n\
         # No passwords or tokens: each person logs in with `mlflow-login login NAME`.\n\n{body}"
    ))
}

/// Where a list came from: relative CA bundle paths depend on it.
#[derive(Debug, Clone)]
pub enum ListSource {
    /// A file: relative paths are relative to its folder.
    File(PathBuf),
    /// A URL: relative paths are refused.
    Url(String),
}

impl ListSource {
    /// The file or URL, for messages.
    pub fn display(&self) -> String {
        match self {
            ListSource::File(p) => p.display().to_string(),
            ListSource::Url(u) => u.clone(),
        }
    }
}

/// Parses a server list; errors name the source and line.
pub fn parse(text: &str, source: &ListSource) -> Result<BTreeMap<String, ListedServer>> {
    let at =
        |line: Option<usize>, message: String| Error::Config { path: PathBuf::from(source.display()), line, message };
    let file: ListFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| text[..span.start].matches('\n').count() + 1);
        at(line, e.message().trim().to_string())
    })?;
    let line_of = |name: &str| text.lines().position(|l| l.contains(&format!("[servers.{name}]"))).map(|i| i + 1);
    let mut out = BTreeMap::new();
    for (name, mut s) in file.servers {
        let fail = |e: Error| at(line_of(&name), format!("server \"{name}\": {e}"));
        validate_name(&name).map_err(fail)?;
        s.url = normalize_url(&s.url).map_err(fail)?.to_string_normalized();
        if let Some(ca) = &s.ca_bundle {
            let path = match source {
                _ if ca.is_absolute() => ca.clone(),
                ListSource::File(f) => f.parent().unwrap_or(Path::new(".")).join(ca),
                ListSource::Url(_) => {
                    return Err(fail(Error::invalid(
                        "ca_bundle",
                        format!(
                            "the CA bundle path {} is relative, which means nothing for a list from a URL: use an absolute path",
                            ca.display()
                        ),
                    )));
                }
            };
            let abs = std::fs::canonicalize(&path).map_err(|e| {
                fail(Error::invalid("ca_bundle", format!("cannot read the CA bundle {}: {e}", path.display())))
            })?;
            s.ca_bundle = Some(abs);
        }
        out.insert(name, s);
    }
    Ok(out)
}

/// What importing one listed server does.
#[derive(Debug, Clone, PartialEq, Eq)]
// A handful per command: boxing the servers would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// A new name: added.
    Add(Server),
    /// The name exists with these very settings: nothing to do.
    Same,
    /// The name exists with other settings: replaced only when the user agrees.
    Differs {
        /// The settings now.
        current: Server,
        /// The settings from the list.
        listed: Server,
    },
}

/// The server a listed one becomes on this machine: its username is the list's, else the
/// known server's, else `username`.
pub fn resolve(name: &str, listed: &ListedServer, known: Option<&Server>, username: Option<&str>) -> Result<Server> {
    let username =
        listed.username.clone().or_else(|| known.and_then(|k| k.username.clone())).or(username.map(str::to_string));
    let server = Server {
        url: listed.url.clone(),
        username,
        auth: listed.auth,
        ca_bundle: listed.ca_bundle.clone(),
        // A client certificate is personal: a known server keeps its own on the same URL.
        client_cert: known.filter(|k| k.url == listed.url).and_then(|k| k.client_cert.clone()),
        insecure_tls: listed.insecure_tls,
        // Named by the list: the first sign-in asks when the issuer is foreign to the server.
        sso: listed.sso.clone(),
        // The list's workspace is a default: a member who chose one on the same URL keeps it.
        workspace: known
            .filter(|k| k.url == listed.url)
            .and_then(|k| k.workspace.clone())
            .or_else(|| listed.workspace.clone()),
        // A personal access token is personal: a team list never sets one.
        personal_token: None,
    };
    server.validate().map_err(|e| match e {
        Error::InvalidInput { field: "username", .. } => {
            Error::invalid("username", format!("the list names no username for \"{name}\": give yours with --username"))
        }
        e => e,
    })?;
    // Named by the list: the first sign-in asks when the issuer is foreign to the server.
    Ok(marked(&server))
}

/// `server` as a team list's import writes it: its SSO settings marked as the list's.
fn marked(server: &Server) -> Server {
    Server { sso: server.sso.clone().map(|sso| SsoSettings { from_team_list: true, ..sso }), ..server.clone() }
}

/// What importing `listed` into `config` would do, server by server (in name order).
pub fn plan(
    config: &Config,
    listed: &BTreeMap<String, ListedServer>,
    username: Option<&str>,
) -> Result<Vec<(String, Action)>> {
    listed
        .iter()
        .map(|(name, l)| {
            let known = config.servers.get(name);
            let server = resolve(name, l, known, username)?;
            let action = match known {
                None => Action::Add(server),
                // Whether a sign-in used the list's settings yet is no difference.
                Some(k) if marked(k) == server => Action::Same,
                Some(k) => Action::Differs { current: k.clone(), listed: server },
            };
            Ok((name.clone(), action))
        })
        .collect()
}

/// Fetches a server list from `url`: `https://`, or `http://` on a loopback host.
pub async fn fetch(url: &str) -> Result<String> {
    let parsed =
        url::Url::parse(url).map_err(|e| Error::invalid("url", format!("\"{url}\" is not a valid URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(Error::invalid(
                "url",
                "a server list is fetched over https:// only (plain http:// only from this machine): anyone on the network could change which hosts it names, and so where your passwords go",
            ));
        }
        other => {
            return Err(Error::invalid("url", format!("cannot fetch a server list from {other}:// (use https://)")));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            "url",
            "the URL contains credentials: a server list is public, fetch it without them",
        ));
    }
    let opts = VerifyOptions {
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        ..VerifyOptions::default()
    };
    let client = crate::http::builder(&opts, &parsed)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 || attempt.url().scheme() != "https" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| fetch_error(url, &e.to_string()))?;
    let mut resp = client.get(parsed).send().await.map_err(|e| fetch_error(url, &crate::http::error_chain(&e)))?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("?");
        return Err(fetch_error(url, &format!("it redirects to {to}, which is not https://")));
    }
    if !status.is_success() {
        return Err(fetch_error(url, &format!("the server answered {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fetch_error(url, &crate::http::error_chain(&e)))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_LIST_BYTES {
            return Err(fetch_error(
                url,
                &format!("it is larger than {} KiB: not a server list", MAX_LIST_BYTES / 1024),
            ));
        }
    }
    String::from_utf8(body).map_err(|_| fetch_error(url, "it is not UTF-8 text"))
}

fn fetch_error(url: &str, why: &str) -> Error {
    Error::io(url, std::io::Error::other(format!("cannot fetch the server list: {why}")))
}

/// Reads a server list from a file: at most [`MAX_LIST_BYTES`] of UTF-8 text.
pub fn read_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let fail =
        |e: std::io::Error| Error::io(path, std::io::Error::new(e.kind(), format!("cannot read the server list: {e}")));
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_LIST_BYTES as u64 + 1).read_to_string(&mut text))
        .map_err(fail)?;
    if text.len() > MAX_LIST_BYTES {
        return Err(fail(std::io::Error::other(format!(
            "it is larger than {} KiB: not a server list",
            MAX_LIST_BYTES / 1024
        ))));
    }
    Ok(text)
}

/// The settings in which `current` and `listed` differ, in words (for asking before a
/// replace). Never a secret: a [`Server`] holds none.
pub fn differences(current: &Server, listed: &Server) -> Vec<String> {
    let (a, b) = (current, listed);
    let show = |p: &Option<PathBuf>| p.as_ref().map_or("none".to_string(), |p| p.display().to_string());
    let mut out = Vec::new();
    if a.url != b.url {
        out.push(format!("URL {} -> {}", a.url, b.url));
    }
    if a.username != b.username {
        out.push(format!(
            "username {} -> {}",
            a.username.as_deref().unwrap_or("none"),
            b.username.as_deref().unwrap_or("none")
        ));
    }
    if a.auth != b.auth {
        out.push(format!("auth {:?} -> {:?}", a.auth, b.auth).to_lowercase());
    }
    if a.ca_bundle != b.ca_bundle {
        out.push(format!("CA bundle {} -> {}", show(&a.ca_bundle), show(&b.ca_bundle)));
    }
    if a.client_cert != b.client_cert {
        out.push(format!("client certificate {} -> {}", show(&a.client_cert), show(&b.client_cert)));
    }
    if a.sso != b.sso {
        // Old -> new of each: an issuer or a client id that changes is where the company's
        // sign-in would go, so the user sees which (a list is someone else's text: cleaned).
        let (sa, sb) = (a.sso.clone().unwrap_or_default(), b.sso.clone().unwrap_or_default());
        let opt = |v: &Option<String>| v.as_deref().map_or("none".to_string(), |v| crate::text::clean(v, 200));
        if sa.issuer != sb.issuer {
            out.push(format!("issuer {} -> {}", opt(&sa.issuer), opt(&sb.issuer)));
        }
        if sa.client_id != sb.client_id {
            out.push(format!("client id {} -> {}", opt(&sa.client_id), opt(&sb.client_id)));
        }
        if sa.scopes != sb.scopes {
            let list = |s: &[String]| {
                if s.is_empty() { "default".to_string() } else { crate::text::clean(&s.join(" "), 200) }
            };
            out.push(format!("scopes {} -> {}", list(&sa.scopes), list(&sb.scopes)));
        }
        if sa.redirect_port != sb.redirect_port {
            let port = |p: Option<u16>| p.map_or("any".to_string(), |p| p.to_string());
            out.push(format!("redirect port {} -> {}", port(sa.redirect_port), port(sb.redirect_port)));
        }
    }
    if a.insecure_tls != b.insecure_tls {
        out.push(format!("insecure TLS {} -> {}", a.insecure_tls, b.insecure_tls));
    }
    out
}

/// What importing one listed server did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// A new server.
    Added,
    /// Differing settings, replaced as the user agreed.
    Replaced,
    /// The same settings: nothing to do.
    Unchanged,
    /// Differing settings, kept (the user did not agree to replace them).
    Kept,
}

/// Importing a team list, the one rule every front end uses: applies `plan` exactly as the
/// user saw it (add the new servers, replace the differing ones named in `replace`, keep
/// the rest), in one locked update of the config. The list is not read again: a list that
/// changed after it was shown is not what the user agreed to. If the config changed since
/// the plan was made (a name taken, a server whose settings were shown as "now" changed),
/// nothing is written and the error says to look again.
pub fn apply_plan(
    store: &crate::ConfigStore,
    plan: &[(String, Action)],
    replace: &[String],
) -> Result<Vec<(String, Imported, Server)>> {
    store.update(|config| {
        let mut out = Vec::with_capacity(plan.len());
        for (name, action) in plan {
            let now = config.servers.get(name);
            let changed = || {
                Error::invalid(
                    "name",
                    format!("\"{name}\" was changed since the list was read; nothing was imported: import it again"),
                )
            };
            let (result, server) = match (action, now) {
                (Action::Add(listed), None) => (Imported::Added, listed.clone()),
                (Action::Same, Some(now)) => (Imported::Unchanged, now.clone()),
                (Action::Differs { current, listed }, Some(now)) if now == current => {
                    if replace.contains(name) {
                        (Imported::Replaced, listed.clone())
                    } else {
                        (Imported::Kept, current.clone())
                    }
                }
                _ => return Err(changed()),
            };
            out.push((name.clone(), result, server));
        }
        let mut bump = false;
        for (name, result, server) in &out {
            if matches!(result, Imported::Added | Imported::Replaced) {
                config.servers.insert(name.clone(), server.clone());
                bump = true;
            }
        }
        Ok((out, bump))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn config() -> Config {
        let mut c = Config::default();
        c.servers.insert("prod".into(), Server::new_basic("https://h/mlflow", "alice").unwrap());
        let mut b = Server::new_basic("https://b.example", "bot").unwrap();
        b.auth = AuthKind::Bearer;
        b.insecure_tls = true;
        c.servers.insert("tok".into(), b);
        let mut sso = Server::new_basic("https://sso.example", "carol").unwrap();
        sso.auth = AuthKind::Sso;
        sso.username = None;
        sso.sso = Some(SsoSettings {
            issuer: Some("https://idp.example".into()),
            client_id: Some("mlflow-login".into()),
            scopes: vec!["openid".into()],
            redirect_port: Some(8400),
            from_team_list: false,
        });
        c.servers.insert("sso".into(), sso);
        c.active = Some("prod".into());
        c
    }

    #[test]
    fn export_parses_back_to_the_same_servers() {
        let c = config();
        let text = export(&c, &[], ExportOptions { usernames: true }).unwrap();
        assert!(text.starts_with("# MLflow Login server list"), "{text}");
        let listed = parse(&text, &ListSource::Url("https://x".into())).unwrap();
        let plan = plan(&Config::default(), &listed, None).unwrap();
        let got: BTreeMap<_, _> =
            plan.into_iter().map(|(n, a)| (n, if let Action::Add(s) = a { s } else { panic!() })).collect();
        // Added from a list: its SSO settings are the list's until a sign-in with them.
        let marked_servers: BTreeMap<_, _> = c.servers.iter().map(|(n, s)| (n.clone(), marked(s))).collect();
        assert_eq!(got, marked_servers);
        assert!(got["sso"].sso.as_ref().unwrap().from_team_list);
        assert!(plan_same(&c, &listed), "whether a sign-in used the settings is no difference");
        let exported = export(
            &marked_servers.into_iter().fold(Config::default(), |mut c, (n, s)| {
                c.servers.insert(n, s);
                c
            }),
            &[],
            ExportOptions { usernames: true },
        )
        .unwrap();
        assert!(!exported.contains("from_team_list"), "{exported}");
    }

    fn plan_same(c: &Config, listed: &BTreeMap<String, ListedServer>) -> bool {
        plan(c, listed, None).unwrap().iter().all(|(_, a)| *a == Action::Same)
    }

    #[test]
    fn differing_and_usernameless() {
        let c = config();
        let text = export(&c, &["prod".into()], ExportOptions { usernames: false }).unwrap();
        assert!(!text.contains("alice"), "{text}");
        let listed = parse(&text, &ListSource::Url("https://x".into())).unwrap();
        // The known server's username fills in: the same settings.
        assert!(plan_same(&c, &listed));
        let err = plan(&Config::default(), &listed, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            matches!(&plan(&Config::default(), &listed, Some("bob")).unwrap()[0].1, Action::Add(s) if s.username.as_deref() == Some("bob"))
        );
        let moved = text.replace("https://h/mlflow", "https://other/mlflow");
        let listed = parse(&moved, &ListSource::Url("https://x".into())).unwrap();
        assert!(matches!(plan(&c, &listed, None).unwrap()[0].1, Action::Differs { .. }));
    }

    /// A replacement shows old -> new of issuer, client id, URL and CA
    /// bundle (never a fixed string), and the plan applied is the plan shown: the list is
    /// not read again, and a config that changed since the plan writes nothing.
    #[test]
    fn a_replacement_shows_old_and_new_and_applies_the_plan_shown() {
        let c = config();
        let mut listed = c.servers["sso"].clone();
        listed.url = "https://sso.example/v2".into();
        listed.ca_bundle = Some("/etc/team-ca.pem".into());
        listed.sso = Some(SsoSettings {
            issuer: Some("https://login.evil.example\u{1b}[2J".into()),
            client_id: Some("other-client".into()),
            ..c.servers["sso"].sso.clone().unwrap()
        });
        let shown = differences(&c.servers["sso"], &listed);
        for expected in [
            "URL https://sso.example -> https://sso.example/v2",
            "CA bundle none -> /etc/team-ca.pem",
            "issuer https://idp.example -> https://login.evil.example [2J",
            "client id mlflow-login -> other-client",
        ] {
            assert!(shown.iter().any(|d| d == expected), "{expected:?} not in {shown:?}");
        }

        let dir = tempfile::tempdir().unwrap();
        let store = crate::ConfigStore::new(crate::Paths::in_dir(dir.path()));
        store.update(|cfg| Ok((*cfg = c.clone(), true))).unwrap();
        let new = Server::new_basic("https://new.example", "u").unwrap();
        let plan = vec![
            ("sso".to_string(), Action::Differs { current: c.servers["sso"].clone(), listed: listed.clone() }),
            ("new".to_string(), Action::Add(new.clone())),
            ("prod".to_string(), Action::Same),
        ];
        // The config changed since the plan: nothing is written.
        store.update(|cfg| Ok((cfg.servers.get_mut("sso").unwrap().insecure_tls = true, true))).unwrap();
        let err = apply_plan(&store, &plan, &["sso".into()]).unwrap_err();
        assert!(err.to_string().contains("changed since the list was read"), "{err}");
        assert!(!store.load().unwrap().servers.contains_key("new"));
        store.update(|cfg| Ok((cfg.servers.get_mut("sso").unwrap().insecure_tls = false, true))).unwrap();
        let done = apply_plan(&store, &plan, &["sso".into()]).unwrap();
        let results: Vec<_> = done.iter().map(|(n, r, _)| (n.as_str(), *r)).collect();
        assert_eq!(results, [("sso", Imported::Replaced), ("new", Imported::Added), ("prod", Imported::Unchanged)]);
        let now = store.load().unwrap();
        assert_eq!((&now.servers["sso"], &now.servers["new"]), (&listed, &new));
    }

    #[test]
    fn damaged_or_secret_lists_name_the_line() {
        let src = ListSource::File("/t/servers.toml".into());
        let err = parse("[servers.a]\nurl = \"https://h\"\npassword = \"x\"\n", &src).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().starts_with("/t/servers.toml:3"), "{err}");
        let err = parse("\n[servers.a]\nurl = \"ftp://h\"\n", &src).unwrap_err();
        assert!(err.to_string().starts_with("/t/servers.toml:2"), "{err}");
        assert!(parse("[servers.a\n", &src).unwrap_err().to_string().starts_with("/t/servers.toml:1"));
    }

    #[test]
    fn relative_ca_bundles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        let text = "[servers.a]\nurl = \"https://h\"\nusername = \"u\"\nca_bundle = \"ca.pem\"\n";
        let listed = parse(text, &ListSource::File(dir.path().join("servers.toml"))).unwrap();
        assert_eq!(listed["a"].ca_bundle.as_deref(), Some(dir.path().join("ca.pem").canonicalize().unwrap().as_path()));
        let err = parse(text, &ListSource::Url("https://x/servers.toml".into())).unwrap_err();
        assert!(err.to_string().contains("relative"), "{err}");
    }

    #[test]
    fn read_file_refuses_missing_and_oversized_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("servers.toml");
        let err = read_file(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
        std::fs::write(&path, "#".repeat(MAX_LIST_BYTES + 1)).unwrap();
        assert_eq!(read_file(&path).unwrap_err().kind(), ErrorKind::Io);
        std::fs::write(&path, "[servers.a]\nurl = \"https://h\"\n").unwrap();
        assert_eq!(read_file(&path).unwrap(), "[servers.a]\nurl = \"https://h\"\n");
    }

    #[tokio::test]
    async fn refuses_plain_http_to_other_hosts() {
        let err = fetch("http://lists.example.com/servers.toml").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(fetch("ftp://h/x").await.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(fetch("https://u:p@h/x").await.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
