//! Tauri's build step: config, capabilities, and the ACL of the app's own commands.
//!
//! Every command the webview may call is in src/commands/list.rs; `capabilities/*.json`
//! grant them per window (least privilege). A command missing from every capability is
//! compiled out.

// Cargo reads a build script's directives from its stdout.
#![allow(clippy::print_stdout)]

/// The names of the app's IPC commands, from their one list (src/commands/list.rs).
macro_rules! ipc_commands {
    ($($module:ident :: $name:ident),* $(,)?) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}
include!("src/commands/list.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/commands/list.rs");
    ensure_frontend_dist();
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}

/// Tauri refuses to compile when `frontendDist` (../ui/dist) does not exist. The UI is
/// built by `npm --prefix ui ci && npm --prefix ui run build` (make build does it first);
/// a plain `cargo build` before that gets a one-page placeholder saying so, instead of a
/// broken workspace build. ui/dist is build output (git-ignored).
fn ensure_frontend_dist() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if dist.join("index.html").exists() {
        return;
    }
    let page = "<!doctype html><meta charset=utf-8><title>MLflow Login</title>\
        <p>The user interface was not built. Run <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, \
        then build the tray app again.</p>\n";
    if let Err(e) = std::fs::create_dir_all(&dist).and_then(|()| std::fs::write(dist.join("index.html"), page)) {
        println!("cargo:warning=cannot write a placeholder {}: {e}", dist.display());
    }
}
