//! Shared helpers for the CLI's end-to-end tests: a private config dir and keychain
//! prefix per test, the fixture URLs, and `secret-tool` to look into the real keychain.
#![allow(dead_code, clippy::unwrap_used)]

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

pub fn which(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// One test's private world: config dir and keychain prefix.
pub struct World {
    pub dir: tempfile::TempDir,
    pub prefix: String,
}

impl World {
    pub fn new() -> Self {
        require_keyring();
        let home = std::env::var("MLL_TEST_HOME").unwrap();
        let dir = tempfile::Builder::new().prefix("mll-cli-").tempdir_in(home).unwrap();
        let prefix = format!("mll-test-{:016x}:", fastrand_u64());
        World { dir, prefix }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("MLFLOW_LOGIN_CONFIG_DIR", self.config_dir())
            .env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &self.prefix)
            .env("NO_COLOR", "1")
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("MLFLOW_TRACKING_USERNAME")
            .env_remove("MLFLOW_TRACKING_PASSWORD")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs with `input` on stdin. A command that fails before it reads stdin (a damaged
    /// config) may exit before the write: its broken pipe is not the test's failure.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child =
            self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // A command that fails before reading its stdin (a damaged config) closes the pipe:
        // that is its answer, not the test's failure.
        if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    }

    /// `login NAME --url URL --username USER --password-stdin EXTRA...`
    pub fn login(&self, name: &str, url: &str, user: &str, password: &str, extra: &[&str]) -> Output {
        let mut args = vec!["login", name, "--url", url, "--username", user, "--password-stdin"];
        args.extend_from_slice(extra);
        self.run_stdin(&args, password)
    }

    /// The password in the real keychain, read by `secret-tool` (not by our code).
    pub fn keychain(&self, url: &str, user: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", &format!("{}{url}", self.prefix), "username", user])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
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
