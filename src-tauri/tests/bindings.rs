//! The webview's contract, generated from the Rust types: `ui/src/ipc/bindings.ts` (every
//! IPC type and the command names) and `ui/test/fixtures.generated.json` (sample checks and
//! errors in core's own words, for the UI tests). Both are checked in; this test fails when either
//! is stale. To regenerate after changing a type or core's wording:
//!
//!     MLL_UPDATE_BINDINGS=1 cargo test -p mlflow-login-tray --test bindings
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use mlflow_login_core::checks::CheckRecord;
use mlflow_login_core::oidc::trust::{ForeignIssuer, IssuerSource};
use mlflow_login_core::verify::{
    ForbiddenReason, Identity, LooksLike, RefusedBy, Sent, TlsFix, TlsProblem, UnreachableReason,
};
use mlflow_login_core::{AuthKind, Outcome, OutcomeClass, OutcomeKind, Server, Setting, Verification};
use mlflow_login_tray_lib::COMMANDS;
use mlflow_login_tray_lib::args::WindowKind;
use mlflow_login_tray_lib::commands::login::{FormMode, LoginRequest};
use mlflow_login_tray_lib::commands::sso::{SsoHints, SsoLoginRequest, SsoPrompt, unconfirmed};
use mlflow_login_tray_lib::error::{IpcError, IpcErrorKind};
use mlflow_login_tray_lib::views::{
    CheckView, ImportAction, ImportItem, ImportPlan, ImportResult, ImportedServer, LoginResult, PasswdView,
    ServerSettings, ServerView, WindowContext, WorkspaceList,
};
use serde_json::{Value, json};
use ts_rs::{Config, TS};

fn ui(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui").join(path)
}

/// Every IPC type, in dependency order, and the command names.
fn bindings() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        AuthKind::decl(&cfg),
        OutcomeClass::decl(&cfg),
        OutcomeKind::decl(&cfg),
        Setting::decl(&cfg),
        WindowKind::decl(&cfg),
        FormMode::decl(&cfg),
        IpcErrorKind::decl(&cfg),
        IpcError::decl(&cfg),
        CheckView::decl(&cfg),
        ServerView::decl(&cfg),
        WorkspaceList::decl(&cfg),
        PasswdView::decl(&cfg),
        ServerSettings::decl(&cfg),
        WindowContext::decl(&cfg),
        LoginRequest::decl(&cfg),
        LoginResult::decl(&cfg),
        ImportAction::decl(&cfg),
        ImportItem::decl(&cfg),
        ImportPlan::decl(&cfg),
        ImportResult::decl(&cfg),
        ImportedServer::decl(&cfg),
        SsoHints::decl(&cfg),
        SsoLoginRequest::decl(&cfg),
        SsoPrompt::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/tests/bindings.rs: do not edit.\n\
         // Regenerate: MLL_UPDATE_BINDINGS=1 cargo test -p mlflow-login-tray --test bindings\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    let names: Vec<String> = COMMANDS.iter().map(|c| format!("  \"{c}\",\n")).collect();
    out.push_str("/** The IPC commands, as src-tauri registers them (src-tauri/src/commands/list.rs). */\n");
    out.push_str(&format!("export const COMMANDS = [\n{}] as const;\n\n", names.concat()));
    out.push_str("export type Command = (typeof COMMANDS)[number];\n");
    out
}

/// Sample checks, worded by core (the keys are what the UI tests and pages ask for).
fn fixtures() -> String {
    let server = Server::new_basic("https://mlflow.example.com", "alice").unwrap();
    let d = || String::from("(detail)");
    let samples: Vec<(&str, Outcome, u64, Option<&str>, i64)> = vec![
        ("ok", Outcome::Ok, 42, Some("2.19.0"), -120_000),
        ("ok_no_permission", Outcome::Ok, 42, Some("3.17.2"), -120_000),
        (
            "bad_credentials",
            Outcome::BadCredentials {
                refused_by: RefusedBy::Proxy,
                realm: Some("MLflow proxy".into()),
                sent: Sent::Basic,
            },
            35,
            None,
            -60_000,
        ),
        ("forbidden_proxy", Outcome::Forbidden { reason: ForbiddenReason::Proxy }, 31, None, -60_000),
        (
            "not_mlflow",
            Outcome::NotMlflow {
                status: 302,
                location: Some("https://sso.example.com/login".into()),
                suggested_url: None,
                looks_like: LooksLike::LoginPage,
            },
            88,
            None,
            -60_000,
        ),
        (
            "use_https",
            Outcome::UseHttps {
                location: "https://mlflow.example.com/api/2.0/mlflow/experiments/search".into(),
                suggested_url: "https://mlflow.example.com".into(),
            },
            20,
            None,
            -60_000,
        ),
        ("server_down", Outcome::ServerDown { status: 502 }, 12, None, -3_600_000),
        ("unreachable_dns", Outcome::Unreachable { reason: UnreachableReason::Dns, detail: d() }, 5, None, -60_000),
        (
            "tls_ca",
            Outcome::Tls {
                problem: TlsProblem::UnknownIssuer,
                fix: TlsFix::CaBundle,
                suggested_url: None,
                detail: d(),
            },
            40,
            None,
            -60_000,
        ),
        (
            "client_cert",
            Outcome::Tls {
                problem: TlsProblem::ClientCertificate,
                fix: TlsFix::ClientCert,
                suggested_url: None,
                detail: d(),
            },
            40,
            None,
            -60_000,
        ),
    ];
    let mut checks = serde_json::Map::new();
    // A user MLflow's auth app knows, who may read no experiment.
    let frank = Identity {
        username: "frank".into(),
        is_admin: Some(false),
        groups: vec![],
        expires_at: None,
        reads_experiments: Some(false),
    };
    for (key, outcome, latency_ms, version, ago) in samples {
        let identity = (key == "ok_no_permission").then(|| frank.clone());
        let v = Verification {
            server_version: version.map(str::to_string),
            identity,
            ..Verification::new(outcome, latency_ms)
        };
        let mut view = serde_json::to_value(CheckView::from(CheckRecord::new(&server, &v))).unwrap();
        // Relative times: the UI fixtures turn a negative checkedAt into "this long ago".
        view["checkedAt"] = json!(ago);
        checks.insert(key.to_string(), view);
    }
    // A team list's identity provider on no domain of the server's: the sign-in asks first.
    let lookalike = ForeignIssuer {
        issuer: "https://login.lookalike.example".into(),
        issuer_host: "login.lookalike.example".into(),
        server_host: "mlflow.corp.example.com".into(),
        source: IssuerSource::TeamList,
    };
    let file = json!({
        "//": "Generated from core's wording by src-tauri/tests/bindings.rs: do not edit. A negative checkedAt means 'this many ms before now'.",
        "checks": Value::Object(checks),
        "errors": { "issuer_unconfirmed": unconfirmed(&lookalike) },
    });
    serde_json::to_string_pretty(&file).unwrap() + "\n"
}

fn fresh_or_update(path: PathBuf, want: String) {
    if std::env::var_os("MLL_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: regenerate it with\n  MLL_UPDATE_BINDINGS=1 cargo test -p mlflow-login-tray --test bindings\nand commit the result",
        path.display()
    );
}

#[test]
fn ipc_bindings_are_fresh() {
    fresh_or_update(ui("src/ipc/bindings.ts"), bindings());
}

#[test]
fn ui_fixtures_are_fresh() {
    fresh_or_update(ui("test/fixtures.generated.json"), fixtures());
}
