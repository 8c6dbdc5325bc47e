//! [`scan`]: every place a plain-text credential sits, and which server each one is for.
//!
//! A credential's URL is the one its own place names: the tracking URI beside it in the
//! same file or environment, or the URI it sits in. For one whose place names none
//! (`~/.mlflow/credentials` never does), the URL is the user's `--url`; else a URL another
//! place names when a known server has it; else, when no other place names one, the
//! active server's. A URL another place names that no known server has is only a
//! [`Suggestion`]: a front end asks the user before a password goes there.
//!
//! In a shell where a project file is in force (`MLFLOW_LOGIN_PROJECT`), the environment's
//! tracking URI is the project file's (the hook exported it), so it is no credential's URL
//! and no suggestion: a project file, which anyone can put in a repository, never decides
//! where a password is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::ini::mlflow_ini;
use super::netrc::netrc_entries;
use super::startup::{self, Assignment};
use super::{
    Edit, Found, Removal, Scan, ScanInput, Skipped, SourceKind, Suggestion, mlflow_credentials_file, netrc_file,
    startup_files,
};
use crate::env::{PASSWORD, SERVER_NAME, TOKEN, URI, USERNAME};
use crate::project::PROJECT_ENV;
use crate::secret::Secret;
use crate::server::{AuthKind, normalize_url};

/// The tracking variables one place sets, each with its 1-based line.
#[derive(Default)]
pub(crate) struct Vars {
    pub(crate) values: BTreeMap<&'static str, (String, usize)>,
}

/// The variables a credential is made of.
pub(crate) const TRACKING: [&str; 4] = [URI, USERNAME, PASSWORD, TOKEN];

/// Finds every plain-text credential (module docs).
pub fn scan(input: &ScanInput<'_>) -> Scan {
    let mut scan = Scan::default();
    // Per place: its variables and how to remove them.
    let mut places: Vec<(SourceKind, Option<std::path::PathBuf>, Vars, Option<Removal>)> = Vec::new();

    for path in startup_files(input.home, input.var) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Some((vars, lines)) = shell_vars(&path, &text, &mut scan.skipped) else { continue };
        let removal = Removal { path: path.clone(), original: text, edit: Edit::Comment(lines) };
        places.push((SourceKind::ShellFile, Some(path), vars, Some(removal)));
    }
    let creds = mlflow_credentials_file(input.home);
    if let Ok(text) = std::fs::read_to_string(&creds)
        && let Some((vars, section)) = mlflow_ini(&text)
    {
        let removal = Removal { path: creds.clone(), original: text, edit: Edit::DeleteLines(section) };
        places.push((SourceKind::MlflowCredentials, Some(creds), vars, Some(removal)));
    }
    let mut env = Vars::default();
    let set = |k: &str| (input.var)(k).is_some_and(|v| !v.is_empty());
    // In a hooked shell (or `exec`), the variables are mlflow-login's own, from the keychain.
    let ours = set(SERVER_NAME);
    for var in TRACKING.into_iter().filter(|_| !ours) {
        if let Some(v) = (input.var)(var).and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty()) {
            env.values.insert(var, (v, 0));
        }
    }
    if set(PROJECT_ENV) {
        env.values.remove(URI);
    }
    places.push((SourceKind::Environment, None, env, None));

    // A place that names no URL (or no username) takes it from the others (module docs).
    let uri_of = |vars: &Vars| vars.values.get(URI).and_then(|(u, _)| split_uri(u).ok()).map(|(u, ..)| u);
    let named: Vec<Suggestion> =
        places.iter().rev().filter_map(|p| Some(Suggestion { url: uri_of(&p.2)?, path: p.1.clone() })).collect();
    let known = |url: &str| input.config.servers.values().any(|s| s.url == url);
    let fallback_url = input
        .url
        .and_then(|u| normalize_url(u).ok().map(|u| u.to_string_normalized()))
        .or_else(|| named.iter().find(|s| known(&s.url)).map(|s| s.url.clone()))
        .or_else(|| if named.is_empty() { input.config.active_server().map(|(_, s)| s.url.clone()) } else { None });
    let suggestion = named.iter().find(|s| fallback_url.is_none() && !known(&s.url)).cloned();
    let fallback_user = places.iter().rev().find_map(|p| p.2.values.get(USERNAME).map(|(u, _)| u.clone()));

    for (kind, path, vars, removal) in places {
        // An empty value sets nothing (`export MLFLOW_TRACKING_PASSWORD=` clears it).
        let get = |k: &str| vars.values.get(k).cloned().filter(|(v, _)| !v.is_empty());
        let uri = get(URI);
        let split = match &uri {
            Some((u, line)) => match split_uri(u) {
                Ok(s) => Some(s),
                Err(reason) => {
                    if let Some(p) = &path {
                        scan.skipped.push(Skipped { path: p.clone(), line: *line, what: URI.into(), reason });
                    }
                    None
                }
            },
            None => None,
        };
        let (uri_url, uri_user, uri_pass) = split.unwrap_or_default();
        let (auth, secret, line, in_uri) = match (get(PASSWORD), get(TOKEN), uri_pass) {
            (Some((p, l)), _, _) => (AuthKind::Basic, p, l, false),
            (None, _, Some(p)) => (AuthKind::Basic, p, uri.as_ref().map_or(0, |u| u.1), true),
            (None, Some((t, l)), None) => (AuthKind::Bearer, t, l, false),
            (None, None, None) => continue,
        };
        let username = get(USERNAME).map(|(u, _)| u).or(uri_user).or_else(|| fallback_user.clone());
        let url = uri.as_ref().map(|_| uri_url).filter(|u| !u.is_empty()).or_else(|| fallback_url.clone());
        push_found(
            &mut scan.found,
            Found {
                kind,
                line: path.as_ref().map(|_| line),
                path,
                suggested_url: if url.is_none() { suggestion.clone() } else { None },
                url,
                username,
                auth,
                secret: Secret::new(secret),
                in_uri,
                removals: removal.into_iter().collect(),
            },
        );
    }

    let netrc = netrc_file(input.home, input.var);
    if let Ok(text) = std::fs::read_to_string(&netrc) {
        for entry in netrc_entries(&text) {
            let (Some(machine), Some(password)) = (&entry.machine, &entry.password) else { continue };
            // An entry counts for the servers on its host that log in as its login (or name
            // no user): a host often serves several servers, each with its own account.
            let on_host: Vec<&crate::server::Server> =
                input.config.servers.values().filter(|s| s.host().as_deref() == Some(machine.as_str())).collect();
            let users = on_host.iter().filter(|s| s.username.is_none() || s.username == entry.login);
            let mut matched = false;
            for server in users {
                matched = true;
                let removal = Removal {
                    path: netrc.clone(),
                    original: text.clone(),
                    edit: Edit::DeleteBytes(entry.span.clone()),
                };
                push_found(
                    &mut scan.found,
                    Found {
                        kind: SourceKind::Netrc,
                        path: Some(netrc.clone()),
                        line: Some(entry.line),
                        url: Some(server.url.clone()),
                        suggested_url: None,
                        username: entry.login.clone().or_else(|| server.username.clone()),
                        auth: AuthKind::Basic,
                        secret: Secret::new(password.clone()),
                        in_uri: false,
                        removals: vec![removal],
                    },
                );
            }
            if !matched && !on_host.is_empty() {
                scan.skipped.push(Skipped {
                    path: netrc.clone(),
                    line: entry.line,
                    what: format!("machine {machine}"),
                    reason: format!(
                        "no server on {machine} logs in as {}: log in to that server first, then import again",
                        entry.login.as_deref().unwrap_or("(no login)")
                    ),
                });
            }
        }
    }
    scan
}

/// Adds `found`, or merges its removals into an earlier find of the same credential (the
/// environment usually holds what a start-up file exported).
fn push_found(all: &mut Vec<Found>, found: Found) {
    let same = |f: &Found| {
        f.url == found.url && f.username == found.username && f.auth == found.auth && f.secret == found.secret
    };
    match all.iter_mut().find(|f| same(f)) {
        Some(f) => f.removals.extend(found.removals),
        None => all.push(found),
    }
}

/// Splits a tracking URI into its normalised URL and the credentials inside it.
pub(crate) fn split_uri(uri: &str) -> std::result::Result<(String, Option<String>, Option<String>), String> {
    let mut url = url::Url::parse(uri.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let user = Some(percent_decode(url.username())?).filter(|u| !u.is_empty());
    let pass = url.password().map(percent_decode).transpose()?;
    // Neither can fail on an http(s) URL with a host; a `file:` URI is no server of ours.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let normalized = normalize_url(url.as_str()).map_err(|e| e.to_string())?;
    Ok((normalized.to_string_normalized(), user, pass))
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the credentials in the URI are not UTF-8".to_string())
}

/// 0-based lines to comment out, each with the variable whose secret it holds.
type CommentLines = Vec<(usize, Option<String>)>;

/// The tracking variables a start-up file sets and the lines to comment out; `None` when
/// it sets none, or when it gives one variable different values (`if` branches, a later
/// line that overrides an earlier one): which value a shell gets depends on how it runs,
/// so such a file is reported and left alone rather than losing a value no import stored.
fn shell_vars(path: &Path, text: &str, skipped: &mut Vec<Skipped>) -> Option<(Vars, CommentLines)> {
    let all = startup::assignments(path, text, &TRACKING);
    let mut vars = Vars::default();
    let mut lines = Vec::new();
    for Assignment { line, var, value } in &all {
        match value {
            Ok(v) => {
                let secret = *var == PASSWORD || *var == TOKEN || (*var == URI && v.contains('@'));
                lines.push((line - 1, secret.then(|| var.to_string())));
                vars.values.insert(var, (v.clone(), *line));
            }
            Err(reason) => skipped.push(Skipped {
                path: path.to_path_buf(),
                line: *line,
                what: (*var).into(),
                reason: reason.clone(),
            }),
        }
    }
    let mut left_alone = false;
    for var in TRACKING {
        let values: BTreeSet<_> = all.iter().filter(|a| a.var == var).map(|a| &a.value).collect();
        if values.len() < 2 {
            continue;
        }
        left_alone = true;
        for a in all.iter().filter(|a| a.var == var && a.value.is_ok()) {
            skipped.push(Skipped {
                path: path.to_path_buf(),
                line: a.line,
                what: var.into(),
                reason: format!(
                    "this file sets {var} to {} different values (in branches of an `if`, say), so nothing in it is imported or removed: log in with each value (`mlflow-login login`), then delete the lines",
                    values.len()
                ),
            });
        }
    }
    (!vars.values.is_empty() && !left_alone).then_some((vars, lines))
}
