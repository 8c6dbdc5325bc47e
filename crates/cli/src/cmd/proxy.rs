use std::io::Write as _;
use std::sync::Arc;

use clap::Args;
use mlflow_login_core::proxy::{self, ProxyOptions};

use super::{Run, logins};
use crate::failure::{self, Failure};

/// Serve a server on a local address that adds your credential to every request: for R,
/// Java, the Node client, curl and the MLflow UI in a browser.
///
/// Prints two lines: the tracking URI (set MLFLOW_TRACKING_URI to it; it holds a secret
/// new for each run, keep it to yourself) and a one-time link that signs a browser in.
/// Runs until Ctrl-C. Listens on 127.0.0.1 only; other users of this machine are refused.
///
///   mlflow-login proxy prod --open
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Proxy {
    /// The server (default: the one this shell's project file selects, else the one pinned
    /// with `use --here`, else the active one).
    name: Option<String>,
    /// The port on 127.0.0.1 (default: a free one). A port in use fails at once.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Open the MLflow UI in the browser, signed in.
    #[arg(long)]
    open: bool,
}

impl Run for Proxy {
    fn run(self) -> Result<(), Failure> {
        let served = Served::start(self.name, self.port)?;
        // Ctrl-C and SIGTERM are caught from before the URI is printed: a caller that reads
        // it and stops the proxy at once sees a clean exit.
        let stop = {
            let _entered = served.runtime.enter();
            Stop::listen()?
        };
        let mut out = std::io::stdout().lock();
        // The user asked for these two lines: the secret is the point of them.
        let link = served.proxy.browser_link();
        let written = writeln!(out, "{}", served.proxy.tracking_uri().expose())
            .and_then(|()| writeln!(out, "{}", link.expose()))
            .and_then(|()| out.flush());
        drop(out);
        // Nobody can read the tracking URI: no client could use this proxy.
        if let Err(e) = written {
            return Err(Failure::new(
                failure::OTHER,
                format!("cannot write the tracking URI to standard output ({e}); the proxy stops"),
            ));
        }
        errln!(
            "serving \"{}\" on {} (Ctrl-C to stop); the first line is the tracking URI, the second signs a browser in once",
            served.name,
            served.proxy.addr()
        );
        if self.open
            && let Err(e) = super::login::open_browser(link.expose())
        {
            crate::ui::warning(format!("could not open a browser ({e}); open the link above"));
        }
        served.runtime.block_on(stop.wait());
        Ok(())
    }
}

/// A proxy running on a runtime of its own.
pub struct Served {
    pub name: String,
    pub proxy: proxy::Proxy,
    pub runtime: tokio::runtime::Runtime,
}

impl Served {
    /// Starts the proxy for `name` (or the default server) on `port`; fails when nothing is
    /// stored for it, so the user learns it now, not at the first request.
    pub fn start(name: Option<String>, port: u16) -> Result<Self, Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let (name, server) = super::project::resolve(&config, name)?;
        // With the workspace this shell uses (a project file's, a pin): the proxy sends it
        // for clients that name none.
        let server = super::workspaces::in_this_shell(&config, &name, server);
        if logins.secret(&name, &server)?.is_none() {
            let noun = server.auth.secret_noun();
            return Err(Failure::new(failure::REFUSED, format!("no {noun} stored for \"{name}\""))
                .help(format!("mlflow-login login {name}")));
        }
        let runtime = super::runtime()?;
        let started = runtime.block_on(proxy::start(Arc::new(logins), &name, &server, ProxyOptions { port }));
        let proxy = started.map_err(|e| Failure::context(format!("cannot start a proxy for \"{name}\""), e))?;
        Ok(Served { name, proxy, runtime })
    }
}

/// Ctrl-C and SIGTERM, caught from when it is made.
struct Stop {
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 2],
}

impl Stop {
    fn listen() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Stop { signals: [signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?] })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let [mut int, mut term] = self.signals;
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
