//! The IPC commands of docs/ipc.md, one module per domain. Each is a thin adapter: parse,
//! call `mlflow_login_core`, map the result to a view. No command returns a password.

pub mod import;
pub mod login;
pub mod servers;
pub mod sso;
pub mod verify;
pub mod window;
