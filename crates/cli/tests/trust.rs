//! Project files outside the shell hook, and the trust rules every reader of them applies,
//! against the real keychain and the real nginx + MLflow fixture:
//!
//! - a project file applies without the hook: `env`, `exec`, `status`, `token` with no
//!   name, run from a project folder, use the project's server, and `status` says why;
//! - a project file another user could have written is ignored (a real second local user,
//!   made with `useradd`; needs root);
//! - an unknown project's URI is never set beside a plain-text password MLflow would send
//!   there by itself;
//! - terminal escape sequences in a project file reach the terminal as text.
//!
//! Run under `tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh` (`make test`).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap should panic

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, World, fx, stderr, stdout, text};

/// Writes `DIR/.mlflow-login.toml` with `text` (folders made as needed); returns the file.
fn project(dir: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(".mlflow-login.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A command of the world, run in `dir` as a program started without the hook would be.
fn run_in(w: &World, dir: &Path, args: &[&str]) -> Output {
    w.cmd()
        .args(args)
        .current_dir(dir)
        .env_remove("MLFLOW_LOGIN_PROJECT")
        .env_remove("MLFLOW_LOGIN_PIN")
        .env_remove("MLFLOW_LOGIN_SHELL")
        .output()
        .unwrap()
}

fn env_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A project file applies without the hook (cron, make, an IDE): `env`, `exec`, `status`
/// and `token` given no name, run from below a project's root, use the project's server,
/// not the active one; `status` names the file and says it was found from the current
/// folder; the project's URL reached the real MLflow behind nginx with the project
/// server's password.
#[test]
fn a_project_file_applies_without_the_hook() {
    let w = World::new();
    let url = fx("MLL_NGINX_URL");
    assert!(w.login("team", &url, "alice", &fx("MLL_ALICE_PW"), &[]).status.success());
    let out = w.run_stdin(
        &["login", "tok", "--url", &fx("MLL_BEARER_URL"), "--auth", "bearer", "--password-stdin", "--no-verify"],
        "the-bearer-token",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = w.login("other", "https://other.example", "carol", "other-pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(w.run(&["use", "other"]).status.success());

    let root = w.dir.path().join("work/proj");
    let file = project(&root, &format!("url = \"{url}/\"\n"));
    let deep = root.join("src/pkg");
    std::fs::create_dir_all(&deep).unwrap();

    let vars = env_json(&run_in(&w, &deep, &["env", "--format", "json"]));
    assert_eq!(vars["MLFLOW_LOGIN_SERVER"], "team", "env: the project's server, not the active one");
    assert_eq!(vars["MLFLOW_TRACKING_PASSWORD"], fx("MLL_ALICE_PW"));

    let out = run_in(&w, &deep, &["exec", "--", "sh", "-c", "printf %s \"$MLFLOW_LOGIN_SERVER\""]);
    assert_eq!(stdout(&out), "team", "exec: {}", text(&out));

    let out = run_in(&w, &deep, &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["name"], "team", "{}", text(&out));
    assert_eq!(json[0]["outcome"]["kind"], "ok", "status checked the project's server: {}", text(&out));
    assert_eq!(json[0]["used_because"]["kind"], "project");
    assert_eq!(json[0]["used_because"]["project_file"], file.display().to_string());
    assert_eq!(json[0]["used_because"]["found"], "current_folder");
    let out = run_in(&w, &deep, &["status"]);
    let says = format!("uses \"team\": project file {} (found from the current folder)", file.display());
    assert!(stdout(&out).contains(&says), "{}", text(&out));

    let tok = w.dir.path().join("work/tok");
    project(&tok, &format!("url = \"{}\"\n", fx("MLL_BEARER_URL")));
    let out = run_in(&w, &tok, &["token"]);
    assert_eq!(stdout(&out).trim(), "the-bearer-token", "token: {}", text(&out));

    // Outside any project: the active server, as before.
    let vars = env_json(&run_in(&w, w.dir.path(), &["env", "--format", "json"]));
    assert_eq!(vars["MLFLOW_LOGIN_SERVER"], "other");

    // A file anyone could have written is ignored, and status says so.
    let shared = w.dir.path().join("work/shared");
    let planted = project(&shared, &format!("url = \"{url}\"\n"));
    chmod(&shared, 0o777);
    let out = run_in(&w, &shared, &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["name"], "other", "{}", text(&out));
    assert_eq!(json[0]["used_because"]["kind"], "active");
    assert_eq!(json[0]["used_because"]["ignored"]["kind"], "untrusted");
    assert_eq!(json[0]["used_because"]["ignored"]["file"], planted.display().to_string());
    assert!(stderr(&out).contains("is writable by every user"), "{}", text(&out));

    // `logout` given no name follows the same rule: the project's server, not the active one.
    assert!(w.keychain(&url, "alice").is_some(), "stored before");
    let out = run_in(&w, &deep, &["logout"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.keychain(&url, "alice"), None, "logout in the project ended the project server's login");
    assert_eq!(w.keychain("https://other.example", "carol").as_deref(), Some("other-pw"), "the active one is kept");
}

/// The hook's start-up in `dir` with HOME `home`: `MLFLOW_TRACKING_URI` (or "unset") and
/// what it said.
fn hook_uri(w: &World, home: &Path, dir: &Path) -> (String, String) {
    let script = format!("eval \"$('{BIN}' init bash)\"\nprintf '%s' \"${{MLFLOW_TRACKING_URI-unset}}\"\n");
    let mut c = Command::new("bash");
    c.args(["--norc", "--noprofile", "-c", &script]).current_dir(dir);
    c.env_clear().env("HOME", home).env("PATH", "/usr/local/bin:/usr/bin:/bin").env("NO_COLOR", "1");
    c.env("MLFLOW_LOGIN_CONFIG_DIR", w.config_dir()).env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &w.prefix);
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    (stdout(&out), stderr(&out))
}

/// An unknown project's bare URI never meets a plain-text credential MLflow would send
/// there by itself: while `~/.mlflow/credentials` holds a password (or `~/.netrc` has an
/// entry for the project's host, or a `default` one), a shell in the project does not get
/// its URI, the hint says why and suggests `mlflow-login import`, and `doctor` flags the
/// file. Without such a credential the bare URI is set, as before.
#[test]
fn an_unknown_projects_uri_never_meets_a_plain_text_password() {
    let w = World::new();
    let home = w.dir.path().join("home");
    let lab = home.join("lab");
    project(&lab, "url = \"https://lab.example/mlflow\"\nname = \"lab\"\n");
    let creds = home.join(".mlflow/credentials");
    std::fs::create_dir_all(creds.parent().unwrap()).unwrap();
    std::fs::write(&creds, "[mlflow]\nmlflow_tracking_username = alice\nmlflow_tracking_password = s3cret\n").unwrap();

    let (uri, said) = hook_uri(&w, &home, &lab);
    assert_eq!(uri, "unset", "the project's URI beside ~/.mlflow/credentials: {said}");
    assert!(said.contains(&format!("{} holds a password that MLflow would send there", creds.display())), "{said}");
    assert!(said.contains("`mlflow-login import`") && !said.contains("s3cret"), "{said}");
    let out = w.cmd().arg("doctor").current_dir(&lab).env("HOME", &home).output().unwrap();
    assert!(stdout(&out).contains("~/.mlflow/credentials holds a password MLflow would send there"), "{}", text(&out));
    assert!(stdout(&out).contains("problem  ~/.mlflow/credentials exists"), "{}", text(&out));

    // A credentials file without a password: the bare URI, as before.
    std::fs::write(&creds, "[mlflow]\nmlflow_tracking_username = alice\n").unwrap();
    assert_eq!(hook_uri(&w, &home, &lab).0, "https://lab.example/mlflow");
    // A netrc entry requests would send to the project's host, or to any host.
    for (netrc, set) in [
        ("machine other.example login a password b\n", true),
        ("machine lab.example login a password b\n", false),
        ("default login a password b\n", false),
    ] {
        std::fs::write(home.join(".netrc"), netrc).unwrap();
        let (uri, said) = hook_uri(&w, &home, &lab);
        assert_eq!(uri == "https://lab.example/mlflow", set, "{netrc}: {uri} {said}");
    }
}

/// Terminal escape sequences in a project file (a key, a URL) reach the terminal as
/// visible text, never as escapes: every warning and error is cleaned where it is printed.
#[test]
fn escape_sequences_in_a_project_file_reach_the_terminal_as_text() {
    let w = World::new();
    assert!(w.login("other", "https://other.example", "carol", "pw", &["--no-verify"]).status.success());
    let dir = w.dir.path().join("esc");
    for body in [
        "url = \"https://h.example\"\n\"\\u001b]0;pwned\\u0007\\u001b[2J\" = 1\n",
        "url = \"https://h\\u001b[31m.example:99999\"\n",
    ] {
        let file = project(&dir, body);
        for hooked in [true, false] {
            let mut c = w.cmd();
            c.args(["env", "--format", "json"]).current_dir(&dir);
            if hooked {
                c.env("MLFLOW_LOGIN_PROJECT", &file);
            }
            let out = c.output().unwrap();
            let err = stderr(&out);
            assert!(err.contains("the project file is ignored"), "{body}: {}", text(&out));
            assert!(!out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07), "{body}: an escape reached stderr: {err:?}");
            assert!(err.contains("\\u{1b}"), "{body}: the escape is shown as text: {err}");
        }
    }
}

// ---- a second local user ------------------------------------------------------------------

/// A local user made for one test with `useradd` (a private group of its own, as Debian
/// makes), removed with `userdel` afterwards.
struct LocalUser {
    name: String,
}

impl LocalUser {
    fn new() -> Self {
        let uid = Command::new("id").arg("-u").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test makes a second local user with useradd: run it as root (CI and `make test` do)"
        );
        for (tool, package) in [("useradd", "passwd"), ("userdel", "passwd"), ("runuser", "util-linux")] {
            assert!(common::which(tool), "`{tool}` is not installed: apt-get install {package}");
        }
        let name = format!("mll{:x}", std::process::id() ^ (fastrand() as u32));
        let out =
            Command::new("useradd").args(["--no-create-home", "--user-group", "--shell", "/bin/sh", &name]).output();
        let out = out.unwrap();
        assert!(out.status.success(), "useradd: {}", text(&out));
        LocalUser { name }
    }

    /// `user:group`.
    fn owner(&self) -> String {
        format!("{0}:{0}", self.name)
    }
}

impl Drop for LocalUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

fn fastrand() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn chown(owner: &str, p: &Path) {
    let out = Command::new("chown").args([owner, &p.display().to_string()]).output().unwrap();
    assert!(out.status.success(), "chown {owner} {}: {}", p.display(), text(&out));
}

/// The second user's world: its HOME, config and a copy of the program, under a folder
/// in /tmp that it can read (the build's target folder under /root is not).
struct UserWorld {
    base: tempfile::TempDir,
    user: LocalUser,
}

impl UserWorld {
    fn new() -> Self {
        let user = LocalUser::new();
        let base = tempfile::Builder::new().prefix("mll-trust-").tempdir_in("/tmp").unwrap();
        chmod(base.path(), 0o755);
        let bin = base.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::copy(BIN, bin.join("mlflow-login")).unwrap();
        chmod(&bin.join("mlflow-login"), 0o755);
        let home = base.path().join("home");
        std::fs::create_dir(&home).unwrap();
        // Two servers, logged in to by root through the program (private keychain) in the
        // user's config folder, then handed to the user: choosing between them needs no
        // keychain, so the user's commands run with `--no-password`.
        let w = UserWorld { base, user };
        let prefix = format!("mll-test-{:016x}:", fastrand());
        for (name, url) in [("mine", "https://mine.example"), ("theirs", "https://theirs.example")] {
            let mut c = Command::new(w.bin());
            c.args(["login", name, "--url", url, "--username", "u", "--password-stdin", "--no-verify"]);
            c.env_clear().envs(w.envs()).env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &prefix);
            for k in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
                if let Ok(v) = std::env::var(k) {
                    c.env(k, v);
                }
            }
            let out = common::run_with(&mut c, "pw");
            assert!(out.status.success(), "{}", text(&out));
        }
        let out = Command::new(w.bin()).args(["use", "mine"]).env_clear().envs(w.envs()).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let out = Command::new("chown").args(["-R", &w.user.owner()]).arg(&home).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        w
    }

    fn home(&self) -> PathBuf {
        self.base.path().join("home")
    }

    fn bin(&self) -> PathBuf {
        self.base.path().join("bin/mlflow-login")
    }

    fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HOME", self.home().display().to_string()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into()),
            ("MLFLOW_LOGIN_CONFIG_DIR", self.home().join("cfg").display().to_string()),
            ("NO_COLOR", "1".into()),
            ("LC_ALL", "C.UTF-8".into()),
        ]
    }

    /// `mlflow-login ARGS` run by the second user in `dir`, with `more` in its environment.
    fn run_as_user(&self, dir: &Path, args: &[&str], more: &[(&str, &str)]) -> Output {
        let mut c = Command::new("runuser");
        c.args(["-u", &self.user.name, "--"]).arg(self.bin()).args(args);
        c.env_clear().envs(self.envs()).envs(more.iter().copied()).current_dir(dir).output().unwrap()
    }

    /// The server `env` picks for the second user in `dir`, and what it said on stderr.
    fn server_in(&self, dir: &Path) -> (String, String) {
        let out = self.run_as_user(dir, &["env", "--no-password", "--format", "json"], &[]);
        let json = env_json(&out);
        (json["MLFLOW_LOGIN_SERVER"].as_str().unwrap_or_default().to_string(), stderr(&out))
    }
}

/// A project file, or its folder, that another user owns or can write to is ignored (and
/// stops the walk), as git's safe.directory does: on a shared host another account's
/// `/tmp/x/.mlflow-login.toml` never chooses this user's server. Files owned by the user
/// or by root, writable by no one else (or by the user's own private group), are used.
/// Proven with a real second local user, for a command run without the hook, the hook's
/// start-up and its `hook-env`, and `doctor`.
#[test]
fn project_files_another_user_could_write_are_ignored() {
    let uw = UserWorld::new();
    let base = uw.base.path();
    let theirs = "url = \"https://THEIRS.example/\"\n";

    // Another user's file (nobody's) in root's folder.
    let other = base.join("other");
    let other_file = project(&other, theirs);
    chown("nobody", &other_file);

    // The hook: a shell that starts there, and the prompt's `hook-env` when the shell's
    // walk found the file; the hint shows once per shell and file.
    let script =
        format!("eval \"$('{}' init bash --no-password)\"\nprintf '%s' \"$MLFLOW_LOGIN_SERVER\"\n", uw.bin().display());
    let out = {
        let mut c = Command::new("runuser");
        c.args(["-u", &uw.user.name, "--", "bash", "--norc", "--noprofile", "-c", &script]);
        c.env_clear().envs(uw.envs()).current_dir(&other).output().unwrap()
    };
    assert_eq!(stdout(&out), "mine", "a shell started in another user's project: {}", text(&out));
    assert_eq!(stderr(&out).matches("is ignored").count(), 1, "{}", text(&out));
    let file = other_file.display().to_string();
    let hook = |hinted: &str| {
        uw.run_as_user(
            &other,
            &["hook-env", "--shell", "bash", "--no-password"],
            &[("MLFLOW_LOGIN_PROJECT", &file), ("__MLL_HINTED", hinted)],
        )
    };
    let out = hook("");
    assert!(stdout(&out).contains("export MLFLOW_LOGIN_SERVER='mine'"), "{}", text(&out));
    assert!(
        stdout(&out).contains(&format!("export MLFLOW_LOGIN_PROJECT='{file}'")),
        "the shell keeps its file: {}",
        text(&out)
    );
    assert!(stderr(&out).contains("belongs to another user (nobody)"), "{}", text(&out));
    let out = hook(&format!("{file}\n"));
    assert!(stdout(&out).contains("export MLFLOW_LOGIN_SERVER='mine'"), "{}", text(&out));
    assert!(stderr(&out).is_empty(), "said once per shell: {}", text(&out));

    // Root's file in root's folder, writable by root only: used.
    let root_ok = base.join("root-ok");
    project(&root_ok, theirs);
    assert_eq!(uw.server_in(&root_ok).0, "theirs", "a root-owned file is trusted");
    // The user's own file and folder, writable by its private group (umask 002): used.
    let own = base.join("own");
    let own_file = project(&own, theirs);
    chmod(&own, 0o775);
    chmod(&own_file, 0o664);
    chown(&uw.user.owner(), &own);
    chown(&uw.user.owner(), &own_file);
    assert_eq!(uw.server_in(&own).0, "theirs", "the user's own group-writable file is trusted");

    // Another user's file, a file of the shared group `users`, a folder anyone can write
    // to: each ignored, said why, and the active server used.
    let group = base.join("group");
    let group_file = project(&group, theirs);
    chmod(&group_file, 0o664);
    chown("root:users", &group_file);
    let world = base.join("world");
    project(&world, theirs);
    chmod(&world, 0o1777);
    for (dir, why) in [
        (&other, "belongs to another user (nobody)"),
        (&group, "is writable by the group users"),
        (&world, "is writable by every user"),
    ] {
        let (server, said) = uw.server_in(dir);
        assert_eq!(server, "mine", "{}: the active server, not the file's: {said}", dir.display());
        assert!(said.contains("is ignored") && said.contains(why), "{}: {said}", dir.display());
    }

    // The walk stops at an ignored file: a trusted file further up never takes its place.
    let outer = base.join("outer");
    project(&outer, theirs);
    let inner = outer.join("inner");
    project(&inner, theirs);
    chmod(&inner, 0o777);
    std::fs::create_dir_all(inner.join("deep")).unwrap();
    assert_eq!(uw.server_in(&outer).0, "theirs");
    assert_eq!(uw.server_in(&inner.join("deep")).0, "mine", "the ignored file stops the walk");

    // doctor names the file and why.
    let out = uw.run_as_user(&other, &["doctor"], &[]);
    let says = format!("problem  the project file {file} is ignored");
    assert!(stdout(&out).contains(&says), "{}", text(&out));
}
