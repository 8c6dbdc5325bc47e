use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mlflow_login_core::choose::{self, Choice};
use mlflow_login_core::oidc::trust::{self, IssuerSource};
use mlflow_login_core::oidc::{Flow, Interaction, LoginOptions, Prompt};
use mlflow_login_core::pat::{self, Replace};
use mlflow_login_core::server::normalize_url;
use mlflow_login_core::{
    Activate, AuthKind, Change, Config, Error, ErrorKind, KeyringVault, LoginInput, LoginMode, LoginReport, Logins,
    OutcomeClass, Secret, Server, SsoSettings, SsoSignIn, VerifyOptions, log_in, log_in_sso,
};

use super::{Run, logins, runtime};
use crate::failure::{self, Failure};
use crate::ui;

/// Log in to a server: checks the password against the server, then stores it in the
/// OS keychain. The first server you log in to becomes the active one.
///
/// The password is asked for without echo, or read from standard input with
/// --password-stdin; it is never taken from the command line. Logging in again to a known
/// server keeps its settings (auth kind, CA bundle, client certificate, insecure TLS)
/// unless a flag changes them; a URL on another host does not keep the TLS settings.
///
///   mlflow-login login prod --url https://mlflow.example.com --username alice
///   printf '%s' "$PW" | mlflow-login login prod --url URL --username alice --password-stdin
///   mlflow-login login prod        # a new password for a known server
///   mlflow-login login prod --url https://new-host/mlflow --update   # move a known server
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Login {
    /// A short name for the server, e.g. prod (default: the server this folder's project
    /// file selects, else the one pinned in this shell, else the active one).
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
    #[arg(long, value_name = "PEM", conflicts_with = "no_ca_bundle")]
    ca_bundle: Option<PathBuf>,
    /// Stop using the server's CA bundle.
    #[arg(long)]
    no_ca_bundle: bool,
    /// A PEM file with a client certificate and its key, if the server asks for one.
    #[arg(long, value_name = "PEM", conflicts_with = "no_client_cert")]
    client_cert: Option<PathBuf>,
    /// Stop sending the server's client certificate.
    #[arg(long)]
    no_client_cert: bool,
    /// Do not verify the server's TLS certificate (unsafe; shown as a warning).
    #[arg(long, conflicts_with = "no_insecure_tls")]
    insecure_tls: bool,
    /// Verify the server's TLS certificate again (turns --insecure-tls off).
    #[arg(long)]
    no_insecure_tls: bool,
    /// Change the settings of a known server, also to a URL other than its own.
    #[arg(long)]
    update: bool,
    /// Store the password without checking it against the server.
    #[arg(long)]
    no_verify: bool,
    /// Make this server the active one.
    #[arg(long = "use")]
    make_active: bool,
    /// Single sign-on: sign in through your company's identity provider (same as --auth sso).
    #[arg(long)]
    sso: bool,
    /// SSO: the identity provider's issuer URL (default: found from the server).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// SSO: the OAuth client id registered for MLflow Login (default: found from the server).
    // Generated client ids may start with "-" (oidc-provider's and others' alphabets hold it).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    client_id: Option<String>,
    /// SSO: a scope to ask for (repeat for several; default: openid offline_access).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// SSO: a fixed loopback port for the browser's redirect (http://127.0.0.1:PORT/callback),
    /// for an identity provider that requires the exact redirect URI; kept for the next
    /// login (default: a free port picked for each sign-in; 0 goes back to that).
    #[arg(long, value_name = "PORT")]
    redirect_port: Option<u16>,
    /// SSO: sign in with a code on another device (the default over SSH or without a display).
    #[arg(long, conflicts_with = "no_browser")]
    device: bool,
    /// SSO: sign in with the browser flow, printing the sign-in URL but not opening a browser
    /// (e.g. over SSH with `ssh -L PORT:127.0.0.1:PORT` and --redirect-port PORT).
    #[arg(long)]
    no_browser: bool,
    /// SSO: sign in at the identity provider a project file or a team list names without
    /// asking, even when its domain is not the server's (for scripts; check it first).
    #[arg(long)]
    trust_issuer: bool,
    /// SSO: after signing in, mint a personal access token (mlflow-oidc-auth) and store it
    /// as this server's Basic password, for R, Java, curl and CI; renewed at 80 % of its life.
    #[arg(long, requires = "sso")]
    personal_token: bool,
    /// The personal access token's lifetime in days (1 to 366).
    #[arg(long, value_name = "N", default_value_t = pat::DEFAULT_DAYS, requires = "personal_token")]
    days: u32,
    /// Replace a personal access token you already have that MLflow Login did not mint
    /// (minting revokes it wherever it is used; without a terminal to ask, this confirms).
    #[arg(long, requires = "personal_token")]
    replace_token: bool,
    /// SSO: how long to wait for the sign-in, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuthArg {
    Basic,
    Bearer,
    Sso,
}

impl Run for Login {
    fn run(self) -> Result<(), Failure> {
        let logins = Arc::new(logins()?);
        let config = logins.config()?;
        let name = match &self.name {
            Some(n) => n.clone(),
            None => super::project::resolve(&config, None)?.0,
        };
        let known = config.servers.get(&name);
        let mode = self.mode(known);
        let mut input = self.input(name.clone(), mode);
        let plan = input.plan(known).map_err(|e| self.refusal(&name, known, e))?;
        for w in plan.server.warnings() {
            ui::warning(w.message());
        }
        for setting in &plan.dropped {
            ui::note(format!(
                "{} was not kept: it was set for {}, not for {} (give it again to keep it)",
                setting.label(),
                known.map(Server::host_display).unwrap_or_default(),
                plan.server.host_display()
            ));
        }
        let report = if plan.server.auth == AuthKind::Sso {
            self.confirm_issuer(&config, known, &input, &plan.server)?;
            self.sso(&logins, input)
        } else {
            input.secret = read_secret(&plan.server, self.password_stdin)?;
            if self.no_verify {
                ui::warning("the password was not checked against the server (--no-verify)");
            }
            runtime()?.block_on(log_in(&logins, input, &VerifyOptions::default()))
        }
        .map_err(|e| match e.kind() {
            ErrorKind::Cancelled => {
                Failure::new(failure::CANCELLED, format!("the sign-in to \"{name}\" was cancelled; nothing was stored"))
            }
            _ if matches!(&e, Error::InvalidInput { field, .. } if *field == pat::NOT_REPLACED_FIELD) => {
                let help = if std::io::stdin().is_terminal() {
                    "to replace it, log in again and answer yes"
                } else {
                    "to replace it without a terminal to ask, add --replace-token"
                };
                Failure::from(e).help(help)
            }
            _ => Failure::context(format!("could not save the login for \"{name}\""), e),
        })?;
        let server = &report.server;
        if let Some(v) = &report.verification {
            if v.class() != OutcomeClass::Ok {
                let mut f = Failure::new(
                    failure::code_of_class(v.class()),
                    format!("could not verify credentials for \"{name}\" ({})", server.url),
                )
                .cause(v.outcome.summary())
                .cause("nothing was stored");
                f.help = v.outcome.help();
                return Err(f);
            }
            let version = v.server_version.as_deref().map(|s| format!("MLflow {s}, ")).unwrap_or_default();
            errln!("verified: {} accepted the credentials ({version}{} ms)", server.host_display(), v.latency_ms);
        }
        let saved = report.saved.unwrap_or(mlflow_login_core::Saved { created: false, active: false });
        let who = server.username.as_deref().map(|u| format!(" as {u}")).unwrap_or_default();
        let what = if saved.created { "added" } else { "updated" };
        let secret = if server.personal_token.is_some() { "personal access token" } else { server.auth.secret_noun() };
        outln!("logged in to {name}{who} ({what}; {secret} stored in the keychain)")?;
        if saved.active {
            outln!("{name} is the active server")?;
        } else {
            outln!("to use it: mlflow-login use {name}")?;
        }
        Ok(())
    }
}

impl Login {
    /// Single sign-on: core finds the identity provider and runs the flow; this prints the
    /// URL (always) or the device code, opens the browser unless told not to, and ends the
    /// wait on Ctrl-C. With --personal-token, core then mints the token.
    fn sso(&self, logins: &Arc<Logins<KeyringVault>>, input: LoginInput) -> mlflow_login_core::Result<LoginReport> {
        if self.no_verify || self.password_stdin {
            ui::warning(
                "--no-verify and --password-stdin do not apply to single sign-on; the tokens are always checked",
            );
        }
        let asked = match (self.device, self.no_browser) {
            (true, _) => Some(Flow::Device),
            (false, true) => Some(Flow::Browser),
            (false, false) => None,
        };
        let flow = Flow::asked_or_default(asked);
        let ui = Terminal { open_browser: !self.no_browser && !self.device };
        let sign_in = SsoSignIn { flow, ui: &ui };
        let sso_opts = LoginOptions { timeout: Duration::from_secs(self.timeout.max(1)), ..LoginOptions::default() };
        let cancel = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let rt = runtime().map_err(|f| mlflow_login_core::Error::IdentityProvider(f.message))?;
        let opts = VerifyOptions::default();
        if !self.personal_token {
            return rt.block_on(log_in_sso(logins, input, sign_in, cancel, &sso_opts, &opts));
        }
        // Then a personal access token (core's `pat`): the question about a token the user
        // already has is asked at a terminal, else --replace-token answers it.
        pat::validate_days(self.days)?;
        let ask = |existing: &pat::Existing| {
            let expires = existing.expires_at.as_deref().map(|e| format!(", expires {e}")).unwrap_or_default();
            let used = existing.last_used_at.as_deref().map(|u| format!(", last used {u}")).unwrap_or_default();
            ui::line(format_args!(
                "you already have a personal access token on this server (\"{}\"{expires}{used}) that MLflow Login did not mint; a new one revokes it wherever it is used",
                existing.name
            ));
            ui::ask("replace it? [y/N] ").is_ok_and(|a| matches!(a.trim(), "y" | "Y" | "yes"))
        };
        let replace = if self.replace_token {
            Replace::Yes
        } else if std::io::stdin().is_terminal() {
            Replace::Ask(&ask)
        } else {
            Replace::Refuse
        };
        let minting = pat::Minting { days: self.days, replace };
        let report = rt.block_on(mlflow_login_core::login::log_in_personal_token(
            logins, input, sign_in, cancel, &sso_opts, &opts, minting,
        ))?;
        if let Some(token) = report.token {
            errln!(
                "minted a personal access token, valid until {} (renewed from {} by the next command that uses it)",
                pat::date(token.expires_at),
                pat::date(token.renew_at())
            );
        }
        Ok(report.login)
    }

    /// Core's rule ([`trust`]): an identity provider that a project file or a team list
    /// named, on a domain that is not the server's, is signed in at only with the user's
    /// yes (asked at a terminal, else --trust-issuer). Refused: nothing is stored and no
    /// browser opens.
    fn confirm_issuer(
        &self,
        config: &Config,
        known: Option<&Server>,
        input: &LoginInput,
        server: &Server,
    ) -> Result<(), Failure> {
        let project = match choose::choose_here(config).choice {
            Choice::Project { project, .. } => Some(project),
            _ => None,
        };
        let source = IssuerSource::of(&input.sso, &server.url, project.as_deref(), known.and_then(|k| k.sso.as_ref()));
        let Some(foreign) = trust::confirmation(server, source) else {
            return Ok(());
        };
        if self.trust_issuer {
            return Ok(());
        }
        let what = foreign.reason();
        if std::io::stdin().is_terminal() {
            ui::line(format_args!("{what}"));
            let answer = ui::ask(&format!("sign in at {} for {}? [y/N] ", foreign.issuer, foreign.server_host))?;
            if matches!(answer.trim(), "y" | "Y" | "yes") {
                return Ok(());
            }
            return Err(Failure::new(failure::OTHER, "not signed in; nothing was stored"));
        }
        Err(Failure::usage(format!("{what}; no terminal to ask whether to sign in there"))
            .cause("nothing was stored")
            .help("if this identity provider is your company's, confirm it with --trust-issuer"))
    }

    /// Add for a new name; edit for a known one, unless the URL given is another one (then
    /// the user may have meant a new server: adding refuses, and says how to update).
    fn mode(&self, known: Option<&Server>) -> LoginMode {
        let same_url = |k: &Server| {
            self.url.as_deref().is_none_or(|u| normalize_url(u).is_ok_and(|u| u.to_string_normalized() == k.url))
        };
        match known {
            Some(_) if self.update => LoginMode::Edit,
            Some(k) if same_url(k) => LoginMode::Edit,
            Some(_) => LoginMode::Add,
            None if self.update => LoginMode::Edit,
            None => LoginMode::Add,
        }
    }

    /// The flags as core's login input (the secret is read once the server is known).
    fn input(&self, name: String, mode: LoginMode) -> LoginInput {
        let toggle = |on: bool, off: bool| (on || off).then_some(on);
        let file =
            |set: &Option<PathBuf>, clear: bool| if clear { Change::Clear } else { Change::set_or_keep(set.clone()) };
        LoginInput {
            name,
            mode,
            url: self.url.clone(),
            username: Change::set_or_keep(self.username.clone()),
            auth: match (self.sso, self.auth) {
                (true, _) | (_, Some(AuthArg::Sso)) => Some(AuthKind::Sso),
                (_, Some(AuthArg::Basic)) => Some(AuthKind::Basic),
                (_, Some(AuthArg::Bearer)) => Some(AuthKind::Bearer),
                (false, None) => None,
            },
            sso: SsoSettings {
                issuer: self.issuer.clone(),
                client_id: self.client_id.clone(),
                scopes: self.scopes.clone(),
                redirect_port: self.redirect_port,
                from_team_list: false,
            },
            ca_bundle: file(&self.ca_bundle, self.no_ca_bundle),
            client_cert: file(&self.client_cert, self.no_client_cert),
            insecure_tls: toggle(self.insecure_tls, self.no_insecure_tls),
            secret: Secret::new(String::new()),
            verify: !self.no_verify,
            activate: if self.make_active { Activate::Yes } else { Activate::IfNone },
        }
    }

    /// Core's refusal, with the CLI's way out.
    fn refusal(&self, name: &str, known: Option<&Server>, err: Error) -> Failure {
        let name_taken = matches!(err, Error::InvalidInput { field: "name", .. });
        let new_needs = matches!(err, Error::InvalidInput { field: "url" | "username", .. }) && known.is_none();
        let mut f = Failure::from(err);
        if name_taken && let Some(k) = known {
            f = f.cause(format!("\"{name}\" logs in to {}", k.url)).help(format!(
                "to point \"{name}\" at the new URL, add --update; to keep both, choose another name; to log in to {} again: mlflow-login login {name}",
                k.url
            ));
        } else if new_needs {
            f = f.help("mlflow-login login NAME --url https://mlflow.example.com --username USER");
        }
        f
    }
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

/// The terminal's side of a single sign-on: the URL or the device code on stderr.
struct Terminal {
    open_browser: bool,
}

impl Interaction for Terminal {
    fn show(&self, prompt: Prompt<'_>) {
        match prompt {
            Prompt::SigningIn { issuer, host } => errln!("signing in at {issuer} for {host}"),
            Prompt::OpenBrowser { url } => {
                errln!("Sign in to your identity provider in the browser:\n  {url}");
                if self.open_browser
                    && let Err(e) = open_browser(url)
                {
                    ui::warning(format!("could not open a browser ({e}): open the URL above yourself"));
                }
                errln!("waiting for the sign-in to finish (Ctrl-C to cancel)...");
            }
            Prompt::DeviceCode { verification_uri, verification_uri_complete, user_code, expires_in } => {
                errln!("To sign in, open {verification_uri} on any device");
                errln!("and enter the code: {user_code}");
                if let Some(complete) = verification_uri_complete {
                    errln!("(or open {complete})");
                }
                errln!("waiting up to {} min (Ctrl-C to cancel)...", expires_in.as_secs().div_ceil(60));
            }
            _ => {}
        }
    }
}

/// Starts `$BROWSER` (its first entry), else the desktop's opener, and does not wait for it.
pub(crate) fn open_browser(url: &str) -> std::io::Result<()> {
    let browser = std::env::var("BROWSER").ok().and_then(|b| b.split(':').next().map(str::to_string));
    let program = browser
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| if cfg!(target_os = "macos") { "open".into() } else { "xdg-open".into() });
    let mut child = Command::new(&program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| std::io::Error::new(e.kind(), format!("{program}: {e}")))?;
    // Reaped on a thread: the sign-in completes while the browser runs.
    std::thread::spawn(move || child.wait());
    Ok(())
}
