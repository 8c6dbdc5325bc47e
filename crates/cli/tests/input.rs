//! Bad input gets a clear error and loses nothing: damaged config, credentials in the URL,
//! invalid names, a keychain that is absent or hangs.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::*;

#[test]
fn damaged_config_is_reported_with_line_and_kept() {
    let w = World::new();
    std::fs::create_dir_all(w.config_dir()).unwrap();
    let file = w.config_dir().join("config.toml");
    let bad = "active = \"prod\"\n[servers.prod]\nurl = https://h\n";
    std::fs::write(&file, bad).unwrap();
    for args in [&["list"][..], &["use", "prod"], &["env"]] {
        let out = w.run(args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(stderr(&out).contains("config.toml:3"), "{}", text(&out));
    }
    let out = w.login("x", "https://h", "a", "pw", &["--no-verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), bad, "a damaged config must never be rewritten");
}

#[test]
fn credentials_in_the_url_are_refused() {
    let w = World::new();
    let out = w.login("x", "https://alice:hunter2@mlflow.example.com", "alice", "pw", &["--no-verify"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("credentials"), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[test]
fn invalid_names_and_usernames() {
    let w = World::new();
    for (name, user) in [("-x", "a"), ("a b", "a"), ("ok", "a:b")] {
        let out = w.login(name, "https://h", user, "pw", &["--no-verify"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
    assert!(!w.config_dir().join("config.toml").exists());
}

#[test]
fn plain_http_to_a_remote_host_is_warned_about() {
    let w = World::new();
    let out = w.login("x", "http://mlflow.example.com", "a", "pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stderr(&out).contains("unencrypted"), "{}", text(&out));
}

#[test]
fn unknown_server_and_no_active_server() {
    let w = World::new();
    let out = w.run(&["env"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("no server is configured"), "{}", text(&out));
    let out = w.run(&["use", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("no server named \"nope\""), "{}", text(&out));
}

#[test]
fn no_secret_service_is_exit_5_and_changes_nothing() {
    let w = World::new();
    let out = w
        .cmd()
        .args(["login", "x", "--url", "https://h", "--username", "a", "--password-stdin", "--no-verify"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"pw")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(stderr(&out).contains("keychain"), "{}", text(&out));
    assert!(stderr(&out).contains("help:"), "{}", text(&out));
    assert!(!w.config_dir().join("config.toml").exists());
}

#[test]
fn hanging_secret_service_times_out_with_exit_5() {
    // A "bus" that accepts the connection and never says a word.
    let w = World::new();
    let sock = w.dir.path().join("hang.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            let mut s2 = s.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 256];
                while s2.read(&mut buf).is_ok_and(|n| n > 0) {}
            });
            held.push(s);
        }
    });
    let out = w
        .cmd()
        .args(["list"])
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", sock.display()))
        .env("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT", "2")
        .output()
        .unwrap();
    // `list` still lists (from the config), and warns that the keychain did not answer.
    assert!(out.status.success(), "{}", text(&out));
    std::fs::create_dir_all(w.config_dir()).unwrap();
    std::fs::write(
        w.config_dir().join("config.toml"),
        "active = \"x\"\n[servers.x]\nurl = \"https://h\"\nusername = \"a\"\n",
    )
    .unwrap();
    let out = w
        .cmd()
        .args(["env"])
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", sock.display()))
        .env("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(stderr(&out).contains("did not answer within 2 s"), "{}", text(&out));
}

#[test]
fn locked_keychain_is_exit_5_without_a_display() {
    // A nested private keyring, locked, in a session with no display: no unlock prompt
    // can appear, so the call must fail fast with the fix, not hang.
    require_keyring();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = format!(
        r#"set -e
export MLFLOW_LOGIN_CONFIG_DIR=$HOME/cfg MLFLOW_LOGIN_KEYCHAIN_PREFIX=mll-lock:
printf pw | {bin} login x --url https://h --username a --password-stdin --no-verify >/dev/null
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
unset DISPLAY WAYLAND_DISPLAY
set +e
{bin} env x >/dev/null 2>$HOME/err; echo "rc=$?"; cat $HOME/err"#,
        bin = BIN
    );
    let out = std::process::Command::new(root.join("tests/fixtures/with-keyring.sh"))
        .args(["bash", "-c", &script])
        .env("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT", "10")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(stdout(&out).contains("rc=5"), "{all}");
    assert!(stdout(&out).contains("the keychain is locked"), "{all}");
    assert!(stdout(&out).contains("help: unlock"), "{all}");
}

// The process's surroundings. The CLI has its own entry point instead of std's start-up
// (crates/cli/src/main.rs); these pin what it keeps and what it changes.

/// `bash -c SCRIPT` with this world's config and keychain, and `$BIN` the CLI.
fn bash(w: &World, script: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-c", script])
        .env("BIN", BIN)
        .env("MLFLOW_LOGIN_CONFIG_DIR", w.config_dir())
        .env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &w.prefix);
    cmd
}

#[test]
fn closed_stdout_never_lands_in_the_config() {
    // Started with stdout closed, the next file or socket the CLI opens (the keychain's
    // D-Bus connection, the config) would get descriptor 1 and receive what it prints,
    // unless 0-2 are held first (by /dev/null). Without that, `login` here dies of SIGPIPE.
    let w = World::new();
    let closed = |script: &str| {
        let out = bash(&w, script).output().unwrap();
        assert!(out.status.success(), "{script}: {}", text(&out));
    };
    for name in ["a", "b"] {
        closed(&format!(
            r#"printf pw | "$BIN" login {name} --url http://127.0.0.1:9/{name} --username u --password-stdin --no-verify >&-"#
        ));
    }
    closed(r#""$BIN" use b >&- 2>&-"#);
    let config = std::fs::read_to_string(w.config_dir().join("config.toml")).unwrap();
    for printed in ["logged in", "active server", "warning"] {
        assert!(!config.contains(printed), "output went into the config:\n{config}");
    }
    let list = w.list_json();
    let active: Vec<_> = list.as_array().unwrap().iter().filter(|s| s["active"] == true).collect();
    assert_eq!(active.len(), 1, "{list}");
    assert_eq!(active[0]["name"], "b", "{list}");
}

/// SigIgn of /proc/PID/status has SIGPIPE (13) set.
fn ignores_sigpipe(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).unwrap().trim();
    u64::from_str_radix(mask, 16).unwrap() & (1 << 12) != 0
}

#[cfg(target_os = "linux")]
#[test]
fn start_up_holds_closed_descriptors_and_ignores_sigpipe() {
    // Started with stdout closed, the running CLI has /dev/null as descriptor 1 and ignores
    // SIGPIPE (a server closing the connection is then an error, not a silent death), as
    // std's start-up would have made it.
    let w = World::new();
    let script = r#"exec "$BIN" login x --url http://127.0.0.1:9 --username u --password-stdin --no-verify >&-"#;
    let mut child =
        bash(&w, script).stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    // Waiting for the password: bash has become the CLI, past its start-up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_link(format!("/proc/{pid}/fd/1")).ok().as_deref() != Some(std::path::Path::new("/dev/null")) {
        assert!(std::time::Instant::now() < deadline, "descriptor 1 of the CLI never became /dev/null");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(ignores_sigpipe(pid), "the CLI does not ignore SIGPIPE");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"pw").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[cfg(target_os = "linux")]
#[test]
fn exec_gives_the_command_default_sigpipe_and_dev_null_for_closed_descriptors() {
    let w = World::new();
    let out = w.login("x", "http://127.0.0.1:9", "u", "pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    // The command reports on stderr; the CLI starts with stdout closed.
    let report = "import os, sys\n\
        ignored = int(open('/proc/%d/status' % os.getppid()).read().split('SigIgn:')[1].split()[0], 16)\n\
        print(os.readlink('/proc/self/fd/1'), bool(ignored & (1 << 12)), file=sys.stderr)\n";
    // sh: SIGPIPE as it was at exec (python ignores SIGPIPE itself), python: its stdout.
    let script = r#"exec "$BIN" exec x -- sh -c '"$0" -c "$1"; exit' /usr/bin/python3 "$REPORT" >&-"#;
    let out = bash(&w, script).env("REPORT", report).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stderr(&out).trim(), "/dev/null False", "want: stdout /dev/null, SIGPIPE not ignored");
}
