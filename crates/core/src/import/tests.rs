use std::collections::BTreeMap;

use super::edit::apply_edits;
use super::ini::mlflow_ini;
use super::scan::{TRACKING, split_uri};
use super::words::Dialect;
use super::*;
use crate::env::{PASSWORD, USERNAME};
use crate::server::Server;

/// A changed file and its backup.
struct Removed {
    path: PathBuf,
    backup: PathBuf,
}

/// The tracking variable `line` assigns in a start-up file of `dialect`, by core's rule.
fn assignment(line: &str, dialect: Dialect) -> Option<(&'static str, Result<String, String>)> {
    let file = match dialect {
        Dialect::Posix => ".bashrc",
        Dialect::Fish => "config.fish",
        Dialect::Pwsh => "profile.ps1",
    };
    startup::assignments(Path::new(file), line, &TRACKING).pop().map(|a| (a.var, a.value))
}

/// Values a password may hold that quoting gets wrong.
const HOSTILE: &str = "it's a \"pw\" $HOME #1 = ü\\x";

fn posix_single(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

fn posix_double(v: &str) -> Option<String> {
    (!v.contains('$') && !v.contains('`')).then(|| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
}

#[test]
fn posix_words_read_as_the_shell_does() {
    let safe = "it's a \"pw\" #1 = ü\\x";
    for line in [
        format!("export MLFLOW_TRACKING_PASSWORD={}", posix_single(HOSTILE)),
        format!("MLFLOW_TRACKING_PASSWORD={}  # mine", posix_single(HOSTILE)),
        format!("  declare -x MLFLOW_TRACKING_PASSWORD={}", posix_single(HOSTILE)),
    ] {
        let (var, v) = assignment(&line, Dialect::Posix).unwrap();
        assert_eq!((var, v.unwrap().as_str()), (PASSWORD, HOSTILE), "{line}");
    }
    let line = format!("export MLFLOW_TRACKING_PASSWORD={}", posix_double(safe).unwrap());
    assert_eq!(assignment(&line, Dialect::Posix).unwrap().1.unwrap(), safe);
    assert_eq!(assignment("export MLFLOW_TRACKING_USERNAME=al\\ ice", Dialect::Posix).unwrap().1.unwrap(), "al ice");
    for bad in [
        "export MLFLOW_TRACKING_PASSWORD=$PW",
        "export MLFLOW_TRACKING_PASSWORD=\"$(pass show x)\"",
        "export MLFLOW_TRACKING_PASSWORD='open",
        "export MLFLOW_TRACKING_PASSWORD=x; rm -rf y",
    ] {
        assert!(assignment(bad, Dialect::Posix).unwrap().1.is_err(), "{bad}");
    }
    for none in ["# export MLFLOW_TRACKING_PASSWORD=x", "echo $MLFLOW_TRACKING_URI", "export MLFLOW_TRACKING_URIX=1"] {
        assert!(assignment(none, Dialect::Posix).is_none(), "{none}");
    }
}

#[test]
fn fish_and_pwsh_words() {
    let fish = format!("set -gx MLFLOW_TRACKING_PASSWORD '{}'", HOSTILE.replace('\\', "\\\\").replace('\'', "\\'"));
    assert_eq!(assignment(&fish, Dialect::Fish).unwrap().1.unwrap(), HOSTILE);
    assert!(assignment("set MLFLOW_TRACKING_PASSWORD x", Dialect::Fish).is_none(), "not exported");
    let pwsh = format!("$env:MLFLOW_TRACKING_PASSWORD = '{}'", HOSTILE.replace('\'', "''"));
    assert_eq!(assignment(&pwsh, Dialect::Pwsh).unwrap().1.unwrap(), HOSTILE);
}

#[test]
fn mlflow_credentials_section() {
    let text =
        "[other]\nx = 1\n[mlflow]\nmlflow_tracking_username = alice\nmlflow_tracking_password = p%%w #=x\n\n[more]\n";
    let (vars, range) = mlflow_ini(text).unwrap();
    assert_eq!(range, 2..6);
    assert_eq!(vars.values[PASSWORD].0, "p%w #=x");
    assert_eq!(vars.values[USERNAME], ("alice".into(), 4));
}

#[test]
fn netrc_entries_and_spans() {
    let text = "# mine\nmachine a.example login x password y\n\nmachine B.example\n  login \"u v\"\n  password \"p\\\"q\"\nmacdef init\nmachine fake\n\ndefault login z password w\n";
    let e = netrc_entries(text);
    let got: Vec<_> = e.iter().map(|e| (e.machine.clone(), e.login.clone(), e.password.clone(), e.line)).collect();
    assert_eq!(
        got,
        vec![
            (Some("a.example".into()), Some("x".into()), Some("y".into()), 2),
            (Some("b.example".into()), Some("u v".into()), Some("p\"q".into()), 4),
            (None, Some("z".into()), Some("w".into()), 10),
        ]
    );
    let r = Removal { path: "n".into(), original: text.into(), edit: Edit::DeleteBytes(e[1].span.clone()) };
    let after = apply_edits(text, &[(&r, "b")]);
    assert_eq!(
        after,
        "# mine\nmachine a.example login x password y\n\nmacdef init\nmachine fake\n\ndefault login z password w\n"
    );
}

#[test]
fn uris_with_credentials() {
    let (url, user, pass) = split_uri("https://al%40ice:p%3Aw%25@Host.example:443/mlflow/").unwrap();
    assert_eq!(
        (url.as_str(), user.as_deref(), pass.as_deref()),
        ("https://host.example/mlflow", Some("al@ice"), Some("p:w%"))
    );
}

fn world(files: &[(&str, &str)], env: &[(&str, &str)], config: &Config) -> (tempfile::TempDir, Scan) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let var = move |k: &str| env.get(k).map(OsString::from);
    let scan = scan(&ScanInput { home: dir.path(), var: &var, config, url: None });
    (dir, scan)
}

#[test]
fn scans_every_place_and_merges_the_environment() {
    let mut config = Config::default();
    config.servers.insert("nx".into(), Server::new_basic("http://netrc.example:8080", "nina").unwrap());
    config.servers.insert("other".into(), Server::new_basic("http://netrc.example:9090", "olga").unwrap());
    let rc = format!(
        "alias ll=ls\nexport MLFLOW_TRACKING_URI=https://rc.example\nexport MLFLOW_TRACKING_USERNAME=bob\nexport MLFLOW_TRACKING_PASSWORD={}\n",
        posix_single(HOSTILE)
    );
    let (dir, scan) = world(
        &[
            (".bashrc", &rc),
            (".mlflow/credentials", "[mlflow]\nmlflow_tracking_username=carol\nmlflow_tracking_password=c=1\n"),
            (".netrc", "machine netrc.example login nina password \"n p\"\n"),
            (
                ".config/fish/config.fish",
                "set -gx MLFLOW_TRACKING_TOKEN tok\nset -gx MLFLOW_TRACKING_URI http://127.0.0.1:9\n",
            ),
        ],
        &[
            ("MLFLOW_TRACKING_URI", "https://rc.example"),
            ("MLFLOW_TRACKING_USERNAME", "bob"),
            ("MLFLOW_TRACKING_PASSWORD", HOSTILE),
        ],
        &config,
    );
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    let got: Vec<_> = scan
        .found
        .iter()
        .map(|f| {
            (
                f.kind,
                f.url.clone().unwrap_or_default(),
                f.username.clone(),
                f.auth,
                f.secret.expose().to_string(),
                f.removals.len(),
            )
        })
        .collect();
    let s = |v: &str| v.to_string();
    assert_eq!(
        got,
        vec![
            (SourceKind::ShellFile, s("https://rc.example"), Some(s("bob")), AuthKind::Basic, s(HOSTILE), 1),
            (SourceKind::ShellFile, s("http://127.0.0.1:9"), Some(s("bob")), AuthKind::Bearer, s("tok"), 1),
            (SourceKind::MlflowCredentials, s(""), Some(s("carol")), AuthKind::Basic, s("c=1"), 1),
            (SourceKind::Netrc, s("http://netrc.example:8080"), Some(s("nina")), AuthKind::Basic, s("n p"), 1),
        ]
    );
    assert_eq!(scan.found[0].line, Some(4));
    // The URL the start-up file and the environment name belongs to no known server: only a
    // suggestion for the credentials file, which names none.
    let suggested = scan.found[2].suggested_url.clone().unwrap();
    assert_eq!(suggested.url, "https://rc.example");

    // Removal: no copy of any secret left, backups 0600 with the old text.
    let pairs: Vec<(&Removal, &str)> = scan.found.iter().flat_map(|f| f.removals.iter().map(|r| (r, "x"))).collect();
    let removed: Vec<Removed> = remove_plaintext(&pairs, &dir.path().join("cfg/backups"))
        .into_iter()
        .map(|c| Removed { path: c.paths[0].clone(), backup: c.outcome.unwrap() })
        .collect();
    assert_eq!(removed.len(), 4);
    for r in &removed {
        let text = std::fs::read_to_string(&r.path).unwrap();
        for secret in [HOSTILE, "tok", "c=1", "n p"] {
            assert!(!text.contains(secret), "{}: {text}", r.path.display());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&r.backup).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
    let bashrc = std::fs::read_to_string(dir.path().join(".bashrc")).unwrap();
    assert!(
        bashrc.starts_with("alias ll=ls\ntrue # (mlflow-login import, server \"x\") export MLFLOW_TRACKING_URI="),
        "{bashrc}"
    );
    assert_eq!(
        std::fs::read_to_string(&removed.iter().find(|r| r.path.ends_with(".bashrc")).unwrap().backup).unwrap(),
        rc
    );
    assert_eq!(std::fs::read_to_string(dir.path().join(".mlflow/credentials")).unwrap(), "");
    // A second scan finds nothing left in the files.
    let (_d2, again) = world(&[(".bashrc", &bashrc)], &[], &config);
    assert!(again.found.is_empty());
}

#[test]
fn a_file_changed_since_the_scan_is_left_alone() {
    let (dir, scan) = world(
        &[(".profile", "MLFLOW_TRACKING_URI=https://h\nMLFLOW_TRACKING_PASSWORD=x\n")],
        &[("MLFLOW_TRACKING_USERNAME", "u")],
        &Config::default(),
    );
    std::fs::write(dir.path().join(".profile"), "changed\n").unwrap();
    let f = &scan.found[0];
    let changes = remove_plaintext(&[(&f.removals[0], "h")], &dir.path().join("b"));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].outcome.as_ref().unwrap_err().kind(), crate::ErrorKind::InvalidInput);
    assert_eq!(std::fs::read_to_string(dir.path().join(".profile")).unwrap(), "changed\n");
}

#[test]
fn targets() {
    let mut c = Config::default();
    c.servers.insert("prod".into(), Server::new_basic("https://h/mlflow", "alice").unwrap());
    c.servers.insert("h".into(), Server::new_basic("https://x", "alice").unwrap());
    let basic = AuthKind::Basic;
    assert_eq!(target(&c, "https://h/mlflow", basic, Some("alice")), ("prod".into(), LoginMode::Edit));
    assert_eq!(target(&c, "https://h/mlflow", basic, Some("bob")), ("h-2".into(), LoginMode::Add));
    assert_eq!(target(&c, "https://h", basic, None), ("h-2".into(), LoginMode::Add));
    assert_eq!(target(&c, "http://127.0.0.1:5000", basic, None), ("127.0.0.1-5000".into(), LoginMode::Add));
    // A password for the URL of a single sign-on server never turns it into a Basic one.
    let mut sso = Server::new_basic("https://sso", "alice").unwrap();
    (sso.auth, sso.username) = (AuthKind::Sso, None);
    c.servers.insert("corp".into(), sso);
    assert_eq!(target(&c, "https://sso", basic, Some("alice")), ("sso".into(), LoginMode::Add));
    assert_eq!(target(&c, "https://sso", AuthKind::Sso, None), ("corp".into(), LoginMode::Edit));
}

#[test]
fn the_hooks_own_variables_are_not_plain_text() {
    let env =
        [("MLFLOW_TRACKING_URI", "https://h"), ("MLFLOW_TRACKING_USERNAME", "u"), ("MLFLOW_TRACKING_PASSWORD", "p")];
    let (_d, scan) = world(&[], &env, &Config::default());
    assert_eq!(scan.found.len(), 1);
    let hooked: Vec<_> = env.iter().copied().chain([("MLFLOW_LOGIN_SERVER", "prod")]).collect();
    let (_d, scan) = world(&[], &hooked, &Config::default());
    assert!(scan.found.is_empty());
}

#[test]
fn empty_values_and_netrc_logins_no_server_uses() {
    let mut config = Config::default();
    config.servers.insert("a".into(), Server::new_basic("https://h.example", "alice").unwrap());
    let (_d, scan) = world(
        &[
            (
                ".profile",
                "export MLFLOW_TRACKING_URI=https://h.example\nexport MLFLOW_TRACKING_USERNAME=alice\nexport MLFLOW_TRACKING_PASSWORD=\n",
            ),
            (".netrc", "machine h.example login mallory password x\n"),
        ],
        &[],
        &config,
    );
    assert!(scan.found.is_empty(), "{:?}", scan.found);
    assert_eq!(scan.skipped.len(), 1);
    assert_eq!((scan.skipped[0].line, scan.skipped[0].what.as_str()), (1, "machine h.example"));
}

#[test]
fn a_branch_of_only_removed_lines_stays_valid_shell() {
    let rc = "if [ \"$HOST\" = a ]; then\n  export MLFLOW_TRACKING_URI=https://a.example\n  export MLFLOW_TRACKING_USERNAME=alice\n  export MLFLOW_TRACKING_PASSWORD=pa-secret\nfi\n";
    let (dir, scan) = world(&[(".bashrc", rc)], &[], &Config::default());
    let pairs: Vec<(&Removal, &str)> = scan.found.iter().flat_map(|f| f.removals.iter().map(|r| (r, "b"))).collect();
    assert!(remove_plaintext(&pairs, &dir.path().join("cfg/backups")).iter().all(|c| c.outcome.is_ok()));
    let now = std::fs::read_to_string(dir.path().join(".bashrc")).unwrap();
    assert!(!now.contains("pa-secret"), "{now}");
    let check = std::process::Command::new("bash").args(["-n", "-c", &now]).output().unwrap();
    assert!(check.status.success(), "not valid shell any more:\n{now}\n{}", String::from_utf8_lossy(&check.stderr));
}

/// A variable given two values in one file (`if` branches): nothing in the file is
/// imported, so nothing in it is removed, and each of its lines is reported.
#[test]
fn a_file_with_two_values_for_one_variable_is_left_alone() {
    let rc = "if [ \"$HOST\" = a ]; then\n  export MLFLOW_TRACKING_URI=https://a.example\n  export MLFLOW_TRACKING_PASSWORD=pa\nelse\n  export MLFLOW_TRACKING_URI=https://a.example\n  export MLFLOW_TRACKING_PASSWORD=pb\nfi\n";
    let (_dir, scan) = world(&[(".bashrc", rc)], &[], &Config::default());
    assert!(scan.found.is_empty(), "{:?}", scan.found);
    let lines: Vec<_> = scan.skipped.iter().map(|s| (s.line, s.what.as_str())).collect();
    assert_eq!(lines, vec![(3, PASSWORD), (6, PASSWORD)]);
    // The same value twice is one value.
    let same = rc.replace("=pb", "=pa");
    let (_dir, scan) = world(&[(".bashrc", &same)], &[], &Config::default());
    assert_eq!(scan.found.len(), 1);
    // A value the shell computes is a value of its own.
    let computed = rc.replace("=pb", "=\"$(pass mlflow)\"");
    let (_dir, scan) = world(&[(".bashrc", &computed)], &[], &Config::default());
    assert!(scan.found.is_empty(), "{:?}", scan.found);
}

/// In a shell where a project file is in force, the environment's tracking URI is the
/// project file's: it is neither the URL of the credentials file's password nor offered
/// for it; a known server's URL named by a start-up file is.
#[test]
fn a_project_files_uri_never_becomes_a_credentials_url() {
    let creds = (".mlflow/credentials", "[mlflow]\nmlflow_tracking_username=u\nmlflow_tracking_password=p\n");
    let env =
        [("MLFLOW_TRACKING_URI", "https://planted.example"), ("MLFLOW_LOGIN_PROJECT", "/tmp/p/.mlflow-login.toml")];
    let (_d, scan) = world(&[creds], &env, &Config::default());
    assert_eq!(scan.found.len(), 1);
    assert_eq!((scan.found[0].url.as_deref(), scan.found[0].suggested_url.as_ref()), (None, None));
    // Without the project the same URL is a suggestion, never the URL itself.
    let (_d, scan) = world(&[creds], &env[..1], &Config::default());
    assert_eq!(scan.found[0].url, None);
    assert_eq!(scan.found[0].suggested_url.as_ref().map(|s| s.url.as_str()), Some("https://planted.example"));
    // A known server's URL named elsewhere is the URL.
    let mut config = Config::default();
    config.servers.insert("prod".into(), Server::new_basic("https://prod.example", "u").unwrap());
    let rc = (".profile", "export MLFLOW_TRACKING_URI=https://prod.example\n");
    let (_d, scan) = world(&[creds, rc], &env, &config);
    assert_eq!(scan.found[0].url.as_deref(), Some("https://prod.example"));
}

/// Two start-up files that are one file (a link): one change, one backup, both paths
/// reported with it.
#[cfg(unix)]
#[test]
fn a_linked_start_up_file_is_changed_once() {
    let rc = "export MLFLOW_TRACKING_URI=https://h.example\nexport MLFLOW_TRACKING_PASSWORD=x\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".bashrc"), rc).unwrap();
    std::os::unix::fs::symlink(dir.path().join(".bashrc"), dir.path().join(".profile")).unwrap();
    let var = |_: &str| None;
    let config = Config::default();
    let scan = scan(&ScanInput { home: dir.path(), var: &var, config: &config, url: None });
    assert_eq!(scan.found.len(), 1);
    assert_eq!(scan.found[0].removals.len(), 2);
    let pairs: Vec<(&Removal, &str)> = scan.found[0].removals.iter().map(|r| (r, "h")).collect();
    let changes = remove_plaintext(&pairs, &dir.path().join("b"));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].paths.len(), 2);
    let backup = changes[0].outcome.as_ref().unwrap();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), rc);
    assert!(!std::fs::read_to_string(dir.path().join(".bashrc")).unwrap().contains("=x"));
}

/// A changed file then a good one: the good one is still changed, each reported.
#[test]
fn one_files_failure_leaves_the_others_changed() {
    let (dir, _) = world(
        &[(".profile", "MLFLOW_TRACKING_URI=https://h\nMLFLOW_TRACKING_PASSWORD=x\n"), (".netrc", "")],
        &[],
        &Config::default(),
    );
    let creds = (".mlflow/credentials", "[mlflow]\nmlflow_tracking_password=y\n");
    let p = dir.path().join(creds.0);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, creds.1).unwrap();
    let var = |_: &str| None;
    let config = Config::default();
    let both = super::scan(&ScanInput { home: dir.path(), var: &var, config: &config, url: Some("https://h") });
    std::fs::write(dir.path().join(".profile"), "changed\n").unwrap();
    let pairs: Vec<(&Removal, &str)> = both.found.iter().flat_map(|f| f.removals.iter().map(|r| (r, "h"))).collect();
    let changes = remove_plaintext(&pairs, &dir.path().join("b"));
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes.iter().any(|c| c.paths[0].ends_with(".profile") && c.outcome.is_err()));
    assert!(changes.iter().any(|c| c.paths[0].ends_with("credentials") && c.outcome.is_ok()));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
}

/// Backups are listed and forgotten.
#[test]
fn backups_are_listed_and_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("backups");
    assert!(backups::list(&b).unwrap().is_empty());
    let one = backups::write(&b, Path::new("/x/.bashrc"), "secret").unwrap();
    assert_eq!(backups::list(&b).unwrap(), vec![one.clone()]);
    assert_eq!(backups::forget(&b).unwrap(), vec![one]);
    assert!(!b.exists());
}
