//! The window process's state: core's [`Logins`] over the OS keychain, and the login
//! dialog's prefill. Blocking work (keychain, file locks) runs on Tauri's blocking pool,
//! never on the UI thread.

use std::sync::{Arc, Mutex};

use mlflow_login_core::checks::Checks;
use mlflow_login_core::oidc::LoginOptions;
use mlflow_login_core::{ConfigStore, KeyringVault, Logins, Vault, VerifyOptions};
use tokio::sync::oneshot;

use crate::error::{IpcError, IpcResult};

/// Config plus a vault (the real keychain, or an in-memory one in unit tests).
pub type DynLogins = Logins<Arc<dyn Vault>>;

/// A team list's plan as shown: each listed server's name and what importing it does.
pub type ImportPlan = Vec<(String, mlflow_login_core::team::Action)>;

/// Shared by every command of a window process.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    logins: Arc<DynLogins>,
    verify: VerifyOptions,
    login_prefill: Mutex<Option<String>>,
    sso: LoginOptions,
    /// Ends the single sign-on that is waiting (`cancel_sso`).
    sso_cancel: Mutex<Option<oneshot::Sender<()>>>,
    /// The team list's plan last shown (`import_plan`), by the path shown: `import_apply`
    /// applies exactly it.
    import_plan: Mutex<Option<(String, ImportPlan)>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("store", self.logins.store()).finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store` and `vault`.
    pub fn new(store: ConfigStore, vault: Arc<dyn Vault>) -> Self {
        let inner = Inner {
            logins: Arc::new(Logins::new(store, vault)),
            verify: VerifyOptions::default(),
            login_prefill: Mutex::new(None),
            sso: LoginOptions::default(),
            sso_cancel: Mutex::new(None),
            import_plan: Mutex::new(None),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The config from the environment and the OS keychain (what the shipped binary uses).
    pub fn from_env() -> mlflow_login_core::Result<Self> {
        Ok(Self::new(ConfigStore::from_env()?, Arc::new(KeyringVault::default())))
    }

    /// Config and vault (shared with core's async use cases).
    pub fn logins(&self) -> &Arc<DynLogins> {
        &self.inner.logins
    }

    /// The shared checks file.
    pub fn checks(&self) -> &Checks {
        self.inner.logins.checks()
    }

    /// Verification timeouts.
    pub fn verify_options(&self) -> &VerifyOptions {
        &self.inner.verify
    }

    /// Single sign-on limits (the wait for the browser, each request).
    pub fn sso_options(&self) -> LoginOptions {
        self.inner.sso.clone()
    }

    /// Keeps the plan shown for the team list at `path` (replacing any other).
    pub fn keep_import_plan(&self, path: &str, plan: ImportPlan) {
        *self.inner.import_plan.lock().unwrap_or_else(|e| e.into_inner()) = Some((path.to_string(), plan));
    }

    /// Takes the plan shown for `path`, if it is the one kept.
    pub fn import_plan(&self, path: &str) -> Option<ImportPlan> {
        let mut kept = self.inner.import_plan.lock().unwrap_or_else(|e| e.into_inner());
        match kept.take() {
            Some((p, plan)) if p == path => Some(plan),
            other => {
                *kept = other;
                None
            }
        }
    }

    /// Replaces the cancel switch of the waiting single sign-on; returns the previous one.
    pub fn set_sso_cancel(&self, cancel: Option<oneshot::Sender<()>>) -> Option<oneshot::Sender<()>> {
        std::mem::replace(&mut *self.inner.sso_cancel.lock().unwrap_or_else(|e| e.into_inner()), cancel)
    }

    /// The server the login dialog prefills.
    pub fn login_prefill(&self) -> Option<String> {
        self.inner.login_prefill.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the server the login dialog prefills.
    pub fn set_login_prefill(&self, name: Option<String>) {
        *self.inner.login_prefill.lock().unwrap_or_else(|e| e.into_inner()) = name;
    }

    /// Runs blocking core work (keychain, locked file writes) off the async and UI threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> IpcResult<T> + Send + 'static,
    ) -> IpcResult<T> {
        let state = self.clone();
        tauri::async_runtime::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| IpcError::internal(format!("a background task failed: {e}")))?
    }
}
