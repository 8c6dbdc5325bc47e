//! Signing in for a personal access token: single sign-on, then a token minted and stored
//! as the server's Basic credential ([`crate::pat`] holds the token's own rules).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::login::{LoginInput, LoginReport, SsoSignIn, blocking};
use crate::logins::{Activate, Expect, Logins};
use crate::oidc::LoginOptions;
use crate::pat::{
    Minting, NOT_REPLACED_FIELD, PersonalToken, Replace, current_username, foreign_token, mint, session_key,
    validate_days,
};
use crate::secret::Secret;
use crate::server::{AuthKind, Server};
use crate::vault::Vault;
use crate::verify::{self, OutcomeClass, VerifyOptions};

/// What [`log_in_personal_token`] did.
#[derive(Debug)]
pub struct PatReport {
    /// The single sign-on login (its check is the access token's).
    pub login: LoginReport,
    /// The minted token, when one was stored.
    pub token: Option<PersonalToken>,
}

/// Signs in with single sign-on ([`crate::login::log_in_sso`]), then mints a personal
/// access token of `minting.days` days and stores it as the server's Basic credential
/// (module docs). A sign-in the server refused is returned as is (nothing stored). A token
/// the user already has and did not get from MLflow Login is replaced only as
/// `minting.replace` says; refused, nothing is minted, the error is on
/// [`NOT_REPLACED_FIELD`], and the server stays what it was: a personal-token server keeps
/// its token, a new or single sign-on server is a single sign-on server (the sign-in is kept).
pub async fn log_in_personal_token<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    mut input: LoginInput,
    sign_in: SsoSignIn<'_>,
    cancel: impl std::future::Future<Output = ()>,
    sso_opts: &LoginOptions,
    opts: &VerifyOptions,
    minting: Minting<'_>,
) -> Result<PatReport> {
    let Minting { days, replace } = minting;
    let days = validate_days(days)?;
    let name = input.name.clone();
    // The token the keychain holds for this server now: "ours" when the server lists it.
    let config = blocking(logins, |l| l.config()).await?;
    let known_server = config.servers.get(&name).filter(|k| k.personal_token.is_some()).cloned();
    let held = match &known_server {
        Some(known) => {
            let (n, k) = (name.clone(), known.clone());
            blocking(logins, move |l| l.secret(&n, &k)).await?
        }
        None => None,
    };
    input.auth = Some(AuthKind::Sso);
    let activate = input.activate;
    let login = crate::login::log_in_sso(logins, input, sign_in, cancel, sso_opts, opts).await?;
    if !login.is_saved() {
        return Ok(PatReport { login, token: None });
    }
    let sso_server = login.server.clone();
    let (n, s) = (name.clone(), sso_server.clone());
    let tokens = blocking(logins, move |l| crate::fresh::stored_tokens(l, &n, &s))
        .await?
        .ok_or_else(|| Error::LoginRequired("the single sign-on tokens were not stored".into()))?;
    let username = current_username(&sso_server, &tokens.access_token, opts).await?;
    if let Some(existing) = foreign_token(&sso_server, &tokens.access_token, held.as_ref(), opts).await? {
        let yes = match replace {
            Replace::Yes => true,
            Replace::Refuse => false,
            Replace::Ask(ask) => ask(&existing),
        };
        if !yes {
            if let Some(held) = held {
                // The server was a personal-token server: it stays one, with the token in
                // hand and the new session for its renewal.
                restore(logins, &name, known_server.clone(), held, sso_server, tokens.to_secret()).await?;
            }
            return Err(Error::invalid(
                NOT_REPLACED_FIELD,
                format!(
                    "{username} already has a personal access token (\"{}\") that MLflow Login did not mint; minting one revokes it wherever it is used, so none was minted (single sign-on is kept)",
                    existing.name
                ),
            ));
        }
    }
    let (pat, token) = mint(&sso_server, &tokens.access_token, days, opts).await?;
    let server = Server {
        auth: AuthKind::Basic,
        username: Some(username.clone()),
        personal_token: Some(token),
        ..sso_server.clone()
    };
    let verification = verify::verify(&server, Some(&pat), opts).await;
    if verification.class() != OutcomeClass::Ok {
        return Err(Error::invalid(
            "url",
            format!("the server refused the personal access token it minted: {}", verification.outcome.summary()),
        ));
    }
    let record = crate::checks::CheckRecord::new(&server, &verification);
    let (n, to_save, set, to_record) = (name.clone(), server.clone(), tokens.to_secret(), record.clone());
    let session = session_key(&name, &server);
    let saved = blocking(logins, move |l| {
        let saved = l.save_expecting(&n, to_save, Some(&pat), activate, &Expect::Unchanged(sso_server))?;
        // The save dropped the single sign-on entry (the server's kind changed): the session
        // stays, for renewal.
        l.vault().set(&session, &set)?;
        l.checks().record(&n, to_record).map(drop)?;
        Ok(saved)
    })
    .await?;
    // "Added" when the sign-in added the server.
    let saved = crate::logins::Saved { created: login.saved.as_ref().is_some_and(|s| s.created), active: saved.active };
    let login =
        LoginReport { server, verification: Some(verification), check: Some(record), saved: Some(saved), ..login };
    Ok(PatReport { login, token: Some(token) })
}

/// Puts a personal-token server back as it was (its token `held`) after a sign-in saved it
/// as a single sign-on server, keeping the new session (`set`) for renewal.
async fn restore<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    known: Option<Server>,
    held: Secret,
    sso_server: Server,
    set: Secret,
) -> Result<()> {
    let Some(known) = known else { return Ok(()) };
    let n = name.to_string();
    let session = session_key(name, &known);
    blocking(logins, move |l| {
        l.save_expecting(&n, known, Some(&held), Activate::IfNone, &Expect::Unchanged(sso_server))?;
        l.vault().set(&session, &set)
    })
    .await
}
