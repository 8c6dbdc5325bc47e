//! `sso_hints`, `login_sso`, `cancel_sso`: the login dialog's "Single sign-on" mode, over
//! core's one login use case ([`mlflow_login_core::login::log_in_sso`]).
//!
//! Core never opens a browser: it hands the authorization URL to our [`Interaction`],
//! which starts the browser (`$BROWSER` when set, as the CLI does, else the desktop's
//! opener) and forwards the prompt to the dialog as an [`SSO_PROMPT_EVENT`] event, so the
//! dialog shows the URL to copy while it waits. The wait is bounded by
//! [`LoginOptions::timeout`] and ended early by `cancel_sso`.
//!
//! Before anything is asked of the identity provider, core's trust rule
//! ([`mlflow_login_core::oidc::trust`]) decides whether the sign-in needs the user's yes: an
//! issuer a team list named, on no domain of the server's. The dialog carries that yes
//! (`trustIssuer`, the CLI's `--trust-issuer`); without it the command refuses with
//! `issuer_unconfirmed`, so a dialog that skips the question cannot sign in. The dialog then
//! shows "Signing in at ISSUER for HOST" ([`SsoPrompt::SigningIn`]) before the browser opens.

use mlflow_login_core::login::{SsoSignIn, log_in_sso};
use mlflow_login_core::oidc::trust::{self, ForeignIssuer, IssuerSource};
use mlflow_login_core::oidc::{self, Flow, Interaction, Prompt};
use mlflow_login_core::pat;
use mlflow_login_core::server::normalize_url;
use mlflow_login_core::{Activate, AuthKind, Change, LoginInput, Secret, SsoSettings};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Runtime, State};
use tokio::sync::oneshot;
use ts_rs::TS;

use crate::commands::login::{FormMode, saved_result};
use crate::error::{IpcError, IpcErrorKind, IpcResult};
use crate::state::AppState;
use crate::views::LoginResult;

/// The event that carries a [`SsoPrompt`] to the login window.
pub const SSO_PROMPT_EVENT: &str = "sso-prompt";

/// What the identity provider is, as far as the server tells (the dialog pre-fills its
/// fields with it; the user may edit them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SsoHints {
    /// The issuer URL.
    pub issuer: Option<String>,
    /// The OAuth client id (only an oauth2-proxy style redirect names one).
    pub client_id: Option<String>,
}

/// The dialog's single sign-on form.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SsoLoginRequest {
    /// Add or edit.
    pub mode: FormMode,
    /// The server's short name.
    pub name: String,
    /// The tracking URL.
    pub url: String,
    /// The issuer (empty: find it from the server).
    #[serde(default)]
    pub issuer: String,
    /// The client id (empty: find it from the server).
    #[serde(default)]
    pub client_id: String,
    /// The scopes (empty: the default).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A CA bundle file (empty or null: none).
    #[serde(default)]
    pub ca_bundle: Option<String>,
    /// Skip TLS verification.
    #[serde(default)]
    pub insecure_tls: bool,
    /// Make it the active server.
    #[serde(default)]
    pub make_active: bool,
    /// The user's yes to an identity provider the dialog asked about (`issuer_unconfirmed`).
    #[serde(default)]
    pub trust_issuer: bool,
    /// After signing in, mint a personal access token (mlflow-oidc-auth) and keep it as the
    /// server's Basic password, for R, Java and curl (core's `pat`).
    #[serde(default)]
    pub personal_token: bool,
    /// Replace a personal access token the user has that MLflow Login did not mint.
    #[serde(default)]
    pub replace_token: bool,
}

/// What the dialog shows while it waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum SsoPrompt {
    /// Before the browser opens: "Signing in at ISSUER for HOST" (the issuer as found, the
    /// server's host; both cleaned).
    SigningIn {
        /// The identity provider's issuer.
        issuer: String,
        /// The MLflow server's host (and port).
        host: String,
    },
    /// The browser was started with `url` (or could not be: `error`); the dialog shows the
    /// URL to copy either way.
    Browser {
        /// The identity provider's authorization URL for this login.
        url: String,
        /// Why the browser did not start, if it did not.
        error: Option<String>,
    },
    /// Where to go and the code to enter.
    Device {
        /// The verification URL.
        verification_uri: String,
        /// The same with the code filled in.
        verification_uri_complete: Option<String>,
        /// The code to enter.
        user_code: String,
        /// How long the code is valid, in seconds.
        expires_in_secs: u64,
    },
}

/// An empty field is "not given".
fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl From<SsoLoginRequest> for LoginInput {
    fn from(r: SsoLoginRequest) -> Self {
        let ca_bundle = r.ca_bundle.as_deref().and_then(given).map(std::path::PathBuf::from);
        LoginInput {
            name: r.name.trim().to_string(),
            mode: r.mode.into(),
            url: Some(r.url),
            username: Change::Clear,
            auth: Some(AuthKind::Sso),
            ca_bundle: Change::set_or_clear(ca_bundle),
            client_cert: Change::Keep,
            insecure_tls: Some(r.insecure_tls),
            sso: SsoSettings {
                issuer: given(&r.issuer),
                client_id: given(&r.client_id),
                scopes: r.scopes.iter().filter_map(|s| given(s)).collect(),
                // Not in the dialog: a port set with the CLI is kept.
                redirect_port: None,
                // Not the form's to say: the plan keeps the stored settings' mark, and
                // `confirm_issuer` reads it from there.
                from_team_list: false,
            },
            secret: Secret::new(String::new()),
            verify: true,
            activate: if r.make_active { Activate::Yes } else { Activate::IfNone },
        }
    }
}

/// The identity provider's issuer and client id for `url`, as far as the server tells
/// (nothing found is not an error: the fields stay empty). `name`: the server being
/// edited, whose TLS settings apply.
#[tauri::command]
pub async fn sso_hints(state: State<'_, AppState>, url: String, name: Option<String>) -> IpcResult<SsoHints> {
    let state = state.inner().clone();
    let url = normalize_url(&url)?.to_string_normalized();
    let known = match name {
        Some(name) => {
            state.blocking(move |s| Ok(s.logins().config()?.servers.get(&name).cloned().map(|k| (name, k)))).await?
        }
        None => None,
    };
    // The login's own rules: a URL on another origin does not get the known server's
    // client certificate, CA bundle or "insecure" flag, not even for this question.
    let server = LoginInput::sso_probe(known.as_ref().map(|(n, k)| (n.as_str(), k)), &url)?;
    let hints = oidc::hints(&server, &state.sso_options()).await?;
    Ok(SsoHints { issuer: hints.issuer, client_id: hints.client_id })
}

/// Signs in through the identity provider in the browser, verifies the token against the
/// server and stores it (core's `log_in_sso`). Ends with the saved server, a refused check
/// (`saved: false`), or an error: `cancelled` (Cancel), `timed_out`, `identity_provider`,
/// `idp_unreachable`, `invalid_input` (an issuer or client id that cannot be found).
#[tauri::command]
pub async fn login_sso<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    request: SsoLoginRequest,
) -> IpcResult<LoginResult> {
    let state = state.inner().clone();
    let (trusted, personal_token, replace_token) =
        (request.trust_issuer, request.personal_token, request.replace_token);
    let input = LoginInput::from(request);
    confirm_issuer(&state, &input, trusted).await?;
    let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
    // A second sign-in replaces (and so cancels) one still waiting.
    state.set_sso_cancel(Some(cancel_tx));
    let ui = WindowPrompt { window };
    // The sender dropped (replaced by a newer sign-in) also cancels.
    let cancel = async {
        let _ = cancel_rx.await;
    };
    let sign_in = SsoSignIn { flow: Flow::Browser, ui: &ui };
    let report = if personal_token {
        // The question about a token minted elsewhere is the dialog's second checkbox.
        let replace = if replace_token { pat::Replace::Yes } else { pat::Replace::Refuse };
        let minting = pat::Minting { days: pat::DEFAULT_DAYS, replace };
        let (sso, verify) = (state.sso_options(), state.verify_options());
        mlflow_login_core::login::log_in_personal_token(state.logins(), input, sign_in, cancel, &sso, verify, minting)
            .await?
            .login
    } else {
        log_in_sso(state.logins(), input, sign_in, cancel, &state.sso_options(), state.verify_options()).await?
    };
    saved_result(&app, &state, report, "with single sign-on".to_string()).await
}

/// Core's rule ([`trust`]), as the CLI applies it: an identity provider a team list named,
/// on no domain of the server's, is signed in at only with the user's yes. The dialog is
/// filled with the server's stored settings, so a value left as it was is the stored one
/// ([`IssuerSource::of_form`]); the tray has no project folder, so no project file counts.
/// Refused: no request to the identity provider, no browser, nothing stored.
async fn confirm_issuer(state: &AppState, input: &LoginInput, trusted: bool) -> IpcResult<()> {
    let name = input.name.clone();
    let known = state.blocking(move |s| Ok(s.logins().config()?.servers.get(&name).cloned())).await?;
    let server = input.plan(known.as_ref())?.server;
    let source = IssuerSource::of_form(&input.sso, &server.url, None, known.as_ref().and_then(|k| k.sso.as_ref()));
    match trust::confirmation(&server, source) {
        Some(foreign) if !trusted => Err(unconfirmed(&foreign)),
        _ => Ok(()),
    }
}

/// The refusal of a sign-in that needs the user's yes: core's reason, on the issuer field.
pub fn unconfirmed(foreign: &ForeignIssuer) -> IpcError {
    IpcError {
        kind: IpcErrorKind::IssuerUnconfirmed,
        message: foreign.reason(),
        field: Some("issuer".into()),
        help: Some(format!(
            "sign in at {} only if it is your company's identity provider; confirm it to go on",
            foreign.issuer_host
        )),
    }
}

/// Ends a `login_sso` that is waiting (its result is then `cancelled`). Nothing waiting:
/// nothing happens.
#[tauri::command]
pub fn cancel_sso(state: State<'_, AppState>) {
    if let Some(tx) = state.set_sso_cancel(None) {
        let _ = tx.send(());
    }
}

/// Forwards core's prompt to the dialog, and starts the browser.
struct WindowPrompt<R: Runtime> {
    window: tauri::WebviewWindow<R>,
}

impl<R: Runtime> Interaction for WindowPrompt<R> {
    fn show(&self, prompt: Prompt<'_>) {
        let event = match prompt {
            Prompt::SigningIn { issuer, host } => {
                SsoPrompt::SigningIn { issuer: issuer.to_string(), host: host.to_string() }
            }
            Prompt::OpenBrowser { url } => {
                SsoPrompt::Browser { url: url.to_string(), error: open_browser(url).err().map(|e| e.to_string()) }
            }
            Prompt::DeviceCode { verification_uri, verification_uri_complete, user_code, expires_in } => {
                SsoPrompt::Device {
                    verification_uri: verification_uri.to_string(),
                    verification_uri_complete: verification_uri_complete.map(str::to_string),
                    user_code: user_code.to_string(),
                    expires_in_secs: expires_in.as_secs(),
                }
            }
            _ => return,
        };
        if let Err(e) = self.window.emit_to(self.window.label(), SSO_PROMPT_EVENT, event) {
            eprintln!("mlflow-login-tray: cannot show the sign-in prompt: {e}");
        }
    }
}

/// Starts `$BROWSER` (its first entry) when set, as the CLI does, else the desktop's
/// opener; detached, so the sign-in completes while the browser runs.
fn open_browser(url: &str) -> Result<(), tauri_plugin_opener::Error> {
    let browser = std::env::var("BROWSER").ok().and_then(|b| given(b.split(':').next().unwrap_or("")));
    tauri_plugin_opener::open_url(url, browser)
}

#[cfg(test)]
mod tests {
    use mlflow_login_core::LoginMode;

    use super::*;

    fn request(json: serde_json::Value) -> SsoLoginRequest {
        serde_json::from_value(json).unwrap()
    }

    /// Empty fields are "not given" (core then finds them); the form is always SSO, checked
    /// first, with no username and no secret.
    #[test]
    fn the_form_becomes_an_sso_login() {
        let input: LoginInput = request(serde_json::json!({
            "mode": "add", "name": " corp ", "url": "https://mlflow.corp.example",
            "issuer": " ", "clientId": " my-client ", "scopes": ["openid", " "],
            "caBundle": "", "insecureTls": false, "makeActive": true,
        }))
        .into();
        assert_eq!(input.name, "corp");
        assert_eq!(input.mode, LoginMode::Add);
        assert_eq!(input.auth, Some(AuthKind::Sso));
        assert_eq!(input.username, Change::Clear);
        assert_eq!(input.ca_bundle, Change::Clear);
        assert_eq!(
            input.sso,
            SsoSettings {
                issuer: None,
                client_id: Some("my-client".into()),
                scopes: vec!["openid".into()],
                redirect_port: None,
                from_team_list: false
            }
        );
        assert!(input.verify, "an SSO login is always checked with the server");
        assert_eq!(input.activate, Activate::Yes);
        let edit: LoginInput =
            request(serde_json::json!({"mode": "edit", "name": "corp", "url": "https://x.example"})).into();
        assert_eq!(edit.mode, LoginMode::Edit);
        assert_eq!(edit.activate, Activate::IfNone);
    }

    /// Pins the `sso-prompt` event the dialog is written against (docs/ipc.md).
    #[test]
    fn the_prompt_event_is_pinned() {
        let signing_in = SsoPrompt::SigningIn { issuer: "https://idp.example".into(), host: "mlflow.example".into() };
        assert_eq!(
            serde_json::to_value(&signing_in).unwrap(),
            serde_json::json!({"kind": "signingIn", "issuer": "https://idp.example", "host": "mlflow.example"})
        );
        let browser = SsoPrompt::Browser { url: "https://idp.example/auth?x=1".into(), error: None };
        assert_eq!(
            serde_json::to_value(&browser).unwrap(),
            serde_json::json!({"kind": "browser", "url": "https://idp.example/auth?x=1", "error": null})
        );
        let device = SsoPrompt::Device {
            verification_uri: "https://idp.example/device".into(),
            verification_uri_complete: None,
            user_code: "ABCD-EFGH".into(),
            expires_in_secs: 600,
        };
        assert_eq!(
            serde_json::to_value(&device).unwrap(),
            serde_json::json!({"kind": "device", "verificationUri": "https://idp.example/device",
                "verificationUriComplete": null, "userCode": "ABCD-EFGH", "expiresInSecs": 600})
        );
    }
}
