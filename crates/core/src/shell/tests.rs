//! Snapshots of every shell's output, shellcheck on the sh/bash output, and round trips of
//! thousands of generated passwords through the real bash, zsh, fish and dash.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap should panic

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::*;
use crate::env::{self, EnvOptions, SecretMode};
use crate::secret::Secret;
use crate::server::{AuthKind, Server};

/// A password with most of what breaks naive quoting, and the variables around it.
fn sample_vars() -> Vec<EnvVar> {
    let mut server = Server::new_basic("https://mlflow.example.com/team a", "alice o'neil").unwrap();
    server.ca_bundle = Some("/etc/ssl/private ca/ca.pem".into());
    server.workspace = Some("team-a".into());
    let pw = Secret::new("-n 'quote' \"dq\" $HOME `id` \\ %PATH% !! ‘smart’\nline2\ttab ☃".into());
    env::vars_for("prod", &server, Some(&pw), EnvOptions::default())
}

fn init_opts() -> InitOptions<'static> {
    InitOptions {
        program: Path::new("/home/o'neil/.local/bin/mlflow-login"),
        state_file: Path::new("/home/o'neil/.config/mlflow-login/state"),
        no_password: false,
        export_password: false,
    }
}

#[test]
fn env_snapshots() {
    for &shell in Shell::ALL {
        insta::assert_snapshot!(format!("env_{}", shell.name()), render_env(shell, &sample_vars()));
    }
}

#[test]
fn env_snapshots_bearer_and_cleared() {
    let mut server = Server::new_basic("https://h", "bot").unwrap();
    server.auth = AuthKind::Bearer;
    server.insecure_tls = true;
    let tok = Secret::new("tok'en".into());
    for &shell in Shell::ALL {
        let mut out = render_env(shell, &env::vars_for("ci", &server, Some(&tok), EnvOptions::default()));
        out.push_str(&render_env(shell, &env::vars_cleared(EnvOptions { secret: SecretMode::Plugin })));
        out.push_str(&render_state(shell, "1700000000.000000001.42"));
        out.push_str(&render_due(shell, Some(1_700_003_540), Now { unix: 1_700_000_000, uptime: Some(13_386) }));
        out.push_str(&render_due(shell, None, Now { unix: 1_700_000_000, uptime: Some(13_386) }));
        insta::assert_snapshot!(format!("env_bearer_cleared_{}", shell.name()), out);
    }
}

#[test]
fn init_snapshots() {
    for &shell in Shell::ALL {
        match render_init(shell, &init_opts()) {
            Ok(text) => insta::assert_snapshot!(format!("init_{}", shell.name()), text),
            Err(e) => {
                assert_eq!(shell, Shell::CMD, "{e}");
                assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            }
        }
    }
    let no_pw = render_init(Shell::BASH, &InitOptions { no_password: true, ..init_opts() }).unwrap();
    assert!(no_pw.contains("hook-env --shell bash --no-password"), "{no_pw}");
    assert!(no_pw.contains("mlflow-login init bash --no-password"), "{no_pw}");
}

#[test]
fn every_placeholder_is_filled() {
    for shell in Shell::ALL.iter().copied().filter(|s| s.template().is_some()) {
        let text = render_init(shell, &init_opts()).unwrap();
        assert!(!text.contains("{{"), "{shell:?}: {text}");
        assert_eq!(text.contains("__mll_hook"), shell.has_prompt_hook(), "{shell:?}");
        assert!(text.contains("hook-env --shell"), "{shell:?}");
    }
}

#[test]
fn quoting_by_hand() {
    assert_eq!(Shell::BASH.syntax().quote("it's"), r"'it'\''s'");
    assert_eq!(Shell::FISH.syntax().quote(r"it's a \ "), r"'it\'s a \\ '");
    assert_eq!(Shell::PWSH.syntax().quote("it's \"x\" $a `b`"), "'it''s \"x\" $a `b`'");
    assert_eq!(
        Shell::PWSH.syntax().quote("‘é’"),
        "([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('4oCYw6nigJk=')))"
    );
    assert_eq!(Shell::CMD.syntax().set_env("A", "x\"&|y"), "set \"A=x\"&|y\"\n");
    assert!(Shell::CMD.syntax().set_env("A", "x\ny").starts_with("rem A holds a line break"));
    assert_eq!(Shell::FISH.syntax().unset_env("A"), "set -e -g A\n");
    for &s in Shell::ALL {
        assert_eq!(Shell::from_name(s.name()), Some(s));
    }
}

// ---- the table ---------------------------------------------------------------------------

#[test]
fn names_parse_and_login_shells_are_detected() {
    for &s in Shell::ALL {
        for name in s.names() {
            assert_eq!(name.parse::<Shell>().unwrap(), s, "{name}");
        }
    }
    assert_eq!("powershell".parse::<Shell>().unwrap(), Shell::PWSH);
    assert_eq!("dash".parse::<Shell>().unwrap(), Shell::POSIX);
    let err = "tcsh".parse::<Shell>().unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("bash, zsh, fish, pwsh, cmd, posix"), "{err}");

    let fallback = if cfg!(windows) { Shell::PWSH } else { Shell::POSIX };
    for (login, want) in [
        (Some("/bin/bash"), Shell::BASH),
        (Some("/usr/local/bin/zsh"), Shell::ZSH),
        (Some("/opt/homebrew/bin/fish"), Shell::FISH),
        (Some("/usr/bin/pwsh"), Shell::PWSH),
        (Some(r"C:\Program Files\PowerShell\7\pwsh.exe"), Shell::PWSH),
        (Some("/bin/dash"), Shell::POSIX),
        (Some("/bin/sh"), Shell::POSIX),
        (Some("/bin/tcsh"), fallback),
        (Some(""), fallback),
        (None, fallback),
    ] {
        assert_eq!(Shell::from_login_shell(login), want, "{login:?}");
    }
}

#[test]
fn init_lines_and_start_up_files() {
    let lines: Vec<(String, Option<&str>)> = Shell::ALL.iter().map(|s| (s.init_line(""), s.rc_file())).collect();
    assert_eq!(
        lines,
        [
            ("eval \"$(mlflow-login init bash)\"".to_string(), Some("~/.bashrc")),
            ("eval \"$(mlflow-login init zsh)\"".into(), Some("~/.zshrc")),
            ("mlflow-login init fish | source".into(), Some("~/.config/fish/config.fish")),
            ("Invoke-Expression (& mlflow-login init pwsh | Out-String)".into(), Some("$PROFILE")),
            ("for /f \"delims=\" %i in ('mlflow-login init cmd') do %i".into(), None),
            ("eval \"$(mlflow-login init posix)\"".into(), Some("~/.profile")),
        ]
    );
    let home = Path::new("/h");
    let none = |_: &str| None;
    assert_eq!(Shell::POSIX.startup_files(home, none), [Path::new("/h/.profile")]);
    let zsh = Shell::ZSH.startup_files(home, |v| (v == "ZDOTDIR").then(|| "/z".into()));
    assert!(zsh.contains(&"/h/.zshrc".into()) && zsh.contains(&"/z/.zshrc".into()), "{zsh:?}");
    let fish = Shell::FISH.startup_files(home, none);
    assert_eq!(fish, [Path::new("/h/.config/fish/config.fish")], "no conf.d folder: no files from it");
}

#[test]
fn the_secret_by_default_everywhere_but_posix_sh() {
    for &s in Shell::ALL {
        let want = if s == Shell::POSIX { SecretMode::Withhold } else { SecretMode::Export };
        assert_eq!(s.secret_mode(false, false), want, "{s}");
        assert_eq!(s.secret_mode(false, true), SecretMode::Export, "{s}");
        assert_eq!(s.secret_mode(true, false), SecretMode::Plugin, "{s}");
    }
    assert_eq!(parse_function_env("bash --no-password"), Some((Shell::BASH, SecretMode::Plugin)));
    assert_eq!(parse_function_env("posix --export-password"), Some((Shell::POSIX, SecretMode::Export)));
    assert_eq!(parse_function_env("posix"), Some((Shell::POSIX, SecretMode::Withhold)));
    assert_eq!(parse_function_env("tcsh"), None);
    let posix = render_init(Shell::POSIX, &InitOptions { export_password: true, ..init_opts() }).unwrap();
    assert!(posix.contains("hook-env --shell posix --export-password)"), "{posix}");
    assert!(posix.contains("`eval \"$(mlflow-login init posix --export-password)\"` in ~/.profile"), "{posix}");
}

/// The docs' table of init lines is the shell table's (a new row fails here until the docs
/// have it too).
#[test]
fn docs_give_each_shell_its_init_line_and_file() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/shells.md")).unwrap();
    for shell in Shell::ALL.iter().filter(|s| s.template().is_some()) {
        let line = shell.init_line("").replace('|', r"\|");
        let rc = shell.rc_file().unwrap();
        let row = docs.lines().find(|l| l.starts_with('|') && l.contains(&format!("`{line}`")));
        let row = row.unwrap_or_else(|| panic!("docs/shells.md has no table row with `{line}`"));
        assert!(row.contains(&format!("`{rc}`")), "docs/shells.md gives {shell} another file than {rc}: {row}");
    }
}

/// A shell core does not know, added the way a new one would be: one row (and its syntax
/// and template), with no other edit. The lookups, detection and both renderers take it.
#[test]
fn a_new_row_needs_no_other_edit() {
    #[derive(Debug)]
    struct RcSyntax;
    impl ShellSyntax for RcSyntax {
        fn quote(&self, value: &str) -> String {
            format!("'{}'", value.replace('\'', "''"))
        }
        fn set_env(&self, name: &str, value: &str) -> String {
            format!("{name}={}\n", self.quote(value))
        }
        fn unset_env(&self, name: &str) -> String {
            format!("{name}=()\n")
        }
        fn set_var(&self, name: &str, value: &str) -> String {
            self.set_env(name, value)
        }
    }
    static RC: ShellSpec = ShellSpec {
        name: "rc",
        aliases: &["plan9-rc"],
        title: "Plan 9 rc",
        syntax: &RcSyntax,
        template: Some(
            "# {{init_line}} in {{rc_file}}\nfn prompt { {{bin}} hook-env --shell rc{{hook_args}} <{{state_file}} }\n",
        ),
        prompt_hook: true,
        rc_file: Some("~/lib/profile"),
        startup_files: &["~/lib/profile"],
        eval: "eval `{{}}",
        exports_secret: true,
    };
    let rc = Shell::from_spec(&RC);
    let table: Vec<Shell> = Shell::ALL.iter().copied().chain([rc]).collect();
    assert_eq!(find_in(&table, "plan9-rc"), Some(rc));
    assert_eq!(find_in(&table, "bash"), Some(Shell::BASH));
    assert_eq!(detect_in(&table, Some("/usr/lib/plan9/bin/rc")), rc);
    assert_eq!(rc.init_line(" --no-password"), "eval `{mlflow-login init rc --no-password}");
    assert_eq!(
        render_init(rc, &init_opts()).unwrap(),
        "# eval `{mlflow-login init rc} in ~/lib/profile\n\
         fn prompt { '/home/o''neil/.local/bin/mlflow-login' hook-env --shell rc <'/home/o''neil/.config/mlflow-login/state' }\n"
    );
    let vars = [EnvVar { name: env::PASSWORD, value: Some(Secret::new("it's".into())) }];
    assert_eq!(render_env(rc, &vars), "MLFLOW_TRACKING_PASSWORD='it''s'\n");
    assert_eq!(render_state(rc, "1.2"), "__mll_state='1.2'\n");
    assert_eq!(rc.startup_files(Path::new("/h"), |_| None), [Path::new("/h/lib/profile")]);
}

// ---- PowerShell: ASCII only, whatever the console's code page -----------------------------

/// What PowerShell makes of one `$env:NAME = ...` line we print: the two forms
/// [`syntax::PwshSyntax`] writes, read as PowerShell reads them.
fn pwsh_value(line: &str) -> String {
    let (_, rhs) = line.split_once(" = ").unwrap();
    if let Some(b64) = rhs
        .strip_prefix("([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('")
        .and_then(|r| r.strip_suffix("')))"))
    {
        return String::from_utf8(base64_decode(b64)).unwrap();
    }
    let inner = rhs.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap();
    assert!(!inner.replace("''", "").contains('\''), "a lone quote ends the string early: {rhs}");
    inner.replace("''", "'")
}

/// coreutils' `base64 -d`, the reference decoder.
fn base64_decode(text: &str) -> Vec<u8> {
    require("base64", "coreutils");
    let mut cmd = Command::new("base64");
    cmd.arg("-d");
    let out = run_with_stdin(cmd, text.as_bytes());
    assert!(out.status.success(), "base64 -d refused {text:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn base64_matches_rfc_4648() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(crate::text::base64(plain.as_bytes()), encoded);
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(base64_decode(&crate::text::base64(&all)), all);
}

/// The exact bytes: every line ASCII, and each value read back as it was.
#[test]
fn pwsh_output_is_ascii_and_reads_back() {
    let passwords = generated_passwords(0x9057, 500);
    let vars: Vec<EnvVar> =
        passwords.iter().map(|p| EnvVar { name: env::PASSWORD, value: Some(Secret::new(p.clone())) }).collect();
    let text = render_env(Shell::PWSH, &vars);
    assert!(text.is_ascii(), "non-ASCII output reaches PowerShell through the console code page");
    // A value may hold line breaks: split on the statements, not on lines.
    let statements: Vec<&str> = text.split("\n$env:").collect();
    assert_eq!(statements.len(), passwords.len());
    for (i, (stmt, pw)) in statements.iter().zip(&passwords).enumerate() {
        let stmt = stmt.strip_prefix("$env:").unwrap_or(stmt).trim_end_matches('\n');
        assert_eq!(pwsh_value(stmt), *pw, "password #{i}");
    }
    let init = render_init(
        Shell::PWSH,
        &InitOptions { program: Path::new("C:\\Users\\José\\bin\\mlflow-login.exe"), ..init_opts() },
    )
    .unwrap();
    assert!(init.is_ascii(), "a non-ASCII program path is encoded too:\n{init}");
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
    for (shell, dialect) in [(Shell::BASH, "bash"), (Shell::POSIX, "sh")] {
        let mut script = String::new();
        script.push_str(&render_init(shell, &init_opts()).unwrap());
        script.push_str(&render_env(shell, &sample_vars()));
        script.push_str(&render_env(shell, &env::vars_cleared(EnvOptions { secret: SecretMode::Plugin })));
        script.push_str(&render_state(shell, "1.2.3"));
        script.push_str(&render_due(shell, Some(1_700_003_540), Now { unix: 1_700_000_000, uptime: Some(13_386) }));
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
fn round_trip(shell: Shell, cmd: Command) {
    round_trip_values(shell, cmd, &generated_passwords(0x5eed_0000 + shell.name().len() as u64, 3000));
}

fn round_trip_values(shell: Shell, mut cmd: Command, passwords: &[String]) {
    let mut script = String::new();
    let mut want = Vec::new();
    for pw in passwords {
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
    round_trip(Shell::BASH, cmd);
}

#[test]
fn round_trip_zsh() {
    require("zsh", "zsh");
    let mut cmd = Command::new("zsh");
    cmd.args(["-f", "-s"]);
    round_trip(Shell::ZSH, cmd);
}

#[test]
fn round_trip_fish() {
    require("fish", "fish");
    let mut cmd = Command::new("fish");
    cmd.args(["--no-config"]);
    round_trip(Shell::FISH, cmd);
}

#[test]
fn round_trip_dash() {
    require("dash", "dash");
    let mut cmd = Command::new("dash");
    cmd.args(["-s"]);
    round_trip(Shell::POSIX, cmd);
}

/// A login hint from a cloned repository's project file is copied into a shell: every value
/// must stay one word there, in each real shell, and run nothing.
#[test]
fn shell_words_stay_one_word_in_every_real_shell() {
    let values = [
        "plain-value.1",
        "",
        "x; touch pwned | sh",
        "it's",
        "ends with \\",
        "a\\'b",
        "https://idp\\'; touch pwned; echo \\'",
        "\\\\'\\",
        "$(touch pwned)",
        "`touch pwned`",
        "~root *",
        "{a,b} !x %s",
        "tab\tand\nnewline",
    ];
    for shell in [Shell::BASH, Shell::ZSH, Shell::FISH, Shell::POSIX] {
        let dir = tempfile::tempdir().unwrap();
        let script: String =
            values.iter().map(|v| format!("printf '%s\\0' {}\n", crate::text::shell_word(v))).collect();
        let mut cmd = shell_command(shell);
        cmd.current_dir(dir.path()).env_clear().env("PATH", "/usr/bin:/bin").env("LC_ALL", "C.UTF-8");
        let out = run_with_stdin(cmd, script.as_bytes());
        assert!(out.status.success(), "{shell:?}: {}\n{script}", String::from_utf8_lossy(&out.stderr));
        let got: Vec<String> = out.stdout.split(|b| *b == 0).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        assert_eq!(&got[..values.len()], &values[..], "{shell:?}:\n{script}");
        assert!(!dir.path().join("pwned").exists(), "{shell:?} ran a command from a value:\n{script}");
    }
}

// ---- property tests: random strings through the real shells, serde_json, PowerShell ------

/// The shells as the round-trip tests start them (rc files off, script on stdin).
fn shell_command(shell: Shell) -> Command {
    let (program, args): (&str, &[&str]) = match shell.name() {
        "bash" => ("bash", &["--norc", "--noprofile", "-s"]),
        "zsh" => ("zsh", &["-f", "-s"]),
        "fish" => ("fish", &["--no-config"]),
        "posix" => ("dash", &["-s"]),
        other => panic!("no real {other} here"),
    };
    require(program, program);
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

/// `PROPTEST_CASES`, or 64: a fixed, bounded count for `make test` (each case starts one
/// process per shell); `make fuzz` sets more.
pub(crate) fn prop_config() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() }
}

/// Any string without NUL (no environment variable can hold one), heavy in what shells and
/// `.env` readers treat specially.
pub(crate) fn any_value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let special = proptest::sample::select(vec![
        '\'',
        '"',
        '$',
        '`',
        '\\',
        '\n',
        '\r',
        '\t',
        ' ',
        '!',
        '%',
        '#',
        '=',
        '{',
        '}',
        '(',
        ')',
        '-',
        '*',
        '?',
        '~',
        '\u{85}',
        '\u{a0}',
        '\u{2018}',
        '\u{2019}',
        '\u{2028}',
        '\u{feff}',
        '\u{f600}',
        '\u{10ffff}',
    ]);
    let ch = prop_oneof![3 => any::<char>(), 2 => special];
    proptest::collection::vec(ch, 0..24).prop_map(|v| v.into_iter().filter(|c| *c != '\0').collect())
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(prop_config())]

        #[test]
        fn bash_reads_back_any_value(values in proptest::collection::vec(any_value(), 1..16)) {
            round_trip_values(Shell::BASH, shell_command(Shell::BASH), &values);
        }

        #[test]
        fn zsh_reads_back_any_value(values in proptest::collection::vec(any_value(), 1..16)) {
            round_trip_values(Shell::ZSH, shell_command(Shell::ZSH), &values);
        }

        #[test]
        fn fish_reads_back_any_value(values in proptest::collection::vec(any_value(), 1..16)) {
            round_trip_values(Shell::FISH, shell_command(Shell::FISH), &values);
        }

        #[test]
        fn dash_reads_back_any_value(values in proptest::collection::vec(any_value(), 1..16)) {
            round_trip_values(Shell::POSIX, shell_command(Shell::POSIX), &values);
        }

        #[test]
        fn json_reads_back_any_value(values in proptest::collection::vec(any_value(), 1..8)) {
            let names = [env::URI, env::USERNAME, env::PASSWORD, env::TOKEN, env::SERVER_CERT, env::CLIENT_CERT, env::INSECURE_TLS, env::SERVER_NAME];
            let vars: Vec<EnvVar> =
                values.iter().zip(names).map(|(v, name)| EnvVar { name, value: Some(Secret::new(v.clone())) }).collect();
            let text = render_json(&vars);
            let back: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
            let want: std::collections::BTreeMap<String, String> =
                vars.iter().map(|v| (v.name.to_string(), v.value.as_ref().unwrap().expose().to_string())).collect();
            prop_assert_eq!(back, want);
        }

        #[test]
        fn pwsh_prints_ascii_that_reads_back(value in any_value()) {
            let line = Shell::PWSH.syntax().set_env(env::PASSWORD, &value);
            prop_assert!(line.is_ascii());
            prop_assert_eq!(pwsh_value(line.strip_suffix('\n').unwrap()), value);
        }

        #[test]
        fn every_renderer_takes_any_value(value in any_value()) {
            let vars = [EnvVar { name: env::PASSWORD, value: Some(Secret::new(value.clone())) }];
            for &shell in Shell::ALL {
                let _ = render_env(shell, &vars);
                let _ = render_state(shell, &value);
            }
            if let Ok(text) = render_dotenv(&vars) {
                prop_assert!(text.starts_with("MLFLOW_TRACKING_PASSWORD=") && text.ends_with('\n'));
            }
        }
    }
}

/// Whether `t` (its decimal digits) matches one glob of [`clock_blocks`]: digits, at most
/// one `[a-b]`, `?`s.
fn block_matches(glob: &str, t: u64) -> bool {
    let text = t.to_string();
    let mut chars = text.chars();
    let mut g = glob.chars().peekable();
    while let Some(c) = g.next() {
        let Some(d) = chars.next() else { return false };
        match c {
            '?' => {}
            '[' => {
                let (lo, _, hi, _) = (g.next().unwrap(), g.next(), g.next().unwrap(), g.next());
                if d < lo || d > hi {
                    return false;
                }
            }
            _ if c != d => return false,
            _ => {}
        }
    }
    chars.next().is_none()
}

#[test]
fn clock_blocks_cover_now_to_the_refresh_time_and_never_past_it() {
    let mut rng = fastrand::Rng::with_seed(21);
    let mut cases =
        vec![(1_796_644_498, 1_796_648_038), (1_796_649_998, 1_796_653_538), (1_799_999_990, 1_800_000_010)];
    for _ in 0..300 {
        let now = rng.u64(1_000_000_000..9_999_000_000);
        cases.push((now, now + rng.u64(1..20_000)));
    }
    for (now, due) in cases {
        let blocks = clock_blocks(now, due);
        assert!(blocks.len() <= 2 * 10, "{now}..{due}: {blocks:?}");
        assert!(block_matches(&blocks[0], now), "{now}..{due}: the first block {} misses now", blocks[0]);
        let mut last = 0;
        for t in now.saturating_sub(50)..due + 50 {
            let hits: Vec<usize> = (0..blocks.len()).filter(|&i| block_matches(&blocks[i], t)).collect();
            assert!(hits.len() <= 1, "{t}: in two blocks of {blocks:?}");
            if t >= due {
                assert!(hits.is_empty(), "{t} is not before the refresh time {due}, yet in {blocks:?}");
            } else if t >= now {
                let i = *hits.first().unwrap_or_else(|| panic!("{t} (before {due}) is in no block of {blocks:?}"));
                assert!(i >= last, "{t}: blocks out of time order: {blocks:?}");
                last = i;
            }
        }
    }
    // Each first block is as wide as the refresh time allows.
    assert_eq!(clock_blocks(1_796_644_498, 1_796_648_038), ["179664[4-7]???", "17966480[0-2]?", "179664803[0-7]"]);
    assert!(clock_blocks(1_796_644_498, 1_796_644_498).is_empty());
}

/// Real bash, a token due in an hour: the unchanged prompt matches the clock's block and
/// never enters `__mll_changed`; once the clock left the block, the next prompt moves to the
/// block that holds it without running `mlflow-login`; past the refresh time it runs
/// `hook-env` once.
#[test]
fn bash_moves_through_the_clock_blocks_and_runs_hook_env_only_past_the_refresh_time() {
    require("bash", "bash");
    let dir = tempfile::tempdir().unwrap();
    let (program, state, log) = (dir.path().join("mlflow-login"), dir.path().join("state"), dir.path().join("runs"));
    std::fs::write(&program, format!("#!/bin/sh\necho hook-env >>'{}'\n", log.display())).unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(&state, "1.2.3\n").unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let due = now + 3600;
    let mut script =
        render_init(Shell::BASH, &InitOptions { program: &program, state_file: &state, ..init_opts() }).unwrap();
    script.push_str(&render_state(Shell::BASH, "1.2.3"));
    script.push_str(&render_due(Shell::BASH, Some(due), Now { unix: now, uptime: None }));
    script.push_str(
        r#"__mll_hook
eval "$(declare -f __mll_changed | sed '1s/__mll_changed/__mll_changed_real/')"
calls=0
__mll_changed() { ((calls += 1)); __mll_changed_real "$@"; }
for _ in 1 2 3 4 5 6 7 8 9 10; do __mll_hook; done
echo "unchanged:$calls"
__mll_when='000000000?'
__mll_hook
echo "moved:$calls:$EPOCHSECONDS:$__mll_when"
__mll_hook
echo "then:$calls"
__mll_due=$((EPOCHSECONDS - 1)) __mll_when='000000000?'
__mll_hook
echo "due:$calls"
"#,
    );
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-s"]).current_dir(dir.path());
    let out = run_with_stdin(cmd, script.as_bytes());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && out.stderr.is_empty(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let line =
        |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("no {key} in {text}"));
    assert_eq!(line("unchanged:"), "0", "the unchanged prompt entered __mll_changed");
    let moved: Vec<&str> = line("moved:").split(':').collect();
    assert_eq!(moved[0], "1");
    let clock: u64 = moved[1].parse().unwrap();
    assert!(block_matches(moved[2], clock), "{} does not hold {clock}", moved[2]);
    assert!(clock_blocks(now, due).iter().any(|b| b == moved[2]), "{} is not a block of {now}..{due}", moved[2]);
    assert_eq!(line("then:"), "1", "the prompt after the move entered __mll_changed again");
    assert_eq!(line("due:"), "2");
    let runs = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(runs.lines().count(), 1, "hook-env runs: {runs:?} (only the prompt past the refresh time runs it)");
}

/// `/proc/uptime`'s characters at `picks`, one a word, as fish's prompt compares them.
fn uptime_words(uptime: u64, picks: &[usize]) -> String {
    let text: Vec<char> = format!("{uptime}.42 1234.56").chars().collect();
    picks.iter().filter_map(|&p| text.get(p - 1)).map(|c| c.to_string()).collect::<Vec<_>>().join(" ")
}

#[test]
fn uptime_blocks_hold_now_and_never_reach_the_refresh_time() {
    let mut rng = fastrand::Rng::with_seed(19);
    let mut cases = vec![(13_386, 16_926), (9_990, 10_500), (99_990, 100_027), (5, 32)];
    for _ in 0..300 {
        let now = rng.u64(1..2_000_000);
        cases.push((now, now + rng.u64(1..20_000)));
    }
    for (now, due) in cases {
        let Some((picks, blocks)) = uptime_blocks(now, due) else {
            assert!(due - now < 2, "{now}..{due}: no block");
            continue;
        };
        assert_eq!(uptime_words(now, &picks), blocks[0], "{now}..{due}: the first block misses now");
        // Every second up to the refresh time and a little after, then samples up to a hundred
        // times it (more digits: the `.` keeps a block from matching them).
        let later = (0..2000).map(|_| rng.u64(due..due * 100 + 100));
        for t in (now..due + 50).chain(later) {
            let words = uptime_words(t, &picks);
            if t >= due {
                assert!(!blocks.contains(&words), "{t} (not before {due}) is in a block of {now}..{due}: {words}");
            } else {
                // Before the refresh time: in a block, or in the last stretch the blocks leave
                // out, or of more digits than now (the hook then compares in full).
                let longer = t.to_string().len() > now.to_string().len();
                assert!(
                    blocks.contains(&words) || words > *blocks.last().unwrap() || longer,
                    "{t} before {due}: {words} in no block"
                );
            }
        }
    }
}
