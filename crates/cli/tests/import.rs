//! `import` against the real keychain and the real nginx + MLflow fixtures: a password
//! kept in plain text in each place people keep one (start-up files of bash, zsh and fish
//! in their quoting styles, MLflow's credentials file, ~/.netrc, a tracking URI in the
//! environment) ends up in the keychain (read back with `secret-tool`), verified; with
//! --remove-plaintext no copy stays in the file and a 0600 backup sits at the printed path.
//! The fixture passwords are hostile on purpose ($, quotes, backticks, `#`, `;`, spaces,
//! backslashes, UTF-8).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

/// A world with its own HOME, start-up files and environment.
struct Home {
    w: World,
    home: PathBuf,
}

impl Home {
    fn new() -> Self {
        let w = World::new();
        let home = w.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Home { w, home }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.home.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `import ARGS --json` with this HOME and `env`; the JSON report.
    fn import(&self, args: &[&str], env: &[(&str, &str)]) -> (Output, Vec<Value>) {
        let mut c = self.w.cmd();
        c.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env_remove("ZDOTDIR")
            .env_remove("NETRC")
            .env_remove("MLFLOW_TRACKING_TOKEN")
            .env_remove("MLFLOW_LOGIN_SERVER");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.arg("import").args(args).arg("--json").output().unwrap();
        let items =
            serde_json::from_slice::<Value>(&out.stdout).ok().and_then(|v| v.as_array().cloned()).unwrap_or_default();
        (out, items)
    }
}

fn posix_single(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

fn fish_single(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn netrc_quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn percent(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The one report of a successful import, checked: verified, stored, no secret printed.
fn stored_one(out: &Output, items: &[Value], secret: &str) -> Value {
    assert!(out.status.success(), "{}", text(out));
    assert!(!text(out).contains(secret), "the secret was printed: {}", text(out));
    assert_eq!(items.len(), 1, "{}", text(out));
    let item = items[0].clone();
    assert_eq!((item["outcome"].as_str(), item["stored"].as_bool()), (Some("ok"), Some(true)), "{item}");
    item
}

/// The file no longer holds the secret; its backup (mode 0600, at the path reported) does.
fn removed_from(item: &Value, file: &Path, secret: &str, original: &str) {
    let now = std::fs::read_to_string(file).unwrap();
    assert!(!now.contains(secret), "{} still holds the secret:\n{now}", file.display());
    let removed = item["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{item}");
    assert_eq!(removed[0]["path"].as_str(), Some(file.to_str().unwrap()), "{item}");
    let backup = PathBuf::from(removed[0]["backup"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600, "{}", backup.display());
}

#[test]
fn bashrc_export_single_quoted() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    let rc = format!(
        "alias ll='ls -l'\nexport MLFLOW_TRACKING_URI={url}\nexport MLFLOW_TRACKING_USERNAME=alice\nexport MLFLOW_TRACKING_PASSWORD={}  # mine\n",
        posix_single(&pw)
    );
    let file = h.write(".bashrc", &rc);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!((item["source"].as_str(), item["line"].as_u64()), (Some("shell_file"), Some(4)), "{item}");
    assert_eq!(h.w.keychain(&url, "alice").as_deref(), Some(pw.as_str()));
    removed_from(&item, &file, &pw, &rc);
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.starts_with("alias ll='ls -l'\ntrue # (mlflow-login import"), "{now}");
    // What is left is still valid shell (an `if` branch of such lines must not be empty).
    let check = std::process::Command::new("bash").args(["-n", "-c", &now]).output().unwrap();
    assert!(check.status.success(), "{}", text(&check));
    assert!(stderr(&out).contains("backup: "), "{}", text(&out));
    // Nothing is left to import.
    let (out, items) = h.import(&[], &[]);
    assert!(out.status.success() && items.is_empty(), "{}", text(&out));
    let server = item["server"].as_str().unwrap();
    let list = h.w.list_json();
    assert_eq!(list[0]["name"].as_str(), Some(server));
    assert_eq!(list[0]["has_secret"], Value::Bool(true));
}

#[test]
fn zshrc_without_export_double_quoted_and_an_expansion_left_alone() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_SUBPATH_URL"), fx("MLL_CAROL_PW"));
    assert!(!pw.contains(['$', '`', '"', '\\']), "carol's password is meant for double quotes");
    let rc = format!(
        "MLFLOW_TRACKING_URI=\"{url}\"\nMLFLOW_TRACKING_USERNAME=\"carol\"\nMLFLOW_TRACKING_PASSWORD=\"{pw}\"\n"
    );
    let file = h.write(".zshrc", &rc);
    let profile = "export MLFLOW_TRACKING_TOKEN=\"$(pass show mlflow)\"\n";
    let profile_file = h.write(".profile", profile);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!(h.w.keychain(&url, "carol").as_deref(), Some(pw.as_str()));
    removed_from(&item, &file, &pw, &rc);
    assert!(stderr(&out).contains(".profile:1 MLFLOW_TRACKING_TOKEN: not imported"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(profile_file).unwrap(), profile);
}

#[test]
fn fish_config_set_gx() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_SUBPATH_URL"), fx("MLL_BOB_PW"));
    let rc = format!(
        "set -gx MLFLOW_TRACKING_URI {url}\nset -gx MLFLOW_TRACKING_USERNAME bob\nset -gx MLFLOW_TRACKING_PASSWORD {}\n",
        fish_single(&pw)
    );
    let file = h.write(".config/fish/config.fish", &rc);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!(h.w.keychain(&url, "bob").as_deref(), Some(pw.as_str()));
    removed_from(&item, &file, &pw, &rc);
}

#[test]
fn mlflow_credentials_file_with_url() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_MLFLOW_AUTH_URL"), fx("MLL_ERIN_PW"));
    let creds =
        format!("[mlflow]\nmlflow_tracking_username = erin\nmlflow_tracking_password = {}\n", pw.replace('%', "%%"));
    let file = h.write(".mlflow/credentials", &creds);
    let (out, items) = h.import(&["--remove-plaintext", "--url", &url], &[]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!(item["source"].as_str(), Some("mlflow_credentials"));
    assert_eq!(h.w.keychain(&url, "erin").as_deref(), Some(pw.as_str()));
    removed_from(&item, &file, &pw, &creds);
    assert!(!std::fs::read_to_string(&file).unwrap().contains("[mlflow]"));
}

#[test]
fn netrc_entry_of_a_known_server() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    // A known server whose stored password is wrong.
    let out = h.w.login("prod", &url, "alice", "wrong", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let host = url.split("://").nth(1).unwrap().split(':').next().unwrap().to_string();
    let netrc = format!(
        "machine other.example login x password y\n\nmachine {host}\n  login alice\n  password {}\n",
        netrc_quoted(&pw)
    );
    let file = h.write(".netrc", &netrc);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!((item["source"].as_str(), item["server"].as_str()), (Some("netrc"), Some("prod")), "{item}");
    assert_eq!(h.w.keychain(&url, "alice").as_deref(), Some(pw.as_str()));
    removed_from(&item, &file, &pw, &netrc);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "machine other.example login x password y\n\n");
}

#[test]
fn credentials_inside_the_tracking_uri_in_the_environment() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_SUBPATH_URL"), fx("MLL_BOB_PW"));
    let (scheme, rest) = url.split_once("://").unwrap();
    let uri = format!("{scheme}://bob:{}@{rest}", percent(&pw));
    let (out, items) = h.import(&[], &[("MLFLOW_TRACKING_URI", &uri)]);
    let item = stored_one(&out, &items, &pw);
    assert_eq!((item["source"].as_str(), item["url"].as_str()), (Some("environment"), Some(url.as_str())), "{item}");
    assert!(!text(&out).contains(&percent(&pw)), "{}", text(&out));
    assert_eq!(h.w.keychain(&url, "bob").as_deref(), Some(pw.as_str()));
}

#[test]
fn a_refused_password_stores_and_removes_nothing() {
    let h = Home::new();
    let url = fx("MLL_NGINX_URL");
    let rc = format!(
        "export MLFLOW_TRACKING_URI='{url}'\nexport MLFLOW_TRACKING_USERNAME=alice\nexport MLFLOW_TRACKING_PASSWORD='not it'\n"
    );
    let file = h.write(".bashrc", &rc);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!((items[0]["outcome"].as_str(), items[0]["stored"].as_bool()), (Some("bad_credentials"), Some(false)));
    assert_eq!(h.w.keychain(&url, "alice"), None);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), rc);
    let names: Vec<String> =
        std::fs::read_dir(&h.home).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec![".bashrc".to_string()], "a backup was written");
    assert!(!h.w.config_dir().join("backups").exists(), "a backup was written");
    assert!(h.w.list_json().as_array().unwrap().is_empty());
}

/// A project file names a URL no known server has (here the fixture that would accept the
/// password): in that folder the hook exports it as MLFLOW_TRACKING_URI (no plain-text
/// password exists yet: the hook does not set it beside one). Then ~/.mlflow/credentials
/// appears. `import` must not send its password there (it names no URL of its own), so
/// nothing is checked, stored or removed, and the URL is not even offered. Security point 1.
#[test]
fn a_project_files_uri_never_gets_the_credentials_files_password() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    let creds =
        format!("[mlflow]\nmlflow_tracking_username = alice\nmlflow_tracking_password = {}\n", pw.replace('%', "%%"));
    let later = h.write(".mlflow/credentials.later", &creds);
    let file = later.with_file_name("credentials");
    h.write("lab/.mlflow-login.toml", &format!("url = \"{url}\"\n"));
    // The real hook, in the project's folder; the credentials file appears; then import
    // from that shell.
    let script = format!(
        "eval \"$({bin} init bash)\"\ncd \"$HOME/lab\"\n__mll_hook\n[ \"$MLFLOW_TRACKING_URI\" = {url} ] || {{ echo \"the hook did not export the project's URL: $MLFLOW_TRACKING_URI\" >&2; exit 9; }}\nmv \"$HOME/.mlflow/credentials.later\" \"$HOME/.mlflow/credentials\"\n{bin} import --remove-plaintext --json",
        bin = shell_word(BIN),
        url = shell_word(&url),
    );
    let mut c = h.w.cmd();
    c.env("HOME", &h.home).env("XDG_CONFIG_HOME", h.home.join(".config")).env_remove("MLFLOW_LOGIN_SERVER");
    let mut bash = std::process::Command::new("bash");
    bash.args(["--norc", "--noprofile", "-c", &script]);
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => bash.env(k, v),
            None => bash.env_remove(k),
        };
    }
    let out = bash.stdin(std::process::Stdio::null()).output().unwrap();
    let items: Vec<Value> = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_else(|| panic!("no JSON report: {}", text(&out)));
    assert_eq!(items.len(), 1, "{}", text(&out));
    assert_eq!(
        (items[0]["outcome"].as_str(), items[0]["stored"].as_bool()),
        (Some("no_url"), Some(false)),
        "{}",
        text(&out)
    );
    assert_eq!(h.w.keychain(&url, "alice"), None, "the password was stored for the project's URL");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), creds);
    let offered = format!("names {url}: if this password");
    assert!(!stderr(&out).contains(&offered), "the project's URL was offered: {}", text(&out));
    assert!(h.w.list_json().as_array().unwrap().is_empty());
}

/// `if ...; then PASSWORD=pa; else PASSWORD=pb; fi`: a shell gets one or the other, so the
/// file is reported and left alone, never half-imported with both lines removed. Security
/// point 4.
#[test]
fn a_start_up_file_with_two_passwords_is_left_alone() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    let rc = format!(
        "export MLFLOW_TRACKING_URI={url}\nexport MLFLOW_TRACKING_USERNAME=alice\nif [ \"$(hostname)\" = gpu1 ]; then\n  export MLFLOW_TRACKING_PASSWORD=other-pw\nelse\n  export MLFLOW_TRACKING_PASSWORD={}\nfi\n",
        posix_single(&pw)
    );
    let file = h.write(".bashrc", &rc);
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(items.is_empty(), "{}", text(&out));
    for line in [4, 6] {
        assert!(
            stderr(&out).contains(&format!(".bashrc:{line} MLFLOW_TRACKING_PASSWORD: not imported")),
            "{}",
            text(&out)
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), rc);
    assert_eq!(h.w.keychain(&url, "alice"), None);
}

/// ~/.profile is a link to ~/.bashrc: one file, changed once, both paths named with the one
/// backup; `doctor` lists the backup (it holds the password) and `import --forget-backups`
/// deletes it. Security point 14.
#[test]
fn a_linked_start_up_file_then_its_backup_listed_and_forgotten() {
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    let rc = format!(
        "export MLFLOW_TRACKING_URI={url}\nexport MLFLOW_TRACKING_USERNAME=alice\nexport MLFLOW_TRACKING_PASSWORD={}\n",
        posix_single(&pw)
    );
    let file = h.write(".bashrc", &rc);
    std::os::unix::fs::symlink(&file, h.home.join(".profile")).unwrap();
    let (out, items) = h.import(&["--remove-plaintext"], &[]);
    let item = stored_one(&out, &items, &pw);
    let removed = item["removed"].as_array().unwrap();
    let paths: Vec<&str> = removed.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "{item}");
    assert!(paths.iter().any(|p| p.ends_with(".bashrc")) && paths.iter().any(|p| p.ends_with(".profile")), "{item}");
    assert_eq!(removed[0]["backup"], removed[1]["backup"], "{item}");
    let backup = PathBuf::from(removed[0]["backup"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), rc);
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&pw));
    assert!(std::fs::symlink_metadata(h.home.join(".profile")).unwrap().file_type().is_symlink());

    let doctor = |h: &Home| {
        let mut c = h.w.cmd();
        c.env("HOME", &h.home).env("XDG_CONFIG_HOME", h.home.join(".config")).arg("doctor");
        c.output().unwrap()
    };
    let out = doctor(&h);
    let listed = format!("1 backup(s) of files that held plain-text passwords: {}", backup.display());
    assert!(stdout(&out).contains(&listed), "{}", text(&out));

    let out = h.w.run(&["import", "--forget-backups"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains(&format!("deleted {}", backup.display())), "{}", text(&out));
    assert!(!backup.exists());
    let out = doctor(&h);
    assert!(stdout(&out).contains("ok  no backups of files with plain-text passwords"), "{}", text(&out));
}

fn shell_word(v: &str) -> String {
    posix_single(v)
}

/// A URL a start-up file names that no known server has is offered, at a terminal, for
/// ~/.mlflow/credentials' password: "y" checks and stores it there; without a terminal it
/// is only named in the advice.
#[test]
fn a_url_another_file_names_is_used_only_when_confirmed() {
    require("script", "util-linux");
    let h = Home::new();
    let (url, pw) = (fx("MLL_NGINX_URL"), fx("MLL_ALICE_PW"));
    let creds =
        format!("[mlflow]\nmlflow_tracking_username = alice\nmlflow_tracking_password = {}\n", pw.replace('%', "%%"));
    h.write(".mlflow/credentials", &creds);
    h.write(".bashrc", &format!("export MLFLOW_TRACKING_URI={url}\n"));
    let (out, items) = h.import(&[], &[]);
    assert_eq!(items[0]["outcome"].as_str(), Some("no_url"), "{}", text(&out));
    assert!(stderr(&out).contains(&format!("~/.bashrc names {url}")), "{}", text(&out));
    assert_eq!(h.w.keychain(&url, "alice"), None);

    // At a terminal (script(1) gives the program one), answered "y".
    let mut c = h.w.cmd();
    c.env("HOME", &h.home).env("XDG_CONFIG_HOME", h.home.join(".config")).env_remove("MLFLOW_LOGIN_SERVER");
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &format!("{} import --json", shell_word(BIN)), "/dev/null"]);
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let out = run_with_stdin(&mut script, b"y\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("which is none of your servers: check this password there? [y/N]"), "{}", text(&out));
    assert_eq!(h.w.keychain(&url, "alice").as_deref(), Some(pw.as_str()));
}
