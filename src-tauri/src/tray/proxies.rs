//! The tray's local proxies (core's [`mlflow_login_core::proxy`]), one per server, started
//! on first use: "Open MLflow in browser" and "Copy tracking URI for R, Java and other
//! clients". Until then nothing listens and no task or timer runs, so the idle tray costs
//! what it did without them.
//!
//! A proxy reads the server's credential from the keychain as it goes (new passwords,
//! refreshes by any process and logouts are followed, see docs/proxy.md); a server whose
//! settings changed (URL, username, TLS files) gets a new proxy, so its tracking URI
//! changes with them.

use std::collections::HashMap;
use std::sync::Mutex;

use mlflow_login_core::proxy::{self, Proxy, ProxyOptions};
use mlflow_login_core::{Secret, Server};

use crate::state::AppState;

/// The running proxies, by server name.
#[derive(Debug, Default)]
pub struct Proxies {
    running: Mutex<HashMap<String, (Server, Proxy)>>,
}

/// What a menu item asked of a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The tracking URI, for API clients.
    TrackingUri,
    /// A one-time link that signs a browser in.
    BrowserLink,
}

impl Proxies {
    /// The proxy of the active server (started if needed): its tracking URI or a new
    /// browser link. Runs on Tauri's async runtime, which the proxy then runs on.
    pub async fn active(&self, app: &AppState, want: Want) -> Result<Secret, String> {
        let logins = app.logins().clone();
        let config = logins.config().map_err(|e| e.to_string())?;
        let Some((name, server)) = config.active_server() else {
            return Err("no server is active".into());
        };
        let (name, server) = (name.to_owned(), server.clone());
        let started = {
            let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            running.get(&name).filter(|(s, _)| *s == server).map(|(_, p)| answer(p, want))
        };
        if let Some(answer) = started {
            return Ok(answer);
        }
        let proxy = proxy::start(logins, &name, &server, ProxyOptions::default()).await.map_err(|e| e.to_string())?;
        let answer = answer(&proxy, want);
        // A proxy of older settings is dropped here, which stops it.
        self.running.lock().unwrap_or_else(|e| e.into_inner()).insert(name, (server, proxy));
        Ok(answer)
    }
}

fn answer(proxy: &Proxy, want: Want) -> Secret {
    match want {
        Want::TrackingUri => proxy.tracking_uri(),
        Want::BrowserLink => proxy.browser_link(),
    }
}
