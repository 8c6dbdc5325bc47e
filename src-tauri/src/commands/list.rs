// The IPC commands, listed once. Included (not a module) by build.rs, which takes the
// names for Tauri's ACL (capabilities/*.json grant them per window), and by lib.rs, which
// registers the handlers and exports the names to ui/src/ipc/bindings.ts. Adding a
// command: one line here, its permission in a capability, its wrapper in ui/src/ipc/.
ipc_commands![
    window::window_context,
    servers::list_servers,
    login::login,
    sso::sso_hints,
    sso::login_sso,
    sso::cancel_sso,
    verify::verify_server,
    verify::verify_all,
    servers::set_active,
    servers::rename_server,
    servers::remove_server,
    servers::logout_server,
    servers::change_password,
    servers::list_workspaces,
    servers::set_workspace,
    window::open_login,
    window::close_window,
    import::import_plan,
    import::import_apply,
];
