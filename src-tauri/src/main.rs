//! `mlflow-login-tray`: the tray app, or (with `--window`) one of its windows.
// No console window on Windows release builds.
#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    mlflow_login_tray_lib::run()
}
