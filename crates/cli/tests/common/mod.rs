//! The CLI's test world, shared by every test file: a private config dir and keychain
//! prefix per test, the fixture URLs, `secret-tool` to look into the real keychain, and
//! the helpers every file needs (`require` a tool, `run_with_stdin`, `wait_for` a
//! condition instead of a fixed sleep).
#![allow(dead_code, clippy::unwrap_used)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_mlflow-login");

/// A fixture variable exported by tests/fixtures/with-servers.sh.
pub fn fx(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests under `tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh` (or `make test`)")
    })
}

/// Fails unless a private Secret Service is there.
pub fn require_keyring() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() && std::env::var_os("MLL_TEST_HOME").is_some(),
        "no private keychain: run under tests/fixtures/with-keyring.sh (or `make test`)"
    );
    assert!(which("secret-tool"), "secret-tool is missing: apt-get install libsecret-tools");
}

/// Fails (never skips) when `tool` is not on PATH, saying which package has it.
pub fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    assert!(found, "`{tool}` is not installed: apt-get install {package} (or scripts/install-deps.sh)");
}

/// Runs `cmd` with `stdin` written from a thread (a large input cannot dead-lock on a full
/// pipe), its output captured.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

/// Polls `f` every 20 ms until it holds; fails after `timeout`, naming `what`.
pub fn wait_for(what: &str, timeout: std::time::Duration, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A random number for names no other test or run uses.
pub fn rand_u64() -> u64 {
    fastrand_u64()
}

pub fn which(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// What a test's program gets of the test run's environment (besides `MLL_*`): the
/// private keychain's session bus, the tools' PATH, the throwaway HOME, the locale.
pub const PASSED: &[&str] =
    &["PATH", "HOME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "TMPDIR", "LANG", "LC_ALL", "DISPLAY", "BROWSER"];

/// One test's private world: config dir and keychain prefix (and, for real shells, its
/// own HOME).
pub struct World {
    pub dir: tempfile::TempDir,
    pub prefix: String,
    /// Set by [`World::for_shells`]: what a shell reads itself instead of the test run's.
    shell: bool,
}

/// The system's PATH, as a fresh login has it (no test runner's tools or shims).
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl World {
    pub fn new() -> Self {
        require_keyring();
        let home = std::env::var("MLL_TEST_HOME").unwrap();
        let dir = tempfile::Builder::new().prefix("mll-cli-").tempdir_in(home).unwrap();
        let prefix = format!("mll-test-{:016x}:", fastrand_u64());
        World { dir, prefix, shell: false }
    }

    /// A world for real shells: its programs get their own HOME (`home/`, where project
    /// folders and the shells' files go), the system's PATH and a UTF-8 locale, and of the
    /// test run's environment only the keychain's session, so that a shell finds what a
    /// fresh login finds; `out/` holds what the shells write for the test.
    pub fn for_shells() -> Self {
        let world = World { shell: true, ..World::new() };
        for d in ["home", "out"] {
            std::fs::create_dir_all(world.path(d)).unwrap();
        }
        world
    }

    /// A path inside this world's folder.
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// The environment of this world's programs: its config dir and keychain prefix, and of
    /// the test run's environment only what reaches the keychain, the fixtures and the
    /// tools (`PASSED`, `MLL_*`); no `MLFLOW_*` or shell-hook variable of whoever runs the
    /// tests. As pairs, for a program started another way (a shell inside tmux).
    pub fn envs(&self) -> Vec<(OsString, OsString)> {
        // A real shell gets of the test run's environment only what reaches the keychain:
        // the fixtures' `MLL_*` hold passwords a shell has no business seeing, and the rest
        // is set below as a fresh login has it.
        let passed = |k: &str| {
            if self.shell {
                matches!(k, "DBUS_SESSION_BUS_ADDRESS" | "XDG_RUNTIME_DIR")
            } else {
                PASSED.contains(&k) || k.starts_with("MLL_")
            }
        };
        let mut v: Vec<(OsString, OsString)> =
            std::env::vars_os().filter(|(k, _)| k.to_str().is_some_and(passed)).collect();
        let mut set = |k: &str, val: OsString| v.push((k.into(), val));
        if self.shell {
            set("HOME", self.path("home").into());
            set("PATH", SYSTEM_PATH.into());
            set("LC_ALL", "C.UTF-8".into());
        }
        set("MLFLOW_LOGIN_CONFIG_DIR", self.config_dir().into());
        set("MLFLOW_LOGIN_KEYCHAIN_PREFIX", self.prefix.clone().into());
        set("NO_COLOR", "1".into());
        v
    }

    /// The program in this world (see [`World::envs`]), stdin empty.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear().envs(self.envs()).stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs with `input` on stdin. A command that fails before it reads stdin (a damaged
    /// config) may exit before the write: its broken pipe is not the test's failure.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        run_with(self.cmd().args(args), input)
    }

    /// `login NAME --url URL --username USER --password-stdin EXTRA...`
    pub fn login(&self, name: &str, url: &str, user: &str, password: &str, extra: &[&str]) -> Output {
        let mut args = vec!["login", name, "--url", url, "--username", user, "--password-stdin"];
        args.extend_from_slice(extra);
        self.run_stdin(&args, password)
    }

    /// The password of Basic user `user` in the real keychain, read by `secret-tool` (not
    /// by our code).
    pub fn keychain(&self, url: &str, user: &str) -> Option<String> {
        self.keychain_entry(url, &format!("basic:{user}"))
    }

    /// The secret of the entry `(prefix + url, account)` in the real keychain, read by
    /// `secret-tool`.
    pub fn keychain_entry(&self, url: &str, account: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", &format!("{}{url}", self.prefix), "username", account])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
    }

    /// Writes an entry into the real keychain with `secret-tool`, as another program (or an
    /// older version of ours) would.
    pub fn keychain_store(&self, url: &str, account: &str, secret: &str) {
        let mut child = Command::new("secret-tool")
            .args(["store", "--label", "mll-test", "service", &format!("{}{url}", self.prefix), "username", account])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(secret.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    pub fn list_json(&self) -> serde_json::Value {
        let out = self.run(&["list", "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Runs `cmd` with `input` on stdin (a command that exits before reading it is not the
/// test's failure).
pub fn run_with(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// stdout + stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `root` whose bytes contain `needle`.
pub fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file()
                && let Ok(bytes) = std::fs::read(&p)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(p);
            }
        }
    }
    hits
}

/// `curl` with `args` (bounded, failing on an HTTP error); the answer as JSON.
pub fn curl_json(args: &[&str]) -> serde_json::Value {
    assert!(which("curl"), "curl is missing: apt-get install curl");
    let out = Command::new("curl").args(["-sS", "--fail-with-body", "--max-time", "20"]).args(args).output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A public native client of the test's own at the fixture IdP (dynamic registration),
/// whose access tokens live `ttl` seconds, so its refreshes are counted apart from other
/// tests' (`/test/stats` `by_client`).
pub fn register_client(ttl: u64) -> String {
    register_client_with(ttl, serde_json::json!({}))
}

/// [`register_client`] with more of the fixture's client metadata (`mll_omit_expires_in`).
pub fn register_client_with(ttl: u64, more: serde_json::Value) -> String {
    let mut body = serde_json::json!({
        "application_type": "native", "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "response_types": ["code"], "redirect_uris": ["http://127.0.0.1/callback"],
        "mll_access_token_ttl": ttl,
    });
    if let (Some(body), Some(more)) = (body.as_object_mut(), more.as_object()) {
        body.extend(more.clone());
    }
    let url = format!("{}/reg", fx("MLL_OIDC_ISSUER"));
    let reply = curl_json(&["-H", "Content-Type: application/json", "--data-binary", &body.to_string(), &url]);
    reply["client_id"].as_str().unwrap().to_string()
}

/// The fixture IdP's counters (`by_client`: `refresh`, `revocation`, ...: `{ok, error, invalid_grant, ...}`).
pub fn idp_stats() -> serde_json::Value {
    curl_json(&[&format!("{}/stats", fx("MLL_OIDC_ADMIN_URL"))])
}

/// `experiments/get-by-name` in `workspace`, as the fixture's admin: the HTTP status.
#[allow(dead_code)] // not every test file asks
pub fn experiment_in(url: &str, workspace: &str, name: &str) -> u16 {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "-u"])
        .arg(format!("{}:{}", fx("MLL_WS_ADMIN_USER"), fx("MLL_WS_ADMIN_PW")))
        .args(["-H", &format!("X-MLFLOW-WORKSPACE: {workspace}")])
        .arg(format!("{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
