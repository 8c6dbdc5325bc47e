use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use mlflow_login_core::{Activate, AuthKind, OutcomeClass, Secret, Server, VerifyOptions, server};

use super::{Run, logins, runtime};
use crate::failure::{self, Failure};
use crate::ui;

/// Log in to a server: checks the password against the server, then stores it in the
/// OS keychain. The first server you log in to becomes the active one.
///
/// The password is asked for without echo, or read from standard input with
/// --password-stdin; it is never taken from the command line.
///
///   mlflow-login login prod --url https://mlflow.example.com --username alice
///   printf '%s' "$PW" | mlflow-login login prod --url URL --username alice --password-stdin
///   mlflow-login login prod        # a new password for a known server
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Login {
    /// A short name for the server, e.g. prod (default: the active server).
    name: Option<String>,
    /// The tracking URL, e.g. https://mlflow.example.com or https://host/mlflow.
    #[arg(long)]
    url: Option<String>,
    /// Your username on that server.
    #[arg(long, short)]
    username: Option<String>,
    /// Read the password (or token) from standard input instead of asking.
    #[arg(long)]
    password_stdin: bool,
    /// How the server authenticates: basic (username + password) or bearer (a token).
    #[arg(long, value_enum)]
    auth: Option<AuthArg>,
    /// A PEM file of CA certificates to trust for this server (a private CA).
    #[arg(long, value_name = "PEM")]
    ca_bundle: Option<PathBuf>,
    /// A PEM file with a client certificate and its key, if the server asks for one.
    #[arg(long, value_name = "PEM")]
    client_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (unsafe; shown as a warning).
    #[arg(long)]
    insecure_tls: bool,
    /// Store the password without checking it against the server.
    #[arg(long)]
    no_verify: bool,
    /// Make this server the active one.
    #[arg(long = "use")]
    make_active: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AuthArg {
    Basic,
    Bearer,
}

impl Run for Login {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let name = match &self.name {
            Some(n) => n.clone(),
            None => config.resolve(None)?.0,
        };
        server::validate_name(&name)?;
        let known = config.servers.get(&name).cloned();
        let server = self.server(known.as_ref())?;
        for w in server.warnings() {
            ui::warning(w.message());
        }
        let secret = read_secret(&server, self.password_stdin)?;

        if self.no_verify {
            ui::warning("the password was not checked against the server (--no-verify)");
        } else {
            let v = runtime()?.block_on(mlflow_login_core::verify(&server, Some(&secret), &VerifyOptions::default()));
            if v.outcome.class() != OutcomeClass::Ok {
                let mut f = Failure::new(
                    failure::code_of_class(v.outcome.class()),
                    format!("could not verify credentials for \"{name}\" ({})", server.url),
                )
                .cause(v.outcome.summary())
                .cause("nothing was stored");
                f.help = v.outcome.help();
                return Err(f);
            }
            let version = v.server_version.map(|s| format!("MLflow {s}, ")).unwrap_or_default();
            eprintln!("verified: {} accepted the credentials ({version}{} ms)", server.host_display(), v.latency_ms);
        }

        let activate = if self.make_active { Activate::Yes } else { Activate::IfNone };
        let saved = logins
            .save(&name, server.clone(), Some(&secret), activate)
            .map_err(|e| Failure::context(format!("could not save the login for \"{name}\""), e))?;
        let who = server.username.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
        let what = if saved.created { "added" } else { "updated" };
        println!("logged in to {name}{who} ({what}; password stored in the keychain)");
        if saved.active {
            println!("{name} is the active server");
        } else {
            println!("to use it: mlflow-login use {name}");
        }
        Ok(())
    }
}

impl Login {
    /// The server settings: the known server's, overridden by the flags.
    fn server(&self, known: Option<&Server>) -> Result<Server, Failure> {
        let url = match (&self.url, known) {
            (Some(u), _) => u.clone(),
            (None, Some(k)) => k.url.clone(),
            (None, None) => {
                return Err(Failure::usage("a new server needs --url")
                    .help("mlflow-login login NAME --url https://mlflow.example.com --username USER"));
            }
        };
        let auth = match (self.auth, known) {
            (Some(AuthArg::Basic), _) => AuthKind::Basic,
            (Some(AuthArg::Bearer), _) => AuthKind::Bearer,
            (None, Some(k)) => k.auth,
            (None, None) => AuthKind::Basic,
        };
        let username = self.username.clone().or_else(|| known.and_then(|k| k.username.clone()));
        if auth == AuthKind::Basic && username.is_none() {
            return Err(Failure::usage("a new server needs --username"));
        }
        let mut server = match &username {
            Some(u) => Server::new_basic(&url, u)?,
            None => Server::new_basic(&url, "token")?,
        };
        server.username = username;
        server.auth = auth;
        server.ca_bundle =
            pem_path(self.ca_bundle.as_deref(), "ca_bundle")?.or(known.and_then(|k| k.ca_bundle.clone()));
        server.client_cert =
            pem_path(self.client_cert.as_deref(), "client_cert")?.or(known.and_then(|k| k.client_cert.clone()));
        server.insecure_tls = self.insecure_tls || known.is_some_and(|k| k.insecure_tls);
        server.validate()?;
        Ok(server)
    }
}

/// An absolute path to a readable file: the config is read from other folders later.
fn pem_path(path: Option<&Path>, field: &str) -> Result<Option<PathBuf>, Failure> {
    let Some(path) = path else { return Ok(None) };
    let abs = std::fs::canonicalize(path)
        .map_err(|e| Failure::usage(format!("--{}: cannot read {}: {e}", field.replace('_', "-"), path.display())))?;
    Ok(Some(abs))
}

/// The password from stdin (--password-stdin) or a no-echo prompt on the terminal.
fn read_secret(server: &Server, from_stdin: bool) -> Result<Secret, Failure> {
    let what = if server.auth == AuthKind::Bearer { "token" } else { "password" };
    let text = if from_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::usage(format!("cannot read the {what} from standard input: {e}")))?;
        // One trailing newline is the pipe's, not the password's (`echo PW | ...`).
        if buf.ends_with('\n') {
            buf.pop();
            if buf.ends_with('\r') {
                buf.pop();
            }
        }
        buf
    } else if std::io::stdin().is_terminal() || std::io::stderr().is_terminal() {
        let who = server.username.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        rpassword::prompt_password(format!("{} for {who}{}: ", capitalise(what), server.host_display()))
            .map_err(|e| Failure::usage(format!("cannot read the {what} from the terminal: {e}")))?
    } else {
        return Err(Failure::usage(format!("no terminal to ask for the {what}")).help(
            "pipe it in with --password-stdin, e.g. `printf '%s' \"$PW\" | mlflow-login login NAME --password-stdin`",
        ));
    };
    let secret = Secret::new(text);
    secret.validate().map_err(|m| Failure::usage(m.replace("password", what)))?;
    Ok(secret)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}
