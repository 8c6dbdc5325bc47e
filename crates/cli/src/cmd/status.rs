use clap::Args;
use mlflow_login_core::{OutcomeClass, Secret, Server, Verification, VerifyOptions, verify};
use serde::Serialize;

use super::{Run, logins, runtime};
use crate::failure::{self, Failure};

/// Check the credentials against the server(s), now. Exit code 0 when all are accepted.
#[derive(Debug, Args)]
pub struct Status {
    /// The server (default: the active one).
    #[arg(conflicts_with = "all")]
    name: Option<String>,
    /// Check every server, concurrently.
    #[arg(long)]
    all: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    name: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    active: bool,
    /// `None` when no password is stored (nothing was sent).
    #[serde(flatten)]
    result: Checked,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Checked {
    Verified(Verification),
    NoCredentials { outcome: NoCredentials },
}

#[derive(Debug, Serialize)]
struct NoCredentials {
    kind: &'static str,
}

impl Report {
    fn class(&self) -> OutcomeClass {
        match &self.result {
            Checked::Verified(v) => v.outcome.class(),
            Checked::NoCredentials { .. } => OutcomeClass::Refused,
        }
    }
}

impl Run for Status {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let targets: Vec<(String, Server)> = if self.all {
            config.servers.iter().map(|(n, s)| (n.clone(), s.clone())).collect()
        } else {
            let (n, s) = config.resolve(self.name.as_deref())?;
            vec![(n, s.clone())]
        };
        // Keychain reads first (each bounded), then every network check at once.
        let mut jobs: Vec<(String, Server, Option<Secret>)> = Vec::new();
        for (name, server) in targets {
            let secret = logins
                .secret(&server)
                .map_err(|e| Failure::context(format!("cannot read the password of \"{name}\""), e))?;
            jobs.push((name, server, secret));
        }
        let opts = VerifyOptions::default();
        let results: Vec<Option<Verification>> = runtime()?.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, (_, server, secret)) in jobs.iter().enumerate() {
                if let Some(secret) = secret.clone() {
                    let (server, opts) = (server.clone(), opts.clone());
                    set.spawn(async move { (i, verify(&server, Some(&secret), &opts).await) });
                }
            }
            let mut out: Vec<Option<Verification>> = vec![None; jobs.len()];
            while let Some(joined) = set.join_next().await {
                if let Ok((i, v)) = joined {
                    out[i] = Some(v);
                }
            }
            out
        });
        let reports: Vec<Report> = jobs
            .into_iter()
            .zip(results)
            .map(|((name, server, _), v)| Report {
                active: config.active.as_deref() == Some(name.as_str()),
                name,
                url: server.url.clone(),
                username: server.username.clone(),
                result: match v {
                    Some(v) => Checked::Verified(v),
                    None => Checked::NoCredentials { outcome: NoCredentials { kind: "no_credentials" } },
                },
            })
            .collect();

        if self.json {
            println!("{}", serde_json::to_string_pretty(&reports).unwrap_or_default());
        } else {
            print_reports(&reports);
        }
        let worst = reports.iter().map(Report::class).fold(0, |acc, c| match (acc, failure::code_of_class(c)) {
            (failure::REFUSED, _) | (_, failure::REFUSED) => failure::REFUSED,
            (a, b) => a.max(b),
        });
        if worst == 0 { Ok(()) } else { Err(Failure::new(worst, summary_line(&reports))) }
    }
}

fn summary_line(reports: &[Report]) -> String {
    let bad: Vec<&str> = reports.iter().filter(|r| r.class() != OutcomeClass::Ok).map(|r| r.name.as_str()).collect();
    format!("not signed in to {}", bad.join(", "))
}

fn print_reports(reports: &[Report]) {
    let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in reports {
        let mark = if r.active { '*' } else { ' ' };
        let user = r.username.as_deref().map(|u| format!("{u} @ ")).unwrap_or_default();
        match &r.result {
            Checked::Verified(v) if v.outcome.class() == OutcomeClass::Ok => {
                let version = v.server_version.as_deref().map(|s| format!(", MLflow {s}")).unwrap_or_default();
                println!("{mark} {:width$}  ok  {user}{}  ({} ms{version})", r.name, r.url, v.latency_ms);
            }
            Checked::Verified(v) => {
                println!("{mark} {:width$}  FAILED  {user}{}: {}", r.name, r.url, v.outcome.summary());
                if let Some(h) = v.outcome.help() {
                    println!("  {:width$}  help: {h}", "");
                }
            }
            Checked::NoCredentials { .. } => {
                println!("{mark} {:width$}  not logged in  {user}{}", r.name, r.url);
                println!("  {:width$}  help: mlflow-login login {}", "", r.name);
            }
        }
    }
}
