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
fn bearer_token_that_would_break_a_header_is_refused_and_nothing_is_stored() {
    let w = World::new();
    let args = ["login", "t", "--url", "https://h", "--auth", "bearer", "--password-stdin", "--no-verify"];
    for token in ["abc\ndef", "abc\x01def", "abc def"] {
        let out = w.run_stdin(&args, token);
        assert_eq!(out.status.code(), Some(2), "{token:?}: {}", text(&out));
        assert!(stderr(&out).contains("RFC 6750"), "the rule is named: {}", text(&out));
        assert!(!w.config_dir().join("config.toml").exists(), "{token:?}: the server was saved");
        assert_eq!(w.keychain_entry("https://h", "bearer:"), None, "{token:?}: the token was stored");
    }
    // The same bytes are a fine Basic password.
    let out = w.login("b", "https://h", "alice", "abc\x01 def\nghi", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.keychain("https://h", "alice").as_deref(), Some("abc\x01 def\nghi"));
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

// The process's surroundings: what a closed or broken stdout, a hostile folder or a crash
// can do.

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
    // unless 0-2 are held first (std's start-up opens /dev/null on them).
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

/// Runs the CLI with stdout a pipe whose reader has exited (`mlflow-login env | true`).
fn run_into_a_broken_pipe(w: &World, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = w.cmd().args(args).stdout(writer).stderr(std::process::Stdio::piped()).output().unwrap();
    let all = text(&out);
    assert!(!stderr(&out).contains("panicked"), "{args:?}: {all}");
    // 101: a panic (debug builds); 134: SIGABRT, a panic in a release build.
    assert!(!matches!(out.status.code(), Some(101 | 134) | None), "{args:?}: {all}");
    out
}

#[test]
fn a_reader_that_went_away_ends_each_printing_command_quietly() {
    let w = World::new();
    let out = w.login("prod", "http://127.0.0.1:9", "u", "pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    for args in [
        &["env", "prod", "--shell", "bash"][..],
        &["env", "--format", "json"],
        &["credential", "--url", "http://127.0.0.1:9/api"],
        &["init", "bash"],
        &["list"],
        &["list", "--json"],
        &["doctor"],
        &["completions", "bash"],
    ] {
        run_into_a_broken_pipe(&w, args);
    }
    // The command still did its work, and says so in its exit code.
    let out = run_into_a_broken_pipe(&w, &["use", "--none"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(w.list_json().as_array().unwrap().iter().all(|s| s["active"] == false));
    let out = run_into_a_broken_pipe(&w, &["use", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("no server named \"nope\""), "{}", text(&out));
}

/// [`run_into_a_broken_pipe`] with `input` on stdin, `home` as HOME, in `dir`.
fn broken_pipe_with(
    w: &World,
    home: &std::path::Path,
    dir: &std::path::Path,
    args: &[&str],
    input: &str,
) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = w
        .cmd()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that does not read stdin may have exited: that is no failure of the test.
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let all = text(&out);
    assert!(!stderr(&out).contains("panicked"), "{args:?}: {all}");
    assert!(!matches!(out.status.code(), Some(101 | 134) | None), "{args:?}: {all}");
    out
}

/// Every command in `mlflow-login --help` (and the plugin's and the hook's hidden ones),
/// run with stdout a pipe whose reader has exited: none panics. A new command without a
/// row here fails the test.
#[test]
fn every_command_survives_a_reader_that_went_away() {
    let w = World::new();
    let home = w.dir.path().join("home");
    std::fs::create_dir_all(home.join("proj")).unwrap();
    // Something for import to find (its server does not answer: nothing is stored).
    std::fs::write(
        home.join(".bashrc"),
        "export MLFLOW_TRACKING_URI=http://127.0.0.1:9\nexport MLFLOW_TRACKING_USERNAME=u\nexport MLFLOW_TRACKING_PASSWORD=pw\n",
    )
    .unwrap();
    let team = home.join("servers.toml");
    std::fs::write(&team, "[servers.shared]\nurl = \"http://127.0.0.1:9/shared\"\nusername = \"u\"\n").unwrap();
    let team = team.to_str().unwrap();
    let rows: &[(&[&str], &str)] = &[
        (&["login", "prod", "--url", "http://127.0.0.1:9", "--username", "u", "--password-stdin", "--no-verify"], "pw"),
        (
            &["login", "tok", "--url", "http://127.0.0.1:9/t", "--auth", "bearer", "--password-stdin", "--no-verify"],
            "tk",
        ),
        (&["list"], ""),
        (&["list", "--json"], ""),
        (&["use", "prod"], ""),
        (&["status", "prod"], ""),
        (&["status", "--json"], ""),
        (&["env", "prod", "--shell", "bash"], ""),
        // The command replaces the CLI and gets the default SIGPIPE (tested on its own above).
        (&["exec", "prod", "--", "true"], ""),
        (&["token", "tok"], ""),
        (&["rename", "tok", "tok2"], ""),
        (&["remove", "tok2"], ""),
        (&["completions", "bash"], ""),
        (&["completions", "zsh"], ""),
        (&["completions", "fish"], ""),
        (&["init", "bash"], ""),
        (&["doctor"], ""),
        (&["project", "init", "prod"], ""),
        (&["import"], ""),
        (&["import", "--json"], ""),
        (&["import", "--forget-backups"], ""),
        (&["servers", "export"], ""),
        (&["servers", "import", team], ""),
        (&["credential", "--url", "http://127.0.0.1:9/api"], ""),
        (&["hook-env", "--shell", "bash"], ""),
        (&["workspaces", "prod"], ""),
        (&["proxy", "prod", "--port", "0"], ""),
        (&["passwd", "prod", "--password-stdin"], "a-new-password-42\n"),
        (&["logout", "prod"], ""),
        (&["--help"], ""),
        (&["--version"], ""),
    ];
    for (args, input) in rows {
        let dir = if args[0] == "project" { home.join("proj") } else { home.clone() };
        broken_pipe_with(&w, &home, &dir, args, input);
    }
    // Every visible command has a row.
    let help = w.run(&["--help"]);
    let listed = stdout(&help);
    let commands = listed
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help");
    for command in commands {
        assert!(rows.iter().any(|(args, _)| args[0] == command), "no closed-pipe row for `{command}`");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_holding_a_password_is_not_dumpable() {
    // The files in /proc/PID of a process that is not dumpable belong to root, not to the
    // user who runs it; so, under root, the CLI runs as another user (setpriv).
    use std::os::unix::fs::MetadataExt;
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    assert!(!as_root || which("setpriv"), "setpriv is missing: apt-get install util-linux");
    let w = World::new();
    let tmp = tempfile::tempdir().unwrap();
    let public = |p: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    public(tmp.path(), 0o777);
    let bin = tmp.path().join("mlflow-login");
    std::fs::copy(BIN, &bin).unwrap();
    public(&bin, 0o755);
    let mut cmd = std::process::Command::new(if as_root { "setpriv".as_ref() } else { bin.as_os_str() });
    if as_root {
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(&bin);
    }
    let mut child = cmd
        .args(["login", "x", "--url", "http://127.0.0.1:9", "--username", "u", "--password-stdin", "--no-verify"])
        .env("MLFLOW_LOGIN_CONFIG_DIR", tmp.path().join("config"))
        .env("MLFLOW_LOGIN_KEYCHAIN_PREFIX", &w.prefix)
        .env("HOME", tmp.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Waits until it is the CLI (setpriv execs it) and blocked reading the password.
    let proc_file = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/{f}")).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(proc_file("comm").trim() == "mlflow-login" && proc_file("wchan").ends_with("pipe_read")) {
        assert!(std::time::Instant::now() < deadline, "the CLI never waited for the password: {}", proc_file("wchan"));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let owner = std::fs::metadata(format!("/proc/{pid}/status")).unwrap().uid();
    let core_limit =
        proc_file("limits").lines().find(|l| l.starts_with("Max core file size")).unwrap_or_default().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(owner, 0, "/proc/{pid}/status belongs to uid {owner}: the process is dumpable");
    let soft = core_limit.split_whitespace().nth(4).unwrap_or_default();
    assert_eq!(soft, "0", "the core file size limit is not 0: {core_limit}");
}

#[test]
fn doctor_runs_no_python_code_from_the_current_folder() {
    // A cloned repository with modules named like the standard library's ones the plugin
    // probe imports (importlib.metadata), and a PYTHONPATH/PYTHONSTARTUP pointing into it.
    assert!(which("python3"), "python3 is missing: apt-get install python3");
    let w = World::new();
    let repo = w.dir.path().join("repo");
    let marker = w.dir.path().join("hijacked");
    std::fs::create_dir_all(repo.join("lib")).unwrap();
    let payload = format!("open({:?}, 'a').write(__name__ + '\\n')\n", marker.to_str().unwrap());
    for module in ["csv", "zipfile", "textwrap", "quopri", "tempfile", "pathlib", "sitecustomize", "usercustomize"] {
        std::fs::write(repo.join(format!("{module}.py")), &payload).unwrap();
        std::fs::write(repo.join("lib").join(format!("{module}.py")), &payload).unwrap();
    }
    std::fs::write(repo.join("startup.py"), &payload).unwrap();
    let out = w
        .cmd()
        .arg("doctor")
        .current_dir(&repo)
        .env("PYTHONPATH", repo.join("lib"))
        .env("PYTHONSTARTUP", repo.join("startup.py"))
        .env("PYTHONUSERBASE", &repo)
        .env_remove("MLFLOW_LOGIN_PYTHON")
        .output()
        .unwrap();
    let all = text(&out);
    let ran = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(ran.is_empty(), "doctor ran the folder's modules: {ran}\n{all}");
    // The probe itself still ran (and answered), in the same Python.
    assert!(
        stdout(&out).contains("plugin is not installed in python3")
            || stdout(&out).contains("plugin is installed in python3"),
        "{all}"
    );
}

#[cfg(unix)]
#[test]
fn every_file_and_folder_created_is_private_whatever_the_umask() {
    let w = World::new();
    // Parents that do not exist yet are created too.
    let dir = w.dir.path().join("a/b/config");
    let script = r#"umask 022
printf pw | "$BIN" login x --url http://127.0.0.1:9 --username u --password-stdin --no-verify
printf pw | "$BIN" login y --url http://127.0.0.1:9/y --username u --password-stdin --no-verify
"$BIN" use y && "$BIN" rename y z && "$BIN" status x; "$BIN" list"#;
    let out = bash(&w, script).env("MLFLOW_LOGIN_CONFIG_DIR", &dir).output().unwrap();
    assert!(stdout(&out).contains("z "), "{}", text(&out));
    use std::os::unix::fs::PermissionsExt;
    let mut seen = Vec::new();
    let mut stack = vec![w.dir.path().join("a")];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "folder {} is {mode:o}", p.display());
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "file {} is {mode:o}", p.display());
        }
        seen.push(name);
    }
    for expected in ["config.toml", "state", "config.lock"] {
        assert!(seen.iter().any(|n| n == expected), "{expected} not created: {seen:?}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn exec_gives_the_command_its_core_limit_back() {
    let w = World::new();
    let out = w.login("x", "http://127.0.0.1:9", "u", "pw", &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let script = r#"ulimit -S -c 4096; sh -c 'ulimit -c'; "$BIN" exec x -- sh -c 'ulimit -c'"#;
    let out = bash(&w, script).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{}", text(&out));
    assert_eq!(lines[0], lines[1], "the command's core limit differs from its shell's: {}", text(&out));
    assert_ne!(lines[1], "0", "{}", text(&out));
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
