//! `doctor`: finds what breaks MLflow logins without an error message.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use mlflow_login_core::env::MANAGED;
use mlflow_login_core::env::SecretMode;
use mlflow_login_core::import;
use mlflow_login_core::project;
use mlflow_login_core::shell::{self, Shell, parse_function_env};
use mlflow_login_core::{Config, EntryKey, ErrorKind, Vault};

use super::{Run, logins};
use crate::failure::{self, Failure};

/// Check this shell and this machine for what makes MLflow use other credentials than
/// yours, each with its fix:
///
///   - this shell has no MLflow Login hook (it will not follow switches)
///   - a ~/.netrc entry for a server's host (Python's requests may send it instead)
///   - ~/.mlflow/credentials (a plain-text password MLflow falls back to)
///   - MLFLOW_TRACKING_* set in a shell start-up file (it fights the hook)
///   - a user name or password inside MLFLOW_TRACKING_URI
///   - MLFLOW_WORKSPACE set by hand to another workspace than this shell's server uses
///   - a keychain that is locked or missing, or no password for the active server
///   - a project file (.mlflow-login.toml) that names a server you have not logged in to,
///     or that does not parse
///
/// Exits with 1 when it finds a problem. Nothing is changed; nothing secret is printed.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Doctor {}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    problem: bool,
    title: String,
    why: Option<String>,
    fix: Option<String>,
}

impl Finding {
    fn ok(title: impl Into<String>) -> Self {
        Self { problem: false, title: title.into(), why: None, fix: None }
    }
    fn problem(title: impl Into<String>, why: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { problem: true, title: title.into(), why: Some(why.into()), fix: Some(fix.into()) }
    }
}

impl Run for Doctor {
    fn run(self) -> Result<(), Failure> {
        let home = home_dir();
        let logins = logins()?;
        let config = logins.config()?;
        let mut findings = vec![check_hook(&home)];
        findings.extend(check_keychain(&config, logins.vault()));
        findings.extend(check_leftover_entries(&config, logins.vault()));
        findings.extend(check_netrc(&home, &config));
        findings.extend(check_mlflow_credentials(&home));
        findings.extend(check_rc_files(&home));
        findings.extend(check_uri_env());
        findings.extend(check_workspace_env(&config));
        findings.push(check_plugin());
        findings.extend(check_project(&home, &config));
        for f in &findings {
            let label = if f.problem { "problem" } else { "ok" };
            outln!("{label:>7}  {}", f.title)?;
            if let Some(why) = &f.why {
                outln!("         {why}")?;
            }
            if let Some(fix) = &f.fix {
                outln!("         fix: {fix}")?;
            }
        }
        let problems = findings.iter().filter(|f| f.problem).count();
        if problems > 0 {
            let s = if problems == 1 { "" } else { "s" };
            return Err(Failure::new(failure::OTHER, format!("doctor found {problems} problem{s}")));
        }
        outln!("\nno problems found")?;
        Ok(())
    }
}

pub(super) fn home_dir() -> PathBuf {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).unwrap_or_default()
}

/// `~/...` for display.
pub(super) fn tilde(home: &Path, p: &Path) -> String {
    match p.strip_prefix(home) {
        Ok(rest) if !home.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => p.display().to_string(),
    }
}

/// The init script's function sets MLFLOW_LOGIN_SHELL for the program it runs, so doctor
/// run through it knows this shell is hooked.
fn check_hook(home: &Path) -> Finding {
    if let Some((shell, mode)) = std::env::var(shell::FUNCTION_ENV).ok().as_deref().and_then(parse_function_env) {
        let mode = match mode {
            SecretMode::Export => "",
            SecretMode::Plugin => " (--no-password: the plugin reads the keychain)",
            SecretMode::Withhold => " (no password exported: `mlflow-login exec` or the plugin)",
        };
        let pin = match shell::pin_from_env() {
            Some(p) => format!(", pinned to \"{p}\" (`mlflow-login use --unpin` to follow the active server)"),
            None => String::new(),
        };
        return Finding::ok(format!("this {} shell has the MLflow Login hook{mode}{pin}", shell.name()));
    }
    let shell = Shell::detect();
    let rc = shell.rc_file().unwrap_or("~/.profile");
    let rc_path = home.join(rc.trim_start_matches("~/"));
    let has_line = fs::read_to_string(&rc_path).is_ok_and(|t| t.contains("mlflow-login init"));
    if has_line {
        Finding::problem(
            "this shell has no MLflow Login hook",
            format!(
                "{rc} has the init line, but this shell did not run it (or doctor was not run through the `mlflow-login` function)"
            ),
            "open a new shell",
        )
    } else {
        Finding::problem(
            "this shell has no MLflow Login hook: it will not follow the active server",
            "without it, MLFLOW_TRACKING_* stay whatever this shell started with",
            format!("add `{}` to {rc} and open a new shell (see `mlflow-login init --help`)", shell.init_line("")),
        )
    }
}

/// The project file in force in this shell (or, for a shell without the hook, the one in
/// this folder or above), and which server it selects.
fn check_project(home: &Path, config: &Config) -> Option<Finding> {
    let in_force = project::file_from_env();
    let file = in_force.clone().or_else(|| {
        let here = std::env::current_dir().ok()?;
        project::find(&here, Some(home))
    })?;
    let whose = if in_force.is_some() { "in force in this shell" } else { "here (hooked shells use it)" };
    Some(match project::load(&file) {
        Err(e) => Finding::problem(
            format!("the project file {} does not parse", file.display()),
            e.to_string(),
            "fix the file (it names the server with url = \"https://...\", and never a secret)",
        ),
        Ok(p) => match p.server_in(config) {
            Some((name, _)) => {
                Finding::ok(format!("the project file {} is {whose}: it selects \"{name}\"", file.display()))
            }
            None => Finding::problem(
                format!("the project file {} names {}, which no known server has", file.display(), p.url),
                "shells in this project get the bare URI and no credential, until you log in to it",
                p.login_command(),
            ),
        },
    })
}

fn check_keychain(config: &Config, vault: &dyn Vault) -> Vec<Finding> {
    let active = config.active_server();
    let key = match active {
        Some((_, server)) => EntryKey::for_server(server),
        None => EntryKey {
            service: format!("{}doctor-probe", mlflow_login_core::vault::service_prefix()),
            account: "doctor".into(),
        },
    };
    match (vault.get(&key), active) {
        (Ok(Some(_)), Some((name, _))) => {
            vec![Finding::ok(format!("the keychain holds the password of \"{name}\", the active server"))]
        }
        (Ok(None), Some((name, _))) => vec![Finding::problem(
            format!("no password is stored for \"{name}\", the active server"),
            "shells and runs get MLFLOW_TRACKING_URI without credentials",
            format!("mlflow-login login {name}"),
        )],
        (Ok(_), None) => vec![Finding::ok("the keychain answers (no server is active)")],
        (Err(e), _) => {
            let what = match e.kind() {
                ErrorKind::KeychainLocked => "the keychain is locked",
                ErrorKind::KeychainTimeout => "the keychain does not answer",
                _ => "the keychain is not available",
            };
            vec![Finding::problem(
                what,
                e.to_string(),
                e.help().unwrap_or_else(|| "start or unlock your keyring".into()),
            )]
        }
    }
}

/// Keychain entries under our prefix that no server names: a login killed (or failing to
/// write the config) after it stored the password leaves one. Reported, never deleted:
/// the user may still want that password.
fn check_leftover_entries(config: &Config, vault: &dyn Vault) -> Vec<Finding> {
    let named: Vec<EntryKey> = config.servers.values().map(EntryKey::for_server).collect();
    match vault.entries() {
        Ok(entries) => entries
            .into_iter()
            .filter(|k| !named.contains(k))
            .map(|k| {
                let url = k.service.strip_prefix(&mlflow_login_core::vault::service_prefix()).unwrap_or(&k.service);
                Finding::problem(
                    format!("a keychain entry with no server: {} for {url}", k.account),
                    "no configured server uses this password (a login or removal was interrupted)",
                    format!("mlflow-login login NAME --url {url} --username {} to use it again, or delete it with your keyring manager (service \"{}\")", k.account, k.service),
                )
            })
            .collect(),
        // A locked, absent or hung keychain: check_keychain has said so already.
        Err(e) if e.kind().is_keychain() => Vec::new(),
        Err(e) => vec![Finding::problem(
            "cannot list the keychain's entries to look for ones left without a server",
            e.to_string(),
            e.help().unwrap_or_else(|| "start or unlock your keyring".into()),
        )],
    }
}

/// The hosts of the configured servers.
fn server_hosts(config: &Config) -> Vec<(String, String)> {
    config.servers.iter().filter_map(|(name, s)| url_host(&s.url).map(|h| (name.clone(), h))).collect()
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host =
        if let Some(v6) = host_port.strip_prefix('[') { v6.split(']').next()? } else { host_port.split(':').next()? };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn check_netrc(home: &Path, config: &Config) -> Vec<Finding> {
    let path = import::netrc_file(home, &|v| std::env::var_os(v));
    let Ok(text) = fs::read_to_string(&path) else {
        return vec![Finding::ok(format!("no {} file", tilde(home, &path)))];
    };
    let shown = tilde(home, &path);
    let hosts = server_hosts(config);
    let mut out = Vec::new();
    for import::NetrcEntry { machine, line, .. } in import::netrc_entries(&text) {
        let users: Vec<&str> =
            hosts.iter().filter(|(_, h)| machine.as_deref().is_none_or(|m| m == h)).map(|(n, _)| n.as_str()).collect();
        if users.is_empty() {
            continue;
        }
        let (entry, what) = match &machine {
            Some(m) => (format!("\"machine {m}\""), format!("an entry for {m}")),
            None => ("\"default\"".to_string(), "a \"default\" entry, which matches every host".to_string()),
        };
        out.push(Finding::problem(
            format!("{shown} has {what} (line {line}), used by {}", users.join(", ")),
            "Python's requests can send these credentials instead of MLFLOW_TRACKING_USERNAME/PASSWORD",
            format!(
                "`mlflow-login import --remove-plaintext` moves it into the keychain and deletes the entry (or delete the {entry} entry from {shown})"
            ),
        ));
    }
    if out.is_empty() {
        out.push(Finding::ok(format!("{shown} has no entry for a configured server")));
    }
    out
}

fn check_mlflow_credentials(home: &Path) -> Vec<Finding> {
    let path = import::mlflow_credentials_file(home);
    if !path.exists() {
        return vec![Finding::ok("no ~/.mlflow/credentials file")];
    }
    vec![Finding::problem(
        format!("{} exists", tilde(home, &path)),
        "it holds a password in plain text, and MLflow uses it whenever MLFLOW_TRACKING_USERNAME/PASSWORD are not set",
        format!(
            "`mlflow-login import --remove-plaintext` moves its password into the keychain and deletes its [mlflow] section (or delete it: rm {})",
            tilde(home, &path)
        ),
    )]
}

/// The variable a line sets, when it sets one of ours (`export X=`, `X=`, `set -gx X`,
/// `setenv X`, `$env:X =`). Comments are skipped.
fn sets_managed_var(line: &str) -> Option<&'static str> {
    let line = line.trim_start();
    if line.starts_with('#') {
        return None;
    }
    MANAGED.iter().copied().filter(|v| v.starts_with("MLFLOW_TRACKING_")).find(|var| {
        line.match_indices(var).any(|(i, _)| {
            let before = line[..i].trim_end();
            let after = &line[i + var.len()..];
            let assigns = after.starts_with('=') || after.trim_start().starts_with('=');
            let boundary = line[..i].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
                && after.chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            boundary
                && (before.ends_with("$env:")
                    || (assigns && !before.ends_with('$'))
                    || before.ends_with("setenv")
                    || before.split_whitespace().next() == Some("set") && before.contains('x'))
        })
    })
}

fn check_rc_files(home: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for path in import::startup_files(home, &|v| std::env::var_os(v)) {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        for (i, line) in text.lines().enumerate() {
            if let Some(var) = sets_managed_var(line) {
                let shown = tilde(home, &path);
                out.push(Finding::problem(
                    format!("{shown}:{} sets {var}", i + 1),
                    "every new shell starts with it, and it fights the hook (a password there is also in plain text)",
                    format!(
                        "`mlflow-login import --remove-plaintext` moves a password set there into the keychain and comments the lines out (or delete that line from {shown}: mlflow-login sets {var} for the active server)"
                    ),
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::ok("no shell start-up file sets MLFLOW_TRACKING_*"));
    }
    out
}

fn check_uri_env() -> Vec<Finding> {
    let Ok(uri) = std::env::var(mlflow_login_core::env::URI) else { return Vec::new() };
    let authority = uri.split_once("://").map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or_default());
    match authority.and_then(|a| a.rsplit_once('@')) {
        Some((_, host)) => vec![Finding::problem(
            "MLFLOW_TRACKING_URI in this shell holds a user name or password",
            format!("the credentials before @{host} end up in logs and process listings, and beat the keychain's"),
            "`mlflow-login import` moves them into the keychain (add --remove-plaintext to comment out the start-up file line that exports them)",
        )],
        None => vec![Finding::ok("MLFLOW_TRACKING_URI holds no credentials")],
    }
}

/// A `MLFLOW_WORKSPACE` set by hand that disagrees with the workspace this shell's server
/// has: runs then log to another workspace than `list` and the tray show.
fn check_workspace_env(config: &Config) -> Option<Finding> {
    let set = std::env::var(mlflow_login_core::env::WORKSPACE).ok().filter(|w| !w.is_empty())?;
    let name = super::project::shell_choice(config).server()?.to_string();
    let server = config.servers.get(&name)?;
    let active = super::workspaces::in_this_shell(config, &name, server).workspace;
    workspace_disagrees(&set, &name, active.as_deref())
}

fn workspace_disagrees(set: &str, name: &str, active: Option<&str>) -> Option<Finding> {
    (Some(set) != active).then(|| {
        let theirs = active.map_or_else(|| "none".to_string(), |w| format!("\"{w}\""));
        Finding::problem(
            format!("MLFLOW_WORKSPACE in this shell is \"{set}\", but \"{name}\" uses workspace {theirs}"),
            "runs log to another workspace than the one `mlflow-login list` and the tray show",
            format!(
                "remove the export of MLFLOW_WORKSPACE from your start-up files, and choose it with `mlflow-login use {name}/{set}`"
            ),
        )
    })
}

/// The Python that `doctor` asks about the plugin: `$MLFLOW_LOGIN_PYTHON`, else `python3`.
const PYTHON_ENV: &str = "MLFLOW_LOGIN_PYTHON";

/// Whether the MLflow Login plugin is installed in the current Python (its entry point on
/// `mlflow.request_auth_provider`). Only a problem when `MLFLOW_TRACKING_AUTH` selects it.
fn check_plugin() -> Finding {
    const PROBE: &str = "import importlib.metadata as m, sys\n\
        try:\n    eps = m.entry_points(group='mlflow.request_auth_provider')\n\
        except TypeError:\n    sys.exit(3)\n\
        sys.exit(0 if any(e.name == 'mlflow-login' for e in eps) else 1)";
    let python = std::env::var_os(PYTHON_ENV).unwrap_or_else(|| "python3".into());
    let shown = python.to_string_lossy().into_owned();
    let selected =
        std::env::var(mlflow_login_core::env::TRACKING_AUTH).as_deref() == Ok(mlflow_login_core::env::PLUGIN_NAME);
    let status = run_python_probe(&python, PROBE);
    let install = "pip install mlflow-login-auth (from this repository: pip install ./python) into that Python";
    match status.map(|s| s.code()) {
        Ok(Some(0)) => Finding::ok(format!(
            "the MLflow Login plugin is installed in {shown}{}",
            if selected { " and selected (MLFLOW_TRACKING_AUTH=mlflow-login)" } else { "" }
        )),
        Ok(_) if selected => Finding::problem(
            format!("MLFLOW_TRACKING_AUTH=mlflow-login, but the plugin is not installed in {shown}"),
            "MLflow will fail to find the auth provider and every request will error",
            install,
        ),
        Ok(_) => Finding::ok(format!(
            "the MLflow Login plugin is not installed in {shown} (optional, for notebooks and IDEs: {install})"
        )),
        Err(_) if selected => Finding::problem(
            format!("MLFLOW_TRACKING_AUTH=mlflow-login, but there is no {shown} to check the plugin in"),
            format!("set ${PYTHON_ENV} to the Python that runs MLflow"),
            install,
        ),
        Err(_) => Finding::ok(format!("no {shown} found: the MLflow plugin check was skipped (set ${PYTHON_ENV})")),
    }
}

/// Runs `PYTHON -c CODE` so that nothing but the Python's own installation decides what
/// it imports (issue 13): `doctor` is run in any folder, a cloned repository's say, and a
/// `csv.py` or `zipfile.py` there would otherwise run as the user when the probe imports
/// `importlib.metadata`.
///
/// - It runs in a new empty folder of its own: with `-c`, Python puts the current folder
///   first on `sys.path` (Pythons before 3.11 know no other way out).
/// - `PYTHONSAFEPATH=1` keeps that entry off `sys.path` where Python knows it (3.11+).
/// - Every other `PYTHON*` variable is dropped: `PYTHONPATH`, `PYTHONHOME`,
///   `PYTHONSTARTUP`, `PYTHONUSERBASE`, `PYTHONPLATLIBDIR`, ... redirect imports. PATH and
///   HOME stay, so the same `python3` and its user site-packages are found; `PYENV_DIR`
///   keeps pyenv choosing the caller's folder's Python version.
/// - A relative `$MLFLOW_LOGIN_PYTHON` is made absolute first, from the caller's folder.
fn run_python_probe(python: &std::ffi::OsStr, code: &str) -> std::io::Result<std::process::ExitStatus> {
    let here = std::env::current_dir().ok();
    let program = match Path::new(python) {
        p if p.components().count() > 1 => std::path::absolute(p)?,
        p => p.to_path_buf(),
    };
    let dir = EmptyDir::new()?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(["-c", code])
        .current_dir(&dir.0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().to_ascii_uppercase().starts_with("PYTHON") {
            cmd.env_remove(name);
        }
    }
    cmd.env("PYTHONSAFEPATH", "1");
    if let Some(here) = here.filter(|_| std::env::var_os("PYENV_DIR").is_none()) {
        cmd.env("PYENV_DIR", here);
    }
    let status = cmd.status();
    drop(dir);
    status
}

/// A new, empty, private folder in the temp dir, removed on drop. Created, never reused:
/// a folder someone else made in a shared /tmp under the same name is not taken.
struct EmptyDir(PathBuf);

impl EmptyDir {
    fn new() -> std::io::Result<Self> {
        let mut last = None;
        for attempt in 0..16u32 {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let name = format!("mlflow-login-doctor-{}-{}-{attempt}", std::process::id(), nanos.subsec_nanos());
            let path = std::env::temp_dir().join(name);
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(EmptyDir(path)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no temp folder")))
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_hand_set_workspace_that_disagrees_is_a_problem() {
        assert!(workspace_disagrees("team-a", "prod", Some("team-a")).is_none());
        let f = workspace_disagrees("team-b", "prod", Some("team-a")).unwrap();
        assert!(f.problem && f.title.contains("\"team-b\"") && f.title.contains("\"team-a\""), "{}", f.title);
        let f = workspace_disagrees("team-b", "prod", None).unwrap();
        assert!(f.title.contains("workspace none"), "{}", f.title);
    }

    use super::*;

    #[test]
    fn hosts_from_urls() {
        assert_eq!(url_host("https://H.example:8443/mlflow").as_deref(), Some("h.example"));
        assert_eq!(url_host("http://[::1]:5000").as_deref(), Some("::1"));
        assert_eq!(url_host("nope"), None);
    }

    #[test]
    fn rc_lines_that_set_our_variables() {
        for line in [
            "export MLFLOW_TRACKING_PASSWORD=hunter2",
            "MLFLOW_TRACKING_URI=https://h",
            "  export MLFLOW_TRACKING_USERNAME='a'",
            "set -gx MLFLOW_TRACKING_TOKEN abc",
            "set -x MLFLOW_TRACKING_URI https://h",
            "setenv MLFLOW_TRACKING_URI https://h",
            "$env:MLFLOW_TRACKING_PASSWORD = 'x'",
            "typeset -x MLFLOW_TRACKING_URI=https://h",
        ] {
            assert!(sets_managed_var(line).is_some(), "{line}");
        }
        for line in [
            "# export MLFLOW_TRACKING_PASSWORD=x",
            "echo $MLFLOW_TRACKING_URI",
            "eval \"$(mlflow-login init bash)\"",
            "export MLFLOW_TRACKING_URIX=1",
            "[ -n \"$MLFLOW_TRACKING_URI\" ] && echo",
        ] {
            assert!(sets_managed_var(line).is_none(), "{line}");
        }
    }
}
