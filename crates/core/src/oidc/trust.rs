//! Whether a single sign-on login asks before it signs in: the identity provider a project
//! file or a team list named may be a lookalike's, and the tokens it issues go to the server.
//!
//! The rule: a login asks for confirmation when its issuer or client id came from a project
//! file or a team list (not typed by the user, not kept from a login the user ran with them)
//! and the issuer's host and the server's host share no registrable domain (the public
//! suffix list: `idp.corp.example` and `mlflow.corp.example` share `corp.example`;
//! `corp.github.io` and `evil.github.io` share nothing). An IP address, `localhost` or a
//! host that has no registrable domain shares a domain only with the identical host. An
//! issuer the server names itself (discovery) is the server's own and is not asked about.

use crate::project::Project;
use crate::server::{Server, SsoSettings, normalize_url};

/// Where a single sign-on login's issuer and client id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerSource {
    /// Typed on this command line or in the dialog.
    Typed,
    /// Kept from the server's settings, written by a login of the user's.
    Stored,
    /// Kept from the server's settings, written by a team list the user has not signed in
    /// with yet ([`SsoSettings::from_team_list`]).
    TeamList,
    /// Given on the command line with exactly the values of the project file in force for
    /// the server's URL: the copied login hint.
    ProjectFile,
}

impl IssuerSource {
    /// Where the settings of a login with `typed` values for the server at `url` came from,
    /// given the project file in force (if any) and the server's stored settings (if any).
    pub fn of(typed: &SsoSettings, url: &str, project: Option<&Project>, stored: Option<&SsoSettings>) -> Self {
        let typed_any = typed.issuer.is_some() || typed.client_id.is_some();
        let same_url = |p: &&Project| normalize_url(url).is_ok_and(|u| u.to_string_normalized() == p.url);
        let copied = project.filter(same_url).is_some_and(|p| {
            typed.issuer.as_ref().is_none_or(|i| Some(i) == p.issuer.as_ref())
                && typed.client_id.as_ref().is_none_or(|c| Some(c) == p.client_id.as_ref())
        });
        match () {
            _ if typed_any && copied => IssuerSource::ProjectFile,
            _ if typed.issuer.is_some() => IssuerSource::Typed,
            _ if stored.is_some_and(|s| s.from_team_list) => IssuerSource::TeamList,
            _ if typed_any => IssuerSource::Typed,
            _ => IssuerSource::Stored,
        }
    }

    /// [`IssuerSource::of`] for a form pre-filled with the server's stored settings (the
    /// tray's dialog): a value left as it was filled in is the stored one, not typed, so a
    /// team list's issuer keeps its mark until the user changes it.
    pub fn of_form(form: &SsoSettings, url: &str, project: Option<&Project>, stored: Option<&SsoSettings>) -> Self {
        let changed = |value: &Option<String>, kept: Option<&Option<String>>| {
            value.clone().filter(|v| kept.is_none_or(|k| k.as_ref() != Some(v)))
        };
        let typed = SsoSettings {
            issuer: changed(&form.issuer, stored.map(|s| &s.issuer)),
            client_id: changed(&form.client_id, stored.map(|s| &s.client_id)),
            ..form.clone()
        };
        Self::of(&typed, url, project, stored)
    }

    /// Named by a file someone else wrote.
    pub fn is_shared(self) -> bool {
        matches!(self, IssuerSource::TeamList | IssuerSource::ProjectFile)
    }

    /// In words, for the question: "a team list", "the project file".
    pub fn describe(self) -> &'static str {
        match self {
            IssuerSource::Typed => "the command line",
            IssuerSource::Stored => "your last sign-in",
            IssuerSource::TeamList => "a team list",
            IssuerSource::ProjectFile => "the project file",
        }
    }
}

/// A sign-in that needs the user's yes: the hosts, cleaned for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignIssuer {
    /// The issuer URL.
    pub issuer: String,
    /// The identity provider's host.
    pub issuer_host: String,
    /// The MLflow server's host.
    pub server_host: String,
    /// Where the issuer came from.
    pub source: IssuerSource,
}

impl ForeignIssuer {
    /// Why the sign-in asks first, in words: "a team list names the identity provider
    /// ISSUER: its host A and the server's host B share no domain".
    pub fn reason(&self) -> String {
        format!(
            "{} names the identity provider {}: its host {} and the server's host {} share no domain",
            self.source.describe(),
            self.issuer,
            self.issuer_host,
            self.server_host
        )
    }
}

/// The confirmation `server`'s sign-in needs, if any (module docs): `None` when the issuer
/// is not known before discovery, was not named by a shared file, or shares a registrable
/// domain with the server.
pub fn confirmation(server: &Server, source: IssuerSource) -> Option<ForeignIssuer> {
    let issuer = server.sso.as_ref()?.issuer.as_deref()?;
    if !source.is_shared() {
        return None;
    }
    let issuer_host = host_of(issuer);
    let server_host = host_of(&server.url);
    if let (Some(a), Some(b)) = (&issuer_host, &server_host)
        && share_domain(a, b)
    {
        return None;
    }
    let clean = |s: &str| crate::text::clean(s, 200);
    Some(ForeignIssuer {
        issuer: clean(issuer),
        issuer_host: clean(issuer_host.as_deref().unwrap_or(issuer)),
        server_host: clean(server_host.as_deref().unwrap_or(&server.url)),
        source,
    })
}

fn host_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(match u.host()? {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    })
}

/// Whether two hosts share a registrable domain (module docs).
pub fn share_domain(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    matches!((registrable(a), registrable(b)), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y))
}

/// The registrable domain of `host` (`None` for an address, `localhost`, a public suffix).
fn registrable(host: &str) -> Option<&str> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    psl::domain_str(host).filter(|d| d.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthKind;

    fn sso_server(url: &str, issuer: Option<&str>) -> Server {
        let mut s = Server::new_basic(url, "u").unwrap();
        s.auth = AuthKind::Sso;
        s.username = None;
        s.sso = Some(SsoSettings { issuer: issuer.map(str::to_string), ..SsoSettings::default() });
        s
    }

    #[test]
    fn registrable_domains() {
        assert!(share_domain("idp.corp.example.com", "mlflow.corp.example.com"));
        assert!(share_domain("login.example.co.uk", "example.co.uk"));
        assert!(!share_domain("example.co.uk", "other.co.uk"), "a public suffix is no shared domain");
        assert!(!share_domain("corp.github.io", "evil.github.io"), "private suffixes count");
        assert!(!share_domain("idp.example.com", "mlflow.example.org"));
        assert!(share_domain("127.0.0.1", "127.0.0.1"));
        assert!(!share_domain("127.0.0.1", "localhost"));
        assert!(!share_domain("10.0.0.1", "10.0.0.2"), "addresses share nothing but themselves");
        assert!(!share_domain("a.localhost", "b.localhost"));
        assert!(share_domain("localhost", "LOCALHOST"));
    }

    #[test]
    fn only_shared_files_naming_a_foreign_issuer_ask() {
        let foreign = sso_server("https://mlflow.corp.example", Some("https://login.evil.example/realm"));
        let own = sso_server("https://mlflow.corp.example", Some("https://idp.corp.example"));
        let found = sso_server("https://mlflow.corp.example", None);
        for source in [IssuerSource::TeamList, IssuerSource::ProjectFile] {
            let asked = confirmation(&foreign, source).expect("a foreign issuer from a shared file asks");
            assert_eq!(
                (asked.issuer_host.as_str(), asked.server_host.as_str()),
                ("login.evil.example", "mlflow.corp.example")
            );
            assert_eq!(confirmation(&own, source), None);
            assert_eq!(confirmation(&found, source), None, "discovery's issuer is the server's own");
        }
        for source in [IssuerSource::Typed, IssuerSource::Stored] {
            assert_eq!(confirmation(&foreign, source), None);
        }
        let loopback = sso_server("http://localhost:5000", Some("http://127.0.0.1:9000"));
        assert!(confirmation(&loopback, IssuerSource::TeamList).is_some());
    }

    #[test]
    fn where_the_settings_came_from() {
        let project = crate::project::parse(
            std::path::Path::new("/p/.mlflow-login.toml"),
            "url = \"https://mlflow.corp.example\"\nauth = \"sso\"\nissuer = \"https://idp.evil\"\nclient_id = \"c\"\n",
        )
        .unwrap();
        let typed = |i: Option<&str>, c: Option<&str>| SsoSettings {
            issuer: i.map(str::to_string),
            client_id: c.map(str::to_string),
            ..SsoSettings::default()
        };
        let team = SsoSettings { from_team_list: true, ..typed(Some("https://idp.evil"), None) };
        let url = "https://mlflow.corp.example/";
        let of = |t: &SsoSettings, p: Option<&Project>, s: Option<&SsoSettings>| IssuerSource::of(t, url, p, s);
        let hint = typed(Some("https://idp.evil"), Some("c"));
        assert_eq!(of(&hint, Some(&project), None), IssuerSource::ProjectFile);
        assert_eq!(of(&typed(None, Some("c")), Some(&project), None), IssuerSource::ProjectFile);
        assert_eq!(of(&typed(Some("https://idp.mine"), Some("c")), Some(&project), None), IssuerSource::Typed);
        assert_eq!(IssuerSource::of(&hint, "https://other", Some(&project), None), IssuerSource::Typed);
        assert_eq!(of(&hint, None, Some(&team)), IssuerSource::Typed);
        assert_eq!(of(&typed(None, None), None, Some(&team)), IssuerSource::TeamList);
        assert_eq!(of(&typed(None, Some("mine")), None, Some(&team)), IssuerSource::TeamList);
        assert_eq!(of(&typed(None, None), None, Some(&typed(Some("https://idp.evil"), None))), IssuerSource::Stored);

        // The dialog sends the settings it was filled with: those left as they were are the
        // team list's; one the user changed is typed.
        let form = |t: &SsoSettings, s: Option<&SsoSettings>| IssuerSource::of_form(t, url, None, s);
        assert_eq!(form(&typed(Some("https://idp.evil"), None), Some(&team)), IssuerSource::TeamList);
        assert_eq!(form(&typed(Some("https://idp.evil"), Some("mine")), Some(&team)), IssuerSource::TeamList);
        assert_eq!(form(&typed(Some("https://idp.mine"), None), Some(&team)), IssuerSource::Typed);
        assert_eq!(form(&typed(Some("https://idp.evil"), None), None), IssuerSource::Typed);
        let own = typed(Some("https://idp.evil"), None);
        assert_eq!(form(&own, Some(&own)), IssuerSource::Stored);
    }
}
