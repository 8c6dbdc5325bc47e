//! Real shells against the real keychain: the init hook follows switches, logouts and
//! removals at the next prompt, `--here` pins, an unchanged prompt starts no process, and
//! passwords survive `env --shell X` evaluated by shell X byte for byte, and a shell that
//! outlives its single sign-on token gets a new one at its next prompt.
//!
//! Needs a Secret Service and, for single sign-on, the fixture IdP and proxy: run under
//! `tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh` (tests/shell/run.sh
//! does). Shells run in tmux (a real terminal, real prompts) with their rc files off and a
//! temp HOME; strace counts processes.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap should panic

mod common;

use common::{World, rand_u64, require, run_with_stdin, wait_for};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mlflow-login");

/// `login NAME --url URL --username USER --no-verify` with the password on stdin (one
/// line: the password may end in characters a line end would eat); must succeed.
fn login(w: &World, name: &str, url: &str, user: &str, password: &str) {
    let out = w.login(name, url, user, &format!("{password}\n"), &["--no-verify"]);
    assert!(out.status.success(), "login {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `mlflow-login ARGS`; must succeed.
fn mll(w: &World, args: &[&str]) -> Output {
    let out = w.run(args);
    assert!(out.status.success(), "mlflow-login {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

// ---- shells in tmux ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
}

impl Sh {
    fn argv(self) -> &'static [&'static str] {
        match self {
            Sh::Bash => &["bash", "--norc", "--noprofile"],
            Sh::Zsh => &["zsh", "-f"],
            Sh::Fish => &["fish", "--no-config"],
        }
    }
    fn name(self) -> &'static str {
        self.argv()[0]
    }
    /// A plain prompt (fish's default one may run git) and the init line.
    fn setup(self, bin: &str) -> Vec<String> {
        let q = shell_quote(bin);
        match self {
            Sh::Bash => vec!["PS1='$ '".into(), format!("eval \"$({q} init bash)\"")],
            Sh::Zsh => vec!["PS1='%% '".into(), format!("eval \"$({q} init zsh)\"")],
            Sh::Fish => vec![
                "function fish_prompt; echo -n '> '; end; function fish_title; end; function fish_greeting; end".into(),
                format!("{q} init fish | source"),
            ],
        }
    }
    /// The prompt that `setup` sets.
    fn prompt(self) -> &'static str {
        match self {
            Sh::Bash => "$ ",
            Sh::Zsh => "% ",
            Sh::Fish => "> ",
        }
    }
    fn status_var(self) -> &'static str {
        if self == Sh::Fish { "$status" } else { "$?" }
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A shell in its own tmux server (private socket), killed on drop.
struct Term {
    socket: String,
    out: PathBuf,
    probes: usize,
    sh: Sh,
}

impl Term {
    fn start(sb: &World, sh: Sh, bin: &str) -> Self {
        require("tmux", "tmux");
        require(sh.name(), sh.name());
        let socket = format!("mll-test-{:x}", rand_u64());
        let mut c = Command::new("tmux");
        c.args([
            "-L",
            &socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "220",
            "-y",
            "50",
            "--",
            "env",
            "-i",
        ]);
        for (k, v) in sb.envs() {
            let mut pair = k;
            pair.push("=");
            pair.push(v);
            c.arg(pair);
        }
        c.arg("TERM=xterm-256color");
        c.arg(format!("SHELL=/usr/bin/{}", sh.name()));
        c.args(sh.argv());
        let status = c.status().unwrap();
        assert!(status.success(), "tmux new-session failed");
        let mut t = Term { socket, out: sb.path("out"), probes: 0, sh };
        for line in sh.setup(bin) {
            t.send(&line);
        }
        t.env(); // waits until the init ran
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Types a line and Enter.
    fn send(&self, line: &str) {
        if !line.is_empty() {
            self.tmux(&["send-keys", "-t", "t", "-l", line]);
        }
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
    }

    /// Types a line and waits for the next prompt, so nothing typed ahead is echoed into
    /// what the hook prints.
    fn send_settled(&self, line: &str) {
        let before = self.screen().matches(self.sh.prompt()).count();
        self.send(line);
        wait_for(&format!("the prompt after `{line}`"), Duration::from_secs(30), || {
            let screen = self.screen();
            screen.matches(self.sh.prompt()).count() > before
                && screen.trim_end().ends_with(self.sh.prompt().trim_end())
        });
    }

    /// An empty command line: one more prompt, so one more hook run.
    fn prompt(&self) {
        self.send("");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t", "-S", "-200"]).stdout).into_owned()
    }

    fn pid(&self) -> u32 {
        let out = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// Runs `cmd > FILE` in the shell and returns FILE's bytes once it is complete.
    fn run_to_file(&mut self, cmd: &str) -> Vec<u8> {
        self.probes += 1;
        let file = self.out.join(format!("probe{}", self.probes));
        let tmp = self.out.join(format!("probe{}.tmp", self.probes));
        let (f, t) = (file.display().to_string(), tmp.display().to_string());
        self.send(&format!("{cmd} > {t} && mv {t} {f}"));
        wait_for(&format!("`{cmd}` in {:?}; screen:\n{}", self.sh, self.screen()), Duration::from_secs(30), || {
            file.exists()
        });
        std::fs::read(&file).unwrap()
    }

    /// The shell's exported variables.
    fn env(&mut self) -> BTreeMap<String, String> {
        let raw = self.run_to_file("env -0");
        raw.split(|b| *b == 0)
            .filter_map(|kv| {
                let kv = String::from_utf8_lossy(kv);
                kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .filter(|(k, _)| is_ours(k))
            .collect()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

/// The variables the hook manages (not the test's own MLFLOW_LOGIN_CONFIG_DIR and prefix).
fn is_ours(name: &str) -> bool {
    (name.starts_with("MLFLOW_TRACKING_") || name.starts_with("MLFLOW_LOGIN_") || name == "MLFLOW_WORKSPACE")
        && !name.ends_with("_DIR")
        && !name.ends_with("_PREFIX")
}

fn expect(env: &BTreeMap<String, String>, want: &[(&str, &str)], ctx: &str) {
    let want: BTreeMap<String, String> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(env, &want, "{ctx}");
}

const PROD_PW: &str = "pr'od $HOME `x` \\ pw";
const STAGING_PW: &str = "st\"ag\ning ☃";

fn prod(pw: bool) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("MLFLOW_TRACKING_URI", "https://prod.example/mlflow"), ("MLFLOW_LOGIN_SERVER", "prod")];
    if pw {
        v.extend([("MLFLOW_TRACKING_USERNAME", "alice"), ("MLFLOW_TRACKING_PASSWORD", PROD_PW)]);
    }
    v
}

fn staging(pw: bool) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("MLFLOW_TRACKING_URI", "https://staging.example"), ("MLFLOW_LOGIN_SERVER", "staging")];
    if pw {
        v.extend([("MLFLOW_TRACKING_USERNAME", "bob"), ("MLFLOW_TRACKING_PASSWORD", STAGING_PW)]);
    }
    v
}

/// Init, a switch from another process, logout, removal, `$?` kept, `--here` and `--unpin`.
fn follows_switches(sh: Sh) {
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    login(&sb, "staging", "https://staging.example", "bob", STAGING_PW);
    let mut t = Term::start(&sb, sh, BIN);
    expect(&t.env(), &prod(true), "a new shell starts with the active server");

    mll(&sb, &["use", "staging"]);
    t.prompt();
    expect(&t.env(), &staging(true), "after `use staging` in another process, the next prompt");

    // The switch lands between a failing command and the prompt; `$?` must survive the hook.
    t.send(&format!("{} use prod >/dev/null 2>&1; sh -c 'exit 7'", shell_quote(BIN)));
    let status = t.run_to_file(&format!("echo {}", t.sh.status_var()));
    assert_eq!(String::from_utf8_lossy(&status).trim(), "7", "{sh:?}: the hook must keep the exit status");
    expect(&t.env(), &prod(true), "switched back to prod");

    mll(&sb, &["logout", "prod"]);
    t.prompt();
    expect(&t.env(), &prod(false), "after logout: the URI stays (runs fail loudly), credentials are unset");

    mll(&sb, &["remove", "prod"]);
    t.prompt();
    expect(&t.env(), &[], "after removing the active server, nothing is set");

    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    t.prompt();
    expect(&t.env(), &prod(true), "a new login of the (again) active server");

    t.send("mlflow-login use staging --here");
    let mut pinned = staging(true);
    pinned.push(("MLFLOW_LOGIN_PIN", "staging"));
    expect(&t.env(), &pinned, "`use staging --here` pins this shell");

    login(&sb, "dev", "https://dev.example", "carol", "dev-pw");
    mll(&sb, &["use", "dev"]);
    t.prompt();
    expect(&t.env(), &pinned, "a pinned shell ignores a global switch");

    mll(&sb, &["logout", "staging"]);
    t.prompt();
    let mut pinned_out = staging(false);
    pinned_out.push(("MLFLOW_LOGIN_PIN", "staging"));
    expect(&t.env(), &pinned_out, "a pinned shell follows its own server's logout");

    t.send("mlflow-login use --unpin");
    let dev = [
        ("MLFLOW_TRACKING_URI", "https://dev.example"),
        ("MLFLOW_LOGIN_SERVER", "dev"),
        ("MLFLOW_TRACKING_USERNAME", "carol"),
        ("MLFLOW_TRACKING_PASSWORD", "dev-pw"),
    ];
    expect(&t.env(), &dev, "`use --unpin` follows the active server again");

    let screen = t.screen();
    for bad in ["error", "warning", "not found", "Unknown command", "No such file"] {
        assert!(!screen.contains(bad), "{sh:?}: unexpected `{bad}` on screen:\n{screen}");
    }
}

#[test]
fn bash_follows_switches() {
    follows_switches(Sh::Bash);
}

#[test]
fn zsh_follows_switches() {
    follows_switches(Sh::Zsh);
}

#[test]
fn fish_follows_switches() {
    follows_switches(Sh::Fish);
}

/// `use prod/team-b` in another process reaches a hooked shell at its next prompt, and a
/// run logged from that shell lands in team-b (asked through the REST API, as the admin);
/// `use NAME/WS --here` pins server and workspace until `--unpin`. Against the workspaces
/// fixture (tests/fixtures/workspaces.sh).
fn follows_workspaces(sh: Sh) {
    let sb = World::for_shells();
    let url = common::fx("MLL_WS_URL");
    let python = common::fx("MLL_MLFLOW_PYTHON");
    login(&sb, "prod", &url, &common::fx("MLL_WS_BOTH_USER"), &common::fx("MLL_WS_BOTH_PW"));
    let mut t = Term::start(&sb, sh, BIN);
    let ws = |t: &mut Term| t.env().get("MLFLOW_WORKSPACE").cloned();
    assert_eq!(ws(&mut t), None, "{sh:?}: no workspace chosen yet");

    mll(&sb, &["use", "prod/team-b"]);
    t.prompt();
    assert_eq!(ws(&mut t).as_deref(), Some("team-b"), "{sh:?}: the next prompt follows `use prod/team-b`");

    let experiment = format!("shell-ws-{}-{:x}", sh.name(), rand_u64());
    let script = sb.path("out/log_run.py");
    std::fs::write(
        &script,
        "import sys, mlflow\nmlflow.set_experiment(sys.argv[1])\nwith mlflow.start_run():\n    mlflow.log_param('k', 'v')\n",
    )
    .unwrap();
    t.run_to_file(&format!("{} {} {experiment}", shell_quote(&python), shell_quote(&script.display().to_string())));
    assert_eq!(common::experiment_in(&url, "team-b", &experiment), 200, "{sh:?}: the run landed in team-b");
    assert_eq!(common::experiment_in(&url, "team-a", &experiment), 404, "{sh:?}: not in team-a");

    t.send("mlflow-login use prod/team-a --here");
    let env = t.env();
    assert_eq!(env.get("MLFLOW_WORKSPACE").map(String::as_str), Some("team-a"), "{sh:?}: --here pins the workspace");
    assert_eq!(env.get("MLFLOW_LOGIN_PIN_WORKSPACE").map(String::as_str), Some("team-a"));
    mll(&sb, &["use", "prod", "--no-workspace"]);
    t.prompt();
    assert_eq!(ws(&mut t).as_deref(), Some("team-a"), "{sh:?}: a pinned shell keeps its workspace");
    t.send("mlflow-login use --unpin");
    assert_eq!(ws(&mut t), None, "{sh:?}: unpinned, it follows the server's (none now)");

    let screen = t.screen();
    for bad in ["error", "warning", "not found", "Unknown command", "No such file"] {
        assert!(!screen.contains(bad), "{sh:?}: unexpected `{bad}` on screen:\n{screen}");
    }
}

#[test]
fn bash_follows_workspaces() {
    follows_workspaces(Sh::Bash);
}

#[test]
fn zsh_follows_workspaces() {
    follows_workspaces(Sh::Zsh);
}

#[test]
fn fish_follows_workspaces() {
    follows_workspaces(Sh::Fish);
}

/// After the program is uninstalled the hook is silent and keeps `$?`.
fn silent_when_uninstalled(sh: Sh) {
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    let copy = sb.path("bin/mlflow-login");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(BIN, &copy).unwrap();
    let mut t = Term::start(&sb, sh, copy.to_str().unwrap());
    expect(&t.env(), &prod(true), "started");
    std::fs::remove_file(&copy).unwrap();
    login(&sb, "staging", "https://staging.example", "bob", STAGING_PW);
    mll(&sb, &["use", "staging"]);
    t.send("sh -c 'exit 3'");
    let status = t.run_to_file(&format!("echo {}", t.sh.status_var()));
    assert_eq!(String::from_utf8_lossy(&status).trim(), "3");
    t.prompt();
    expect(&t.env(), &prod(true), "without the program, the shell keeps what it had");
    let screen = t.screen();
    for bad in ["error", "warning", "not found", "No such file", "Unknown command"] {
        assert!(!screen.contains(bad), "{sh:?}: the hook must stay silent, screen:\n{screen}");
    }
}

#[test]
fn bash_hook_silent_when_uninstalled() {
    silent_when_uninstalled(Sh::Bash);
}

#[test]
fn zsh_hook_silent_when_uninstalled() {
    silent_when_uninstalled(Sh::Zsh);
}

#[test]
fn fish_hook_silent_when_uninstalled() {
    silent_when_uninstalled(Sh::Fish);
}

// ---- zero processes per unchanged prompt ------------------------------------------------

const PROMPTS: usize = 60;

/// strace follows the shell over many prompts: the hook opens the state file at each one
/// (so it ran) and no fork, clone (other than a thread) or execve happens.
fn zero_processes_per_prompt(sh: Sh) {
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    let mut t = Term::start(&sb, sh, BIN);
    expect(&t.env(), &prod(true), "started");
    let (text, spawns) = trace_spawns(&sb, &t, |t| {
        for _ in 0..PROMPTS {
            t.prompt();
        }
    });
    let state = sb.config_dir().join("state").display().to_string();
    let reads = text.lines().filter(|l| l.contains("openat(") && l.contains(&state)).count();
    assert!(reads >= PROMPTS, "{sh:?}: the hook read the state file {reads} times over {PROMPTS} prompts:\n{text}");
    assert!(spawns.is_empty(), "{sh:?}: processes started over {PROMPTS} unchanged prompts:\n{}", spawns.join("\n"));
}

/// Runs `actions` (builtins only) in the shell under `strace -f`: the whole trace, and its
/// lines that start a process (fork, vfork, execve, clone other than a thread).
fn trace_spawns(sb: &World, t: &Term, actions: impl FnOnce(&Term)) -> (String, Vec<String>) {
    require("strace", "strace");
    let trace = sb.path(&format!("out/trace{:x}", rand_u64()));
    let mut strace: Child = Command::new("strace")
        .args(["-f", "-e", "trace=process,openat,newfstatat,stat,statx", "-o"])
        .arg(&trace)
        .args(["-p", &t.pid().to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(strace.stderr.take().unwrap()).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    assert!(first.contains("attached"), "strace did not attach: {first}");
    std::thread::spawn(move || lines.for_each(drop));

    actions(t);
    // A builtin with a redirection marks the end, without starting a process itself.
    let marker = sb.path(&format!("out/marker{:x}", rand_u64()));
    t.send(&format!("echo done > {}", marker.display()));
    wait_for("the prompts to run", Duration::from_secs(30), || marker.exists());
    std::thread::sleep(Duration::from_millis(200));
    // Detaches from the shell; strace is our own child.
    Command::new("kill").args(["-INT", &strace.id().to_string()]).status().unwrap();
    strace.wait().unwrap();

    let text = std::fs::read_to_string(&trace).unwrap();
    let spawns = text
        .lines()
        .filter(|l| {
            let process = ["fork(", "vfork(", "execve(", "clone(", "clone3("].iter().any(|c| l.contains(c));
            process && !l.contains("CLONE_THREAD") && !l.contains("resumed>")
        })
        .map(str::to_string)
        .collect();
    (text, spawns)
}

#[test]
fn bash_unchanged_prompt_starts_no_process() {
    zero_processes_per_prompt(Sh::Bash);
}

#[test]
fn zsh_unchanged_prompt_starts_no_process() {
    zero_processes_per_prompt(Sh::Zsh);
}

#[test]
fn fish_unchanged_prompt_starts_no_process() {
    zero_processes_per_prompt(Sh::Fish);
}

// ---- project files ------------------------------------------------------------------------

/// Writes `home/REL/.mlflow-login.toml` with `text`; returns the file's path.
fn project_file(sb: &World, rel: &str, text: &str) -> String {
    let dir = sb.path(&format!("home/{rel}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".mlflow-login.toml");
    std::fs::write(&file, text).unwrap();
    file.display().to_string()
}

fn with<'a>(mut vars: Vec<(&'a str, &'a str)>, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    vars.extend_from_slice(more);
    vars
}

/// `cd` into a project switches this shell to the project's server, `cd` below it starts no
/// process, `cd` out restores the shell's own choice (global, or its pin); another shell is
/// unaffected; a project file with a secret is refused with file and line.
fn project_switches(sh: Sh) {
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    login(&sb, "staging", "https://staging.example", "bob", STAGING_PW);
    login(&sb, "dev", "https://dev.example", "carol", "dev-pw");
    mll(&sb, &["use", "prod"]);
    // The project names staging by another spelling of its URL.
    let file = project_file(&sb, "proj", "url = \"HTTPS://Staging.example:443/\"\n");
    std::fs::create_dir_all(sb.path("home/proj/src/pkg")).unwrap();
    let home = sb.path("home").display().to_string();
    let mut t = Term::start(&sb, sh, BIN);
    let mut other = Term::start(&sb, sh, BIN);
    t.send(&format!("cd {home}"));
    expect(&t.env(), &prod(true), "outside a project: the active server");

    t.send(&format!("cd {home}/proj"));
    let in_project = with(staging(true), &[("MLFLOW_LOGIN_PROJECT", file.as_str())]);
    expect(&t.env(), &in_project, "cd into the project: its server");
    expect(&other.env(), &prod(true), "another shell is unaffected");

    let (text, spawns) = trace_spawns(&sb, &t, |t| {
        for dir in ["src", "pkg", "..", "pkg", "../..", "src/pkg"] {
            t.send(&format!("cd {dir}"));
            t.prompt();
        }
    });
    assert!(spawns.is_empty(), "{sh:?}: cd within a project started processes:\n{}", spawns.join("\n"));
    let looks = text.lines().filter(|l| l.contains(".mlflow-login.toml")).count();
    assert!(looks >= 6, "{sh:?}: the hook looked for the project file {looks} times over 6 cds:\n{text}");
    expect(&t.env(), &in_project, "below the project: still its server");

    t.send(&format!("cd {home}"));
    expect(&t.env(), &prod(true), "cd out: the active server again");

    t.send("mlflow-login use dev --here");
    t.send(&format!("cd {home}/proj/src"));
    expect(
        &t.env(),
        &with(in_project.clone(), &[("MLFLOW_LOGIN_PIN", "dev")]),
        "a project beats the shell's pin in it",
    );
    t.send("cd /");
    let dev = [
        ("MLFLOW_TRACKING_URI", "https://dev.example"),
        ("MLFLOW_LOGIN_SERVER", "dev"),
        ("MLFLOW_TRACKING_USERNAME", "carol"),
        ("MLFLOW_TRACKING_PASSWORD", "dev-pw"),
        ("MLFLOW_LOGIN_PIN", "dev"),
    ];
    expect(&t.env(), &dev, "cd out restores the pin");

    let out = sb.cmd().args(["status", "--json"]).env("MLFLOW_LOGIN_PROJECT", &file).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["name"], "staging", "status checks the project's server");
    assert_eq!(json[0]["used_because"]["kind"], "project");
    assert_eq!(json[0]["used_because"]["project_file"], file.as_str());

    let bad = project_file(&sb, "bad", "url = \"https://staging.example\"\n# a comment\npassword = \"hunter2\"\n");
    t.send(&format!("cd {home}/bad"));
    expect(&t.env(), &with(dev.to_vec(), &[("MLFLOW_LOGIN_PROJECT", bad.as_str())]), "a refused file selects nothing");
    let screen = t.screen().replace('\n', "");
    assert!(screen.contains(&format!("{bad}:3: \"password\" looks like a secret")), "{sh:?}: {screen}");
    assert!(!screen.contains("hunter2"), "{sh:?}: the value is never shown");
}

#[test]
fn bash_project_switches() {
    project_switches(Sh::Bash);
}

#[test]
fn zsh_project_switches() {
    project_switches(Sh::Zsh);
}

#[test]
fn fish_project_switches() {
    project_switches(Sh::Fish);
}

/// A shell that starts in a project (below its root) starts with the project's server.
#[test]
fn init_in_a_project_uses_it() {
    require("bash", "bash");
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    login(&sb, "staging", "https://staging.example", "bob", STAGING_PW);
    mll(&sb, &["use", "prod"]);
    let file = project_file(&sb, "proj", "url = \"https://staging.example\"\n");
    std::fs::create_dir_all(sb.path("home/proj/deep")).unwrap();
    let script = format!("eval \"$({} init bash)\"\nenv -0\n", shell_quote(BIN));
    let mut c = Command::new("bash");
    c.args(["--norc", "--noprofile", "-s"]).env_clear().envs(sb.envs()).current_dir(sb.path("home/proj/deep"));
    let out = run_with_stdin(&mut c, script.as_bytes());
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let env: BTreeMap<String, String> = out
        .stdout
        .split(|b| *b == 0)
        .filter_map(|kv| String::from_utf8_lossy(kv).split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .filter(|(k, _)| is_ours(k))
        .collect();
    expect(&env, &with(staging(true), &[("MLFLOW_LOGIN_PROJECT", file.as_str())]), "init in a project");
}

/// Records the requests it gets (their header lines, lower-cased), answers `{}`.
struct Listener {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Listener {
    fn start() -> Self {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/mlflow", l.local_addr().unwrap().port());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                let mut reader = BufReader::new(&conn);
                let mut head = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    head.push_str(&line.to_ascii_lowercase());
                    line.clear();
                }
                log.lock().unwrap().push(head);
                let _ = (&conn).write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            }
        });
        Listener { url, seen }
    }
}

/// A project URL no known server has: the hint once per shell and project, the bare URI
/// and no credential in the shell, and no command run in that folder sends one there.
fn project_unknown_url(sh: Sh, plugin: bool) {
    require("curl", "curl");
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    let listener = Listener::start();
    let file = project_file(&sb, "lab", &format!("url = \"{}\"\nname = \"lab\"\nauth = \"bearer\"\n", listener.url));
    std::fs::create_dir_all(sb.path("home/lab/sub")).unwrap();
    let home = sb.path("home").display().to_string();
    let mut t = Term::start(&sb, sh, BIN);
    t.send_settled(&format!("cd {home}/lab"));
    let bare = [("MLFLOW_TRACKING_URI", listener.url.as_str()), ("MLFLOW_LOGIN_PROJECT", file.as_str())];
    expect(&t.env(), &bare, "an unknown project URL: the bare URI, no credential");
    for dir in ["sub", "..", home.as_str(), "lab", "sub"] {
        t.send_settled(&format!("cd {dir}"));
    }
    t.env();
    let hint =
        format!("this project logs to {} — mlflow-login login lab --url {} --auth bearer", listener.url, listener.url);
    let screen = t.screen();
    assert_eq!(screen.matches(&hint).count(), 1, "{sh:?}: the hint once per shell and project:\n{screen}");

    // Every command, run from that folder with the shell's environment (sh, so one script
    // serves every shell).
    let script = sb.path("out/in-project.sh");
    std::fs::write(
        &script,
        format!(
            "b={b}\n\"$b\" env; echo env=$?\n\"$b\" exec -- curl -s \"$MLFLOW_TRACKING_URI\"; echo exec=$?\n\
             \"$b\" status; echo status=$?\n\"$b\" credential --url \"$MLFLOW_TRACKING_URI\"\n\
             curl -s \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/experiments/search\"; echo\n\
             \"$b\" doctor; echo doctor=$?\n\"$b\" list\n",
            b = shell_quote(BIN)
        ),
    )
    .unwrap();
    if plugin {
        // The Python plugin's auth object, as MLflow calls it, on a request to that URL.
        let py = plugin_python();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/src");
        let code = "import os, requests, mlflow_login\ntry:\n    requests.get(os.environ['MLFLOW_TRACKING_URI'] + '/api/2.0/mlflow/experiments/search', auth=mlflow_login.auth(), timeout=10)\n    print('plugin=sent')\nexcept mlflow_login.MlflowLoginError as e:\n    print('plugin=refused', type(e).__name__)\n";
        let mut f = std::fs::OpenOptions::new().append(true).open(&script).unwrap();
        writeln!(
            f,
            "MLFLOW_LOGIN_BIN={b} PYTHONPATH={} {} -c {}",
            shell_quote(&src.display().to_string()),
            shell_quote(&py),
            shell_quote(code),
            b = shell_quote(BIN)
        )
        .unwrap();
    }
    let codes = t.run_to_file(&format!("sh {} 2>&1", script.display()));
    let codes = String::from_utf8_lossy(&codes);
    let unknown = format!("the project file {file} names {}, which no known server has", listener.url);
    let listed = format!("this shell: project file {file} names {}, which no known server has", listener.url);
    for want in ["env=3", "exec=3", "status=3", "\"credential\":null", "{}", "doctor=1", &unknown, &listed] {
        assert!(codes.contains(want), "{sh:?}: lacks `{want}`:\n{codes}");
    }
    if plugin {
        assert!(codes.contains("plugin=refused UnknownServerError"), "{sh:?}: the plugin:\n{codes}");
    }
    let seen = listener.seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the shell's own curl reached the listener (so the URI points there)");
    for head in &seen {
        assert!(!head.contains("authorization:"), "{sh:?}: a credential went to the project's URL:\n{head}");
    }
}

/// The fixtures' Python (MLflow, requests): `$MLL_MLFLOW_PYTHON`, else the cached venv.
fn plugin_python() -> String {
    if let Ok(py) = std::env::var("MLL_MLFLOW_PYTHON") {
        return py;
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("tests/fixtures/mlflow-venv.sh").current_dir(&repo).output().unwrap();
    assert!(
        out.status.success(),
        "no Python with MLflow for the plugin: tests/fixtures/mlflow-venv.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/bin/python", String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn bash_project_unknown_url() {
    project_unknown_url(Sh::Bash, true);
}

#[test]
fn zsh_project_unknown_url() {
    project_unknown_url(Sh::Zsh, false);
}

#[test]
fn fish_project_unknown_url() {
    project_unknown_url(Sh::Fish, false);
}

// ---- dash: exports at start-up, no password unless asked ---------------------------------

/// `eval "$(mlflow-login INIT)"` in a real dash, as ~/.profile would run it: the managed
/// variables it exports, and what follows the env dump in the script's output.
fn dash_after(sb: &World, before: &str, init: &str, then: &str) -> (BTreeMap<String, String>, String) {
    require("dash", "dash");
    let script = format!("{before}\neval \"$({} {init})\"\nenv -0\nprintf '@@MARK@@'\n{then}\n", shell_quote(BIN));
    let mut c = Command::new("dash");
    c.arg("-s").env_clear().envs(sb.envs()).env("SHELL", "/bin/sh");
    let out = run_with_stdin(&mut c, script.as_bytes());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (env_part, rest) = stdout.split_once("@@MARK@@").unwrap();
    let env = env_part
        .split('\0')
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .filter(|(k, _)| is_ours(k) || k == "MLFLOW_TRACKING_AUTH")
        .collect();
    (env, rest.to_string())
}

/// ~/.profile is the desktop session's too, so `init posix` exports the URI and
/// the username, never the password, unless `--export-password` says so.
#[test]
fn dash_init_exports_no_password_by_default() {
    // Quoting leaves a password of letters and dashes as it is, so its bytes in the output
    // would mean it was printed.
    const CANARY: &str = "canary-pw-f00d";
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", CANARY);
    let init = mll(&sb, &["init", "posix"]);
    assert!(!contains(&init.stdout, CANARY.as_bytes()), "init posix printed the password");
    let refresh = sb.cmd().args(["hook-env", "--shell", "posix"]).output().unwrap();
    assert!(!contains(&refresh.stdout, CANARY.as_bytes()), "mlflow_login_refresh's output holds the password");
    let opted_in = mll(&sb, &["init", "posix", "--export-password"]);
    assert!(contains(&opted_in.stdout, CANARY.as_bytes()), "the canary shows when the password is printed");

    let (env, rest) =
        dash_after(&sb, "", "init posix", "mlflow_login_refresh; env | grep -c '^MLFLOW_TRACKING_PASSWORD=' ; true");
    let mut want = prod(false);
    want.push(("MLFLOW_TRACKING_USERNAME", "alice"));
    expect(&env, &want, "init posix: URI, username and server name, no password");
    assert_eq!(rest.trim(), "0", "mlflow_login_refresh must not export the password either");

    // A password exported before (an older init line) does not linger.
    let (env, _) = dash_after(&sb, "export MLFLOW_TRACKING_PASSWORD=old", "init posix", "");
    assert!(!env.contains_key("MLFLOW_TRACKING_PASSWORD"));

    let (env, rest) = dash_after(
        &sb,
        "",
        "init posix --export-password",
        &format!("{} use --here prod 2>&1; echo \"rc=$?\"", shell_quote(BIN)),
    );
    let mut with_pw = want.clone();
    with_pw.push(("MLFLOW_TRACKING_PASSWORD", CANARY));
    expect(&env, &with_pw, "--export-password: the password too");
    assert!(rest.contains("needs the shell integration") && rest.contains("rc=2"), "{rest}");

    let (env, _) = dash_after(&sb, "", "init posix --no-password", "");
    let mut plugin = prod(false);
    plugin.push(("MLFLOW_TRACKING_AUTH", "mlflow-login"));
    expect(&env, &plugin, "--no-password: the plugin");

    let both = sb.cmd().args(["init", "posix", "--no-password", "--export-password"]).output().unwrap();
    assert_eq!(both.status.code(), Some(2), "the two flags contradict each other");
}

/// The help says what the opt-in does.
#[test]
fn init_help_explains_export_password() {
    let out = Command::new(BIN).args(["init", "--help"]).env("COLUMNS", "200").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains("--export-password") && help.contains("whole desktop session"), "{help}");
}

// ---- round trips through the program ----------------------------------------------------

/// Passwords that the shells and `login --password-stdin` can carry (stdin loses a final
/// `\r\n`, so none ends with `\r`).
fn passwords(seed: u64, n: usize) -> Vec<String> {
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "'", "\"", "$", "`", "\\", "%", "!", "\n", "\t", " ", "-", "--", "$(id)", "`id`", "${HOME}", "%PATH%", "!!",
        "\u{e9}", "\u{2603}", "\u{1f600}", "\u{2018}", "\u{2019}", "\\'", "'\\''", "*", "?", "~", ";", "&", "|",
    ];
    let mut rng = seed;
    let mut next = move |m: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % m as u64) as usize
    };
    let mut out: Vec<String> = ["-n", "--help", "'", "\\", "a\nb\n", "$(echo pwned)", "`echo pwned`", "‘’"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    while out.len() < n {
        let mut pw = if next(5) == 0 { "-".to_string() } else { String::new() };
        for _ in 0..1 + next(12) {
            if next(2) == 0 {
                pw.push_str(PIECES[next(PIECES.len())]);
            } else {
                pw.push((b'a' + next(26) as u8) as char);
            }
        }
        out.push(pw);
    }
    out
}

/// `env NAME --shell X` output, evaluated by shell X as a user would, prints the very bytes.
fn env_round_trip(shell: &str, argv: &[&str], line: impl Fn(&str, usize) -> String) {
    require(argv[0], argv[0]);
    let sb = World::for_shells();
    let pws = passwords(0xfeed + shell.len() as u64, 40);
    let mut script = String::new();
    for (i, pw) in pws.iter().enumerate() {
        login(&sb, &format!("s{i}"), &format!("https://h{i}.example"), "u", pw);
        script.push_str(&line(&shell_quote(BIN), i));
        script.push_str("printf '%s\\0' \"$MLFLOW_TRACKING_PASSWORD\"\n");
    }
    let mut c = Command::new(argv[0]);
    c.args(&argv[1..]).env_clear().envs(sb.envs());
    let out = run_with_stdin(&mut c, script.as_bytes());
    assert!(out.stderr.is_empty(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = out.stdout.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    for (i, pw) in pws.iter().enumerate() {
        assert_eq!(got.get(i), Some(pw), "{shell}: password #{i}");
    }
}

#[test]
fn env_round_trip_bash() {
    env_round_trip("bash", &["bash", "--norc", "--noprofile", "-s"], |b, i| {
        format!("eval \"$({b} env s{i} --shell bash)\"\n")
    });
}

#[test]
fn env_round_trip_zsh() {
    env_round_trip("zsh", &["zsh", "-f", "-s"], |b, i| format!("eval \"$({b} env s{i} --shell zsh)\"\n"));
}

#[test]
fn env_round_trip_fish() {
    env_round_trip("fish", &["fish", "--no-config"], |b, i| format!("{b} env s{i} --shell fish | source\n"));
}

#[test]
fn env_round_trip_dash() {
    env_round_trip("dash", &["dash", "-s"], |b, i| format!("eval \"$({b} env s{i} --shell posix)\"\n"));
}

// ---- exec keeps the password out of every command line ----------------------------------

#[test]
fn exec_keeps_password_out_of_cmdlines() {
    let sb = World::for_shells();
    let pw = format!("cmdline-canary-{:x}", rand_u64());
    login(&sb, "prod", "https://prod.example/mlflow", "alice", &pw);
    let mut child = sb.cmd().args(["exec", "prod", "--", "sleep", "2"]).spawn().unwrap();
    let pid = child.id();
    // `exec` replaces itself with the command; wait until it has.
    wait_for("exec to start sleep", Duration::from_secs(10), || {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0"))
    });
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(contains(&environ, pw.as_bytes()), "the command must get the password in its environment");
    let mut seen = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            seen += 1;
            assert!(!contains(&cmdline, pw.as_bytes()), "{}/cmdline holds the password", entry.path().display());
        }
    }
    assert!(seen > 1);
    assert!(child.wait().unwrap().success());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ---- doctor -------------------------------------------------------------------------------

#[test]
fn doctor_finds_the_traps_without_printing_secrets() {
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    let home = sb.path("home");
    std::fs::write(
        home.join(".netrc"),
        "machine other.example login x password netrc-other\nmachine prod.example login alice password netrc-secret\n",
    )
    .unwrap();
    std::fs::create_dir_all(home.join(".mlflow")).unwrap();
    std::fs::write(home.join(".mlflow/credentials"), "[mlflow]\nmlflow_tracking_password = creds-secret\n").unwrap();
    std::fs::write(home.join(".bashrc"), "# hi\nexport MLFLOW_TRACKING_PASSWORD=rc-secret\n").unwrap();
    let out = sb
        .cmd()
        .arg("doctor")
        .env("SHELL", "/bin/bash")
        .env("MLFLOW_TRACKING_URI", "https://u:uri-secret@prod.example")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    for want in [
        "this shell has no MLflow Login hook",
        "eval \"$(mlflow-login init bash)\"",
        "~/.netrc has an entry for prod.example (line 2)",
        "~/.mlflow/credentials exists",
        "~/.bashrc:2 sets MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_URI in this shell holds a user name or password",
        "the keychain holds the password of \"prod\"",
        "doctor found 5 problems",
        "`mlflow-login import --remove-plaintext` moves it into the keychain",
    ] {
        assert!(text.contains(want), "doctor output lacks `{want}`:\n{text}");
    }
    for secret in ["netrc-secret", "creds-secret", "rc-secret", "uri-secret", PROD_PW] {
        assert!(!text.contains(secret), "doctor printed a secret:\n{text}");
    }

    for f in [".netrc", ".mlflow/credentials", ".bashrc"] {
        std::fs::remove_file(home.join(f)).unwrap();
    }
    let out = sb.cmd().args(["doctor"]).env("MLFLOW_LOGIN_SHELL", "zsh").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("this zsh shell has the MLflow Login hook"), "{text}");

    mll(&sb, &["logout", "prod"]);
    let out = sb.cmd().args(["doctor"]).env("MLFLOW_LOGIN_SHELL", "zsh").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no password is stored for \"prod\""));
}

// ---- init variants ------------------------------------------------------------------------

fn bash_env_after(sb: &World, init: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let script = format!("eval \"$({} {init})\"\nenv -0\n", shell_quote(BIN));
    let mut c = Command::new("bash");
    c.args(["--norc", "--noprofile", "-s"]).env_clear().envs(sb.envs()).envs(extra.iter().copied());
    let out = run_with_stdin(&mut c, script.as_bytes());
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
        .split(|b| *b == 0)
        .filter_map(|kv| String::from_utf8_lossy(kv).split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .filter(|(k, _)| is_ours(k) || k == "MLFLOW_TRACKING_AUTH")
        .collect()
}

#[test]
fn init_no_password_exports_no_secret() {
    require("bash", "bash");
    let sb = World::for_shells();
    login(&sb, "prod", "https://prod.example/mlflow", "alice", PROD_PW);
    let env = bash_env_after(&sb, "init bash --no-password", &[]);
    expect(
        &env,
        &[
            ("MLFLOW_TRACKING_URI", "https://prod.example/mlflow"),
            ("MLFLOW_TRACKING_AUTH", "mlflow-login"),
            ("MLFLOW_LOGIN_SERVER", "prod"),
        ],
        "--no-password: the URI and the plugin, no credentials",
    );
}

#[test]
fn init_without_active_server_leaves_user_variables_alone() {
    require("bash", "bash");
    let sb = World::for_shells();
    let env = bash_env_after(&sb, "init bash", &[("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")]);
    expect(&env, &[("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")], "nothing configured: nothing unset at start-up");
}

// ---- env --format dotenv ------------------------------------------------------------------

/// A password the `.env` readers keep is written; one they would change is refused with
/// exit 2, naming the variable and not the value.
#[test]
fn env_dotenv_writes_or_refuses() {
    let sb = World::for_shells();
    login(&sb, "kept", "https://kept.example", "u", "p$HOME #1 \"x\" \\n");
    let out = mll(&sb, &["env", "kept", "--format", "dotenv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("MLFLOW_TRACKING_PASSWORD='p$HOME #1 \"x\" \\n'\n"), "{text}");

    login(&sb, "expands", "https://expands.example", "u", "secret-${HOME}-canary");
    let out = sb.cmd().args(["env", "expands", "--format", "dotenv"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "nothing is written when a value is refused");
    assert!(err.contains("MLFLOW_TRACKING_PASSWORD cannot be written") && err.contains("mlflow-login exec"), "{err}");
    assert!(!err.contains("canary"), "the message must not show the password: {err}");
}

// ---- single sign-on: a hooked shell crossing a token expiry --------------------------------

/// A variable of the SSO fixtures (tests/fixtures/oidc/README.md); fails without them.
fn oidc_var(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!(
            "${name} is not set: the SSO tests need the fixture IdP and proxy: \
             tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh tests/shell/run.sh"
        )
    })
}

/// The IdP's successful refreshes for `client`.
fn refreshes(client: &str) -> u64 {
    let stats = common::idp_stats();
    assert_eq!(
        stats["by_client"][client]["refresh"].get("invalid_grant"),
        None,
        "a refresh token was replayed: {stats}"
    );
    stats["by_client"][client]["refresh"]["ok"].as_u64().unwrap_or(0)
}

/// `login NAME --url PROXY --sso --client-id CLIENT` through the scripted browser.
fn sso_login(w: &World, name: &str, client: &str) {
    let proxy = oidc_var("MLL_OIDC_PROXY_URL");
    let mut c = w.cmd();
    c.args(["login", name, "--url", &proxy, "--sso", "--client-id", client, "--timeout", "60"]);
    // A display makes the browser flow the default; the browser is the fixture's.
    c.env("DISPLAY", ":mll-test").env("BROWSER", oidc_var("MLL_OIDC_BROWSER"));
    for k in ["MLL_OIDC_USER", "MLL_OIDC_PASSWORD"] {
        c.env(k, oidc_var(k));
    }
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "sso login: {}", String::from_utf8_lossy(&out.stderr));
}

/// What the proxy answers the shell's exported token (run in the shell, by curl).
fn proxy_status(t: &mut Term) -> String {
    let url = format!("{}/api/2.0/mlflow/experiments/search?max_results=1", oidc_var("MLL_OIDC_PROXY_URL"));
    let cmd =
        format!("curl -s -o /dev/null -w '%{{http_code}}' -H \"Authorization: Bearer $MLFLOW_TRACKING_TOKEN\" '{url}'");
    String::from_utf8_lossy(&t.run_to_file(&cmd)).trim().to_string()
}

/// Token lifetime of the test's client: long enough for a strace'd burst of prompts
/// before the first refresh is due (core refreshes at 90% of it).
const SSO_TTL: u64 = 30;

/// A shell that outlives its token: quiet (0 processes) while the token is fresh, then at
/// the first prompt after the refresh time a new token, accepted by the proxy, from one
/// refresh at the IdP.
fn sso_token_stays_fresh(sh: Sh) {
    let sb = World::for_shells();
    let client = common::register_client(SSO_TTL);
    sso_login(&sb, "corp", &client);
    let mut t = Term::start(&sb, sh, BIN);
    let first = t.env().get("MLFLOW_TRACKING_TOKEN").cloned().expect("the shell starts with a token");
    assert_eq!(proxy_status(&mut t), "200", "{sh:?}: the first token");

    let (text, spawns) = trace_spawns(&sb, &t, |t| {
        for _ in 0..10 {
            t.prompt();
        }
    });
    let state = sb.config_dir().join("state").display().to_string();
    assert!(text.lines().any(|l| l.contains("openat(") && l.contains(&state)), "{sh:?}: the hook did not run:\n{text}");
    assert!(spawns.is_empty(), "{sh:?}: processes at prompts with a fresh token:\n{}", spawns.join("\n"));
    assert_eq!(refreshes(&client), 0, "{sh:?}: refreshed although the token was fresh");

    // Prompts until the hook exports another token (within two lifetimes).
    let start = Instant::now();
    let second = loop {
        t.prompt();
        let now = t.env().get("MLFLOW_TRACKING_TOKEN").cloned();
        if now.as_ref().is_some_and(|n| *n != first) {
            break now.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(2 * SSO_TTL + 10),
            "{sh:?}: no new token after the old one expired"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_ne!(second, first);
    assert_eq!(proxy_status(&mut t), "200", "{sh:?}: the refreshed token");
    assert_eq!(refreshes(&client), 1, "{sh:?}: one refresh for one expiry");
    let screen = t.screen();
    for bad in ["error", "warning"] {
        assert!(!screen.contains(bad), "{sh:?}: unexpected `{bad}` on screen:\n{screen}");
    }
}

#[test]
fn bash_sso_token_stays_fresh() {
    sso_token_stays_fresh(Sh::Bash);
}

#[test]
fn zsh_sso_token_stays_fresh() {
    sso_token_stays_fresh(Sh::Zsh);
}

#[test]
fn fish_sso_token_stays_fresh() {
    sso_token_stays_fresh(Sh::Fish);
}
