//! `doctor`: finds what breaks MLflow logins without an error message.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use mlflow_login_core::env::MANAGED;
use mlflow_login_core::env::SecretMode;
use mlflow_login_core::import;
use mlflow_login_core::passwd::{self, Repaired};
use mlflow_login_core::pat;
use mlflow_login_core::shell::{self, Shell, parse_function_env};
use mlflow_login_core::{Config, EntryKey, ErrorKind, Vault};
use mlflow_login_core::{KeyringVault, choose, project};

use super::{Run, logins};
use crate::failure::{self, Failure};

/// Check this shell and this machine for what makes MLflow use other credentials than
/// yours, each with its fix:
///
///   - this shell has no MLflow Login hook (it will not follow switches)
///   - a ~/.netrc entry for a server's host (Python's requests may send it instead)
///   - ~/.mlflow/credentials (a plain-text password MLflow falls back to)
///   - MLFLOW_TRACKING_* set in a shell start-up file (it fights the hook)
///   - backups `import --remove-plaintext` kept, which still hold the passwords
///   - a user name or password inside MLFLOW_TRACKING_URI
///   - MLFLOW_WORKSPACE set by hand to another workspace than this shell's server uses
///   - a keychain that is locked or missing, or no password for the active server
///   - a project file (.mlflow-login.toml) that names a server you have not logged in to,
///     that does not parse, or that is ignored because another user could have written it
///
///   - a password change (`passwd`) that was interrupted: finished with the password the
///     server accepts, the one change doctor makes
///
/// Exits with 1 when it finds a problem. Nothing else is changed; nothing secret is printed.
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
        let logins = std::sync::Arc::new(logins()?);
        let config = logins.config()?;
        let mut findings = vec![check_hook(&home)];
        findings.extend(finish_password_changes(&logins, &config));
        findings.extend(check_keychain(&config, logins.vault()));
        findings.extend(check_leftover_entries(&config, logins.vault()));
        findings.extend(check_netrc(&home, &config));
        findings.extend(check_mlflow_credentials(&home));
        findings.extend(check_rc_files(&home));
        findings.push(check_import_backups(&home, logins.store().paths()));
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
/// this folder or above), whether it may be trusted, and which server it selects.
fn check_project(home: &Path, config: &Config) -> Option<Finding> {
    let cx = choose::Context::from_env();
    let (file, found) = cx.project_file.clone()?;
    let whose = match found {
        choose::Found::Hook => "in force in this shell",
        choose::Found::Walk => "here (commands run in this folder use it)",
    };
    Some(match project::load_trusted(&file) {
        Err(ignored @ project::Ignored::Untrusted { .. }) => Finding::problem(
            format!("the project file {} is ignored", file.display()),
            ignored.to_string(),
            "if you trust it, make it and its folder yours and writable only by you (chown, chmod go-w); \
             else work outside that folder",
        ),
        Err(e) => Finding::problem(
            format!("the project file {} does not parse", file.display()),
            e.to_string(),
            "fix the file (it names the server with url = \"https://...\", and never a secret)",
        ),
        Ok(p) => match p.server_in(config) {
            Some((name, _)) => {
                Finding::ok(format!("the project file {} is {whose}: it selects \"{name}\"", file.display()))
            }
            None => match mlflow_login_core::import::ambient_credential(&p.url, home, &|v| std::env::var_os(v)) {
                Some(plain) => Finding::problem(
                    format!("the project file {} names {}, which no known server has", file.display(), p.url),
                    format!(
                        "{} holds a password MLflow would send there, so shells in this project do not set its URI",
                        tilde(home, &plain)
                    ),
                    format!("`mlflow-login import --remove-plaintext`, then {}", p.login_command()),
                ),
                None => Finding::problem(
                    format!("the project file {} names {}, which no known server has", file.display(), p.url),
                    "shells in this project get the bare URI and no credential, until you log in to it",
                    p.login_command(),
                ),
            },
        },
    })
}

fn check_keychain(config: &Config, vault: &dyn Vault) -> Vec<Finding> {
    let active = config.active_server();
    let key = match active {
        Some((name, server)) => EntryKey::for_server(name, server),
        None => EntryKey {
            service: format!("{}doctor-probe", mlflow_login_core::vault::service_prefix()),
            account: "doctor".into(),
        },
    };
    // An entry of the older naming scheme counts: the next use moves it.
    let legacy = active.map(|(_, server)| EntryKey::legacy(server));
    let found = match vault.get(&key) {
        Ok(None) if let Some(legacy) = &legacy => vault.get(legacy),
        other => other,
    };
    match (found, active) {
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

/// A password change killed between its steps leaves the new password as a pending entry:
/// the server is asked which password it accepts, and that one is kept.
fn finish_password_changes(
    logins: &std::sync::Arc<mlflow_login_core::Logins<KeyringVault>>,
    config: &Config,
) -> Vec<Finding> {
    let Ok(entries) = logins.vault().entries() else {
        return Vec::new(); // check_keychain says why.
    };
    let Ok(rt) = super::runtime() else {
        return Vec::new();
    };
    let opts = mlflow_login_core::VerifyOptions::default();
    config
        .servers
        .iter()
        .filter(|(n, s)| entries.contains(&EntryKey::pending(n, s)))
        .map(|(name, _)| match rt.block_on(passwd::repair(logins, name, &opts)) {
            Ok(Repaired::Promoted) => Finding::ok(format!(
                "finished the interrupted password change of \"{name}\": the server accepts the new password, now stored as its password"
            )),
            Ok(Repaired::Dropped) => Finding::ok(format!(
                "\"{name}\": an interrupted password change never reached the server; the stored password still works, the new one was dropped"
            )),
            Ok(Repaired::Nothing) => Finding::ok(format!("\"{name}\": no password change to finish")),
            Ok(Repaired::Undecided { detail }) => Finding::problem(
                format!("an interrupted password change of \"{name}\" could not be finished"),
                format!("the server accepted neither the stored nor the new password: {detail}"),
                format!("run `mlflow-login doctor` again when the server answers; the new password is kept in the keychain as service \"{}\", account \"{}\"", EntryKey::pending(name, &config.servers[name]).service, EntryKey::pending(name, &config.servers[name]).account),
            ),
            Ok(_) => Finding::ok(format!("\"{name}\": password change checked")),
            Err(e) => Finding::problem(
                format!("could not finish the interrupted password change of \"{name}\""),
                e.to_string(),
                e.help().unwrap_or_else(|| "run `mlflow-login doctor` again".into()),
            ),
        })
        .collect()
}

/// Keychain entries under our prefix that no server names: a login killed (or failing to
/// write the config) after it stored the password leaves one. Reported, never deleted:
/// the user may still want that password.
fn check_leftover_entries(config: &Config, vault: &dyn Vault) -> Vec<Finding> {
    let mut named: Vec<EntryKey> =
        config.servers.iter().flat_map(|(n, s)| [EntryKey::for_server(n, s), EntryKey::pending(n, s)]).collect();
    // A personal access token's single sign-on session, kept for its renewal.
    named
        .extend(config.servers.iter().filter(|(_, s)| s.personal_token.is_some()).map(|(n, s)| pat::session_key(n, s)));
    // Entries of the older naming scheme that a server will move on its next use.
    let legacy: Vec<EntryKey> = config.servers.values().map(EntryKey::legacy).collect();
    match vault.entries() {
        Ok(entries) => entries
            .into_iter()
            .filter(|k| !named.contains(k) && !legacy.contains(k))
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
    config.servers.iter().filter_map(|(name, s)| s.host().map(|h| (name.clone(), h))).collect()
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
        "it holds a password in plain text, and MLflow sends it to whatever server MLFLOW_TRACKING_URI names \
         whenever MLFLOW_TRACKING_USERNAME/PASSWORD are not set (a cloned project's URL too)",
        format!(
            "`mlflow-login import --remove-plaintext` moves its password into the keychain and deletes its [mlflow] section (or delete it: rm {})",
            tilde(home, &path)
        ),
    )]
}

fn check_rc_files(home: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    // The hook sets every MLFLOW_TRACKING_* it manages; a start-up file that sets one fights it.
    let ours: Vec<&'static str> = MANAGED.iter().copied().filter(|v| v.starts_with("MLFLOW_TRACKING_")).collect();
    for path in import::startup_files(home, &|v| std::env::var_os(v)) {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        for import::startup::Assignment { line, var, .. } in import::startup::assignments(&path, &text, &ours) {
            let shown = tilde(home, &path);
            out.push(Finding::problem(
                format!("{shown}:{line} sets {var}"),
                "every new shell starts with it, and it fights the hook (a password there is also in plain text)",
                format!(
                    "`mlflow-login import --remove-plaintext` moves a password set there into the keychain and comments the lines out (or delete that line from {shown}: mlflow-login sets {var} for the active server)"
                ),
            ));
        }
    }
    if out.is_empty() {
        out.push(Finding::ok("no shell start-up file sets MLFLOW_TRACKING_*"));
    }
    out
}

/// Backups `import --remove-plaintext` kept hold the passwords it moved, and never expire.
fn check_import_backups(home: &Path, paths: &mlflow_login_core::Paths) -> Finding {
    let dir = import::backups::folder(paths);
    match import::backups::list(&dir) {
        Ok(files) if files.is_empty() => Finding::ok("no backups of files with plain-text passwords"),
        Ok(files) => {
            let shown: Vec<String> = files.iter().map(|f| tilde(home, f)).collect();
            Finding::problem(
                format!("{} backup(s) of files that held plain-text passwords: {}", files.len(), shown.join(", ")),
                "`mlflow-login import --remove-plaintext` kept them in case an edit went wrong; they still hold the passwords",
                "`mlflow-login import --forget-backups` deletes them",
            )
        }
        Err(e) => Finding::problem(
            format!("{} cannot be read", tilde(home, &dir)),
            e.to_string(),
            "check the folder's permissions",
        ),
    }
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
    let name = super::project::shell_choice(config).choice.server()?.to_string();
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
/// it imports: `doctor` is run in any folder, a cloned repository's say, and a
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
    use super::*;

    #[test]
    fn a_hand_set_workspace_that_disagrees_is_a_problem() {
        assert!(workspace_disagrees("team-a", "prod", Some("team-a")).is_none());
        let f = workspace_disagrees("team-b", "prod", Some("team-a")).unwrap();
        assert!(f.problem && f.title.contains("\"team-b\"") && f.title.contains("\"team-a\""), "{}", f.title);
        let f = workspace_disagrees("team-b", "prod", None).unwrap();
        assert!(f.title.contains("workspace none"), "{}", f.title);
    }
}
