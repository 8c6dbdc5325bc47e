//! Who the server says the caller is: `GET {url}/api/2.0/mlflow/users/current`.
//!
//! Both auth layers that run inside MLflow answer it for the caller's own account, and
//! need no permission for it: MLflow's basic-auth app (`{"user": {"id", "username",
//! "is_admin"}, "is_basic_auth"}`, read in MLflow 3.17.2's `mlflow/server/auth/__init__.py`
//! `get_current_user`) and mlflow-oidc-auth (the user at the top level: `id`, `username`,
//! `display_name`, `is_admin`, `is_service_account`, `groups` as `{id, group_name}`, read
//! in 11.0.2's `routers/users.py`; versions before 11 also sent `password_expiration`,
//! the expiry of the user's personal access token).
//! Anything else (a server without an auth app answers 404, a proxy a login page) gives
//! no identity, and the check shows the configured username as before.
//!
//! Everything read is server-supplied text: cleaned and bounded before it is kept.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::classify::Reply;
use crate::text::clean;

/// The API path of the caller's own account.
pub(crate) const PATH: &str = "/api/2.0/mlflow/users/current";

/// At most this many body bytes are read (a user object with its permissions is small).
pub(crate) const BODY_CAP: usize = 64 * 1024;

/// At most this many groups are kept.
const MAX_GROUPS: usize = 50;

/// The account the server sees, as it reports it. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The username the server knows the caller by.
    pub username: String,
    /// Whether the server counts it as an admin (`None`: it did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    /// The groups the server put it in (mlflow-oidc-auth), empty when not known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// When its password or personal access token expires (Unix seconds), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Whether the check's experiment search showed this (non-admin) user any experiment.
    /// MLflow's auth app hides what a user may not read instead of refusing the search,
    /// so `Some(false)` is how "no permission" looks: every other request about an
    /// experiment then answers 403 "Permission denied". `None` for admins, and when the
    /// check did not get that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads_experiments: Option<bool>,
}

pub use crate::outcome::NO_PERMISSION_HELP;

impl Identity {
    /// "alice (admin; groups: ml, ops; password expires on 2027-01-31)": the account in a
    /// few words, for a status line or a tooltip.
    pub fn describe(&self) -> String {
        let mut facts = Vec::new();
        if self.is_admin == Some(true) {
            facts.push("admin".to_string());
        }
        if !self.groups.is_empty() {
            facts.push(format!("groups: {}", self.groups.join(", ")));
        }
        if let Some(at) = self.expires_at.and_then(|s| i64::try_from(s).ok())
            && let Some(when) = chrono::DateTime::from_timestamp(at, 0)
        {
            facts.push(format!("password expires on {}", when.format("%Y-%m-%d")));
        }
        if facts.is_empty() { self.username.clone() } else { format!("{} ({})", self.username, facts.join("; ")) }
    }

    /// A sentence when the user may read nothing here, with who grants it.
    pub fn access_note(&self) -> Option<String> {
        (self.reads_experiments == Some(false)).then(|| {
            format!(
                "this user may read no experiment on this server: MLflow's auth app hides them and answers 403 \"Permission denied\" to requests about them; {NO_PERMISSION_HELP}"
            )
        })
    }
}

/// The identity in an answer to [`PATH`], if it is one.
pub(crate) fn parse(reply: &Reply) -> Option<Identity> {
    if reply.status != 200 || reply.truncated {
        return None;
    }
    let body: Value = serde_json::from_slice(&reply.body).ok()?;
    // The basic-auth app nests the user under "user"; mlflow-oidc-auth does not.
    let user = body.get("user").filter(|u| u.is_object()).unwrap_or(&body);
    let username = user.get("username").and_then(Value::as_str).map(|u| clean(u, 200)).filter(|u| !u.is_empty())?;
    let is_admin = user.get("is_admin").and_then(Value::as_bool);
    let groups = user
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| g.as_str().or_else(|| ["group_name", "name"].iter().find_map(|k| g.get(k)?.as_str())))
                .map(|g| clean(g, 100))
                .filter(|g| !g.is_empty())
                .take(MAX_GROUPS)
                .collect()
        })
        .unwrap_or_default();
    let expires_at = ["password_expiration", "token_expiration"].iter().find_map(|k| expiry(user.get(k)?));
    Some(Identity { username, is_admin, groups, expires_at, reads_experiments: None })
}

/// Whether an answer to the experiment search lists at least one experiment.
pub(crate) fn lists_experiments(reply: &Reply) -> bool {
    if reply.truncated {
        // Only a list is long enough to be cut.
        return true;
    }
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("experiments")?.as_array().map(|a| !a.is_empty()))
        .unwrap_or(false)
}

/// An expiry as Unix seconds: an ISO 8601 time (UTC when it names no offset) or a number
/// of seconds.
fn expiry(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let text = value.as_str()?.trim();
    let at = chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp()).ok().or_else(|| {
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc().timestamp())
    })?;
    u64::try_from(at).ok()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderMap;

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec(), truncated: false }
    }

    #[test]
    fn reads_the_basic_auth_apps_answer() {
        let id =
            parse(&reply(200, r#"{"user": {"id": 1, "username": "admin", "is_admin": true}, "is_basic_auth": true}"#))
                .unwrap();
        assert_eq!(
            id,
            Identity {
                username: "admin".into(),
                is_admin: Some(true),
                groups: vec![],
                expires_at: None,
                reads_experiments: None
            }
        );
        assert_eq!(id.access_note(), None);
        assert_eq!(id.describe(), "admin (admin)");
    }

    #[test]
    fn reads_mlflow_oidc_auths_answer() {
        let body = r#"{"id": 3, "username": "alice@example.com", "display_name": "Alice", "is_admin": false,
            "is_service_account": false, "password_expiration": "2027-01-31T10:00:00",
            "groups": [{"id": 1, "group_name": "mlflow-users"}, "ops\u001b[31m"]}"#;
        let id = parse(&reply(200, body)).unwrap();
        assert_eq!(id.username, "alice@example.com");
        assert_eq!(id.is_admin, Some(false));
        assert_eq!(id.groups, vec!["mlflow-users".to_string(), "ops [31m".to_string()]);
        assert_eq!(id.expires_at, Some(1_801_389_600));
        assert_eq!(id.describe(), "alice@example.com (groups: mlflow-users, ops [31m; password expires on 2027-01-31)");
        let id = parse(&reply(200, r#"{"username": "u", "password_expiration": "2027-01-31T10:00:00+01:00"}"#));
        assert_eq!(id.unwrap().expires_at, Some(1_801_386_000));
    }

    #[test]
    fn anything_else_is_no_identity() {
        for (status, body) in [
            (404, r#"{"username": "x"}"#),
            (200, "<html>login</html>"),
            (200, r#"{"experiments": []}"#),
            (200, r#"{"user": {"username": ""}}"#),
            (200, r#"{"username": 5}"#),
            (200, "[]"),
        ] {
            assert_eq!(parse(&reply(status, body)), None, "{status} {body}");
        }
    }

    #[test]
    fn an_empty_search_is_no_experiment() {
        assert!(lists_experiments(&reply(200, r#"{"experiments": [{"experiment_id": "0"}]}"#)));
        assert!(!lists_experiments(&reply(200, "{}")));
        assert!(!lists_experiments(&reply(200, r#"{"experiments": []}"#)));
    }
}
