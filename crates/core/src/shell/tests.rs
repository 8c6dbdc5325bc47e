//! Snapshots of every shell's output, shellcheck on the sh/bash output, and round trips of
//! thousands of generated passwords through the real bash, zsh, fish and dash.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap should panic

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::*;
use crate::env::{self, EnvOptions};
use crate::secret::Secret;
use crate::server::{AuthKind, Server};

/// A password with most of what breaks naive quoting, and the variables around it.
fn sample_vars() -> Vec<EnvVar> {
    let mut server = Server::new_basic("https://mlflow.example.com/team a", "alice o'neil").unwrap();
    server.ca_bundle = Some("/etc/ssl/private ca/ca.pem".into());
    let pw = Secret::new("-n 'quote' \"dq\" $HOME `id` \\ %PATH% !! ‘smart’\nline2\ttab ☃".into());
    env::vars_for("prod", &server, Some(&pw), EnvOptions::default())
}

fn init_opts() -> InitOptions<'static> {
    InitOptions {
        program: Path::new("/home/o'neil/.local/bin/mlflow-login"),
        state_file: Path::new("/home/o'neil/.config/mlflow-login/state"),
        no_password: false,
    }
}

#[test]
fn env_snapshots() {
    for shell in Shell::ALL {
        insta::assert_snapshot!(format!("env_{}", shell.name()), render_env(shell, &sample_vars()));
    }
}

#[test]
fn env_snapshots_bearer_and_cleared() {
    let mut server = Server::new_basic("https://h", "bot").unwrap();
    server.auth = AuthKind::Bearer;
    server.insecure_tls = true;
    let tok = Secret::new("tok'en".into());
    for shell in Shell::ALL {
        let mut out = render_env(shell, &env::vars_for("ci", &server, Some(&tok), EnvOptions::default()));
        out.push_str(&render_env(shell, &env::vars_cleared(EnvOptions { no_password: true })));
        out.push_str(&render_state(shell, "1700000000.000000001.42"));
        insta::assert_snapshot!(format!("env_bearer_cleared_{}", shell.name()), out);
    }
}

#[test]
fn init_snapshots() {
    for shell in Shell::ALL {
        match render_init(shell, &init_opts()) {
            Ok(text) => insta::assert_snapshot!(format!("init_{}", shell.name()), text),
            Err(e) => {
                assert_eq!(shell, Shell::Cmd, "{e}");
                assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            }
        }
    }
    let no_pw = render_init(Shell::Bash, &InitOptions { no_password: true, ..init_opts() }).unwrap();
    assert!(no_pw.contains("hook-env --shell bash --no-password"), "{no_pw}");
    assert!(no_pw.contains("mlflow-login init bash --no-password"), "{no_pw}");
}

#[test]
fn every_placeholder_is_filled() {
    for shell in Shell::ALL.into_iter().filter(|s| s.template().is_some()) {
        let text = render_init(shell, &init_opts()).unwrap();
        assert!(!text.contains("{{"), "{shell:?}: {text}");
        assert_eq!(text.contains("__mll_hook"), shell.has_prompt_hook(), "{shell:?}");
        assert!(text.contains("hook-env --shell"), "{shell:?}");
    }
}

#[test]
fn quoting_by_hand() {
    assert_eq!(Shell::Bash.syntax().quote("it's"), r"'it'\''s'");
    assert_eq!(Shell::Fish.syntax().quote(r"it's a \ "), r"'it\'s a \\ '");
    assert_eq!(Shell::Pwsh.syntax().quote("it's ‘x’"), "'it''s ‘‘x’’'");
    assert_eq!(Shell::Cmd.syntax().set_env("A", "x\"&|y"), "set \"A=x\"&|y\"\n");
    assert!(Shell::Cmd.syntax().set_env("A", "x\ny").starts_with("rem A holds a line break"));
    assert_eq!(Shell::Fish.syntax().unset_env("A"), "set -e -g A\n");
    for s in Shell::ALL {
        assert_eq!(Shell::from_name(s.name()), Some(s));
    }
}

// ---- real tools -------------------------------------------------------------------------

/// Fails (never skips) when a tool is missing, saying how to get it.
fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    assert!(found, "`{tool}` is not installed: apt-get install {package} (or scripts/install-deps.sh)");
}

fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn shellcheck(dialect: &str, text: &str) {
    require("shellcheck", "shellcheck");
    let mut cmd = Command::new("shellcheck");
    // SC2016 ($ in single quotes) and SC1112 (a typographic quote) flag characters of the
    // sample password, which are meant literally.
    cmd.args(["--shell", dialect, "--severity", "style", "--exclude", "SC2016,SC1112", "-"]);
    let out = run_with_stdin(cmd, text.as_bytes());
    assert!(
        out.status.success(),
        "shellcheck --shell {dialect} found problems:\n{}\n--- script ---\n{text}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn shellcheck_bash_and_posix_output() {
    for (shell, dialect) in [(Shell::Bash, "bash"), (Shell::Posix, "sh")] {
        let mut script = String::new();
        script.push_str(&render_init(shell, &init_opts()).unwrap());
        script.push_str(&render_env(shell, &sample_vars()));
        script.push_str(&render_env(shell, &env::vars_cleared(EnvOptions { no_password: true })));
        script.push_str(&render_state(shell, "1.2.3"));
        shellcheck(dialect, &format!("#!/bin/{dialect}\n{script}"));
    }
}

/// A seeded generator of passwords heavy in what shells treat specially.
pub(crate) fn generated_passwords(seed: u64, count: usize) -> Vec<String> {
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "'", "\"", "$", "`", "\\", "%", "!", "\n", "\t", "\r", " ", "-", "--", "$(id)", "`id`", "${HOME}", "$'x'",
        "%PATH%", "!!", "!$", "^", "&", "|", ";", "<", ">", "(", ")", "{", "}", "[", "]", "*", "?", "~", "#", "=",
        ",", "\\'", "'\\''", "\\\\", "\\n", "\u{e9}", "\u{2603}", "\u{1f600}", "\u{200b}", "\u{a0}", "\u{202e}",
        "\u{2018}", "\u{2019}", "\u{201a}", "\u{201b}", "\u{201c}", "\u{ff07}", "\u{7f}", "\u{1b}[31m", "\u{1}",
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out: Vec<String> = [
        "'",
        "\\",
        "-n",
        "-e",
        "--",
        "--help",
        "-x'",
        "$(echo pwned)",
        "`echo pwned`",
        "a\n",
        "\n",
        "\r\n",
        "''",
        "\\'",
        "!!",
        "%USERNAME%",
        "‘’",
        "\t\t",
        " lead and trail ",
        "x\\",
        "\\\\'\\\\",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    while out.len() < count {
        let mut pw = String::new();
        if rng.u8(..8) == 0 {
            pw.push('-');
        }
        for _ in 0..rng.usize(1..16) {
            match rng.u8(..3) {
                0 => pw.push_str(PIECES[rng.usize(..PIECES.len())]),
                1 => pw.push(rng.alphanumeric()),
                _ => pw.push(char::from_u32(rng.u32(0x20..0x2fff)).filter(|c| *c != '\0').unwrap_or('x')),
            }
        }
        out.push(pw);
    }
    out
}

/// Runs one script in `shell` that sets the password and prints it back, NUL-terminated,
/// once per generated password; the output must be exactly the input.
fn round_trip(shell: Shell, mut cmd: Command) {
    let passwords = generated_passwords(0x5eed_0000 + shell as u64, 3000);
    let mut script = String::new();
    let mut want = Vec::new();
    for pw in &passwords {
        let var = EnvVar { name: env::PASSWORD, value: Some(Secret::new(pw.clone())) };
        script.push_str(&render_env(shell, std::slice::from_ref(&var)));
        script.push_str("printf '%s\\0' \"$MLFLOW_TRACKING_PASSWORD\"\n");
        want.extend_from_slice(pw.as_bytes());
        want.push(0);
    }
    script.push_str(&render_env(shell, &[EnvVar { name: env::PASSWORD, value: None }]));
    script.push_str("printf 'unset:%s\\0' \"$MLFLOW_TRACKING_PASSWORD\"\n");
    want.extend_from_slice(b"unset:\0");
    cmd.env_clear().env("PATH", "/usr/bin:/bin").env("LC_ALL", "C.UTF-8");
    let out = run_with_stdin(cmd, script.as_bytes());
    assert!(out.status.success() && out.stderr.is_empty(), "{shell:?}: {}", String::from_utf8_lossy(&out.stderr));
    if out.stdout != want {
        let got: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        for (i, pw) in passwords.iter().enumerate() {
            let g = got.get(i).copied().unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(g), *pw, "{shell:?}: password #{i} did not survive");
        }
        panic!("{shell:?}: output differs after the passwords");
    }
}

#[test]
fn round_trip_bash() {
    require("bash", "bash");
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-s"]);
    round_trip(Shell::Bash, cmd);
}

#[test]
fn round_trip_zsh() {
    require("zsh", "zsh");
    let mut cmd = Command::new("zsh");
    cmd.args(["-f", "-s"]);
    round_trip(Shell::Zsh, cmd);
}

#[test]
fn round_trip_fish() {
    require("fish", "fish");
    let mut cmd = Command::new("fish");
    cmd.args(["--no-config"]);
    round_trip(Shell::Fish, cmd);
}

#[test]
fn round_trip_dash() {
    require("dash", "dash");
    let mut cmd = Command::new("dash");
    cmd.args(["-s"]);
    round_trip(Shell::Posix, cmd);
}
