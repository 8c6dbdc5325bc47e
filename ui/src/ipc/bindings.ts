// Generated from the Rust types by src-tauri/tests/bindings.rs: do not edit.
// Regenerate: MLL_UPDATE_BINDINGS=1 cargo test -p mlflow-login-tray --test bindings

export type AuthKind = "basic" | "bearer" | "sso";

export type OutcomeClass = "ok" | "refused" | "unchecked";

export type OutcomeKind = "ok" | "bad_credentials" | "other_auth_scheme" | "forbidden" | "not_mlflow" | "use_https" | "wrong_path" | "server_down" | "unreachable" | "tls" | "invalid_response" | "unexpected_status" | "bad_tls_file" | "unusable_secret" | "invalid_url" | "client_setup" | "session_ended" | "workspace_refused" | "no_workspaces" | "no_credentials";

export type Setting = "ca_bundle" | "client_cert" | "insecure_tls";

export type WindowKind = "login" | "servers";

export type FormMode = "add" | "edit";

export type IpcErrorKind = "not_found" | "invalid_input" | "config" | "keychain_unavailable" | "keychain_locked" | "keychain_timeout" | "io" | "login_required" | "identity_provider" | "idp_unreachable" | "issuer_unconfirmed" | "timed_out" | "cancelled" | "internal";

export type IpcError = { 
/**
 * What went wrong, to match on.
 */
kind: IpcErrorKind, 
/**
 * One sentence for the user.
 */
message: string, 
/**
 * The form field at fault (`name`, `url`, `username`, `password`, ...).
 */
field: string | null, 
/**
 * What to do.
 */
help: string | null, };

export type CheckView = { 
/**
 * The outcome kind from core (`ok`, `bad_credentials`, ...).
 */
kind: OutcomeKind, 
/**
 * `ok`, `refused` or `unchecked`.
 */
class: OutcomeClass, 
/**
 * One plain sentence.
 */
summary: string, 
/**
 * What to do.
 */
help: string | null, 
/**
 * The form field at fault (`url`, `username`, `password`, `ca_bundle`, `client_cert`).
 */
field: string | null, 
/**
 * Time to the answer.
 */
latencyMs: number, 
/**
 * MLflow's version.
 */
serverVersion: string | null, 
/**
 * Unix milliseconds.
 */
checkedAt: number, 
/**
 * The account as the server knows it ("alice (admin; groups: ml)"), when it said.
 */
identity: string | null, 
/**
 * What the user may not do and who grants it, when the server showed them nothing.
 */
accessNote: string | null, };

export type ServerView = { 
/**
 * Whether it is the active server.
 */
active: boolean, 
/**
 * Its active MLflow workspace (exported as `MLFLOW_WORKSPACE` with it).
 */
workspace: string | null, 
/**
 * Whether a password is stored (`None`: the keychain could not say).
 */
hasSecret: boolean | null, 
/**
 * Warnings in words.
 */
warnings: Array<string>, 
/**
 * The last check, from the shared checks file.
 */
lastCheck: CheckView | null, 
/**
 * Its name.
 */
name: string, 
/**
 * Its tracking URL.
 */
url: string, 
/**
 * Its username.
 */
username: string | null, 
/**
 * `basic` or `bearer`.
 */
auth: AuthKind, 
/**
 * The CA bundle file.
 */
caBundle: string | null, 
/**
 * The client certificate file (kept by a re-login; not editable in the dialog).
 */
clientCert: string | null, 
/**
 * TLS verification is off.
 */
insecureTls: boolean, 
/**
 * Single sign-on: the identity provider's issuer, when known.
 */
issuer: string | null, 
/**
 * Single sign-on: the OAuth client id, when known.
 */
clientId: string | null, };

export type WorkspaceList = { 
/**
 * The server runs with workspaces (MLflow 3.10+ with `--enable-workspaces`).
 */
enabled: boolean, 
/**
 * The workspaces it lists for the user, in its order.
 */
names: Array<string>, };

export type PasswdView = { 
/**
 * The server and the keychain hold the new password.
 */
done: boolean, 
/**
 * When not done: what happened and where the new password is kept.
 */
message: string | null, 
/**
 * When not done: what to do.
 */
help: string | null, };

export type ServerSettings = { 
/**
 * Its name.
 */
name: string, 
/**
 * Its tracking URL.
 */
url: string, 
/**
 * Its username.
 */
username: string | null, 
/**
 * `basic` or `bearer`.
 */
auth: AuthKind, 
/**
 * The CA bundle file.
 */
caBundle: string | null, 
/**
 * The client certificate file (kept by a re-login; not editable in the dialog).
 */
clientCert: string | null, 
/**
 * TLS verification is off.
 */
insecureTls: boolean, 
/**
 * Single sign-on: the identity provider's issuer, when known.
 */
issuer: string | null, 
/**
 * Single sign-on: the OAuth client id, when known.
 */
clientId: string | null, };

export type WindowContext = { 
/**
 * `login` or `servers`.
 */
window: WindowKind, 
/**
 * For "Log in again": the server being edited, with all its settings. `None`: the
 * dialog adds a new server.
 */
server: ServerSettings | null, };

export type LoginRequest = { 
/**
 * Add or edit.
 */
mode: FormMode, 
/**
 * The server's short name.
 */
name: string, 
/**
 * The tracking URL.
 */
url: string, 
/**
 * The username (optional for bearer tokens).
 */
username: string, 
/**
 * The password or token (sent once, never returned).
 */
password: string, 
/**
 * `basic` or `bearer`.
 */
auth: AuthKind, 
/**
 * A CA bundle file (empty or null: none).
 */
caBundle: string | null, 
/**
 * Skip TLS verification.
 */
insecureTls: boolean, 
/**
 * Store even when the check fails (or without checking).
 */
saveWithoutChecking: boolean, 
/**
 * Make it the active server.
 */
makeActive: boolean, };

export type LoginResult = { 
/**
 * Whether the server and password were stored.
 */
saved: boolean, 
/**
 * The check, unless the user saved without checking.
 */
check: CheckView | null, 
/**
 * The saved server.
 */
server: ServerView | null, 
/**
 * Settings that were not kept, because the URL moved to another host.
 */
dropped: Array<Setting>, };

export type ImportAction = "add" | "same" | "differs";

export type ImportItem = { 
/**
 * Its name.
 */
name: string, 
/**
 * Its tracking URL, as the list gives it.
 */
url: string, 
/**
 * What importing it does.
 */
action: ImportAction, 
/**
 * For `differs`: each setting that would change, in words (`URL a -> b`).
 */
differences: Array<string>, };

export type ImportPlan = { 
/**
 * The file, to pass back to `import_apply`.
 */
path: string, 
/**
 * Its servers, in name order.
 */
servers: Array<ImportItem>, };

export type ImportResult = "added" | "replaced" | "unchanged" | "kept";

export type ImportedServer = { 
/**
 * Its name.
 */
name: string, 
/**
 * What the import did.
 */
result: ImportResult, 
/**
 * No password or token is stored for it (`null`: the keychain could not say).
 */
needsLogin: boolean | null, };

export type SsoHints = { 
/**
 * The issuer URL.
 */
issuer: string | null, 
/**
 * The OAuth client id (only an oauth2-proxy style redirect names one).
 */
clientId: string | null, };

export type SsoLoginRequest = { 
/**
 * Add or edit.
 */
mode: FormMode, 
/**
 * The server's short name.
 */
name: string, 
/**
 * The tracking URL.
 */
url: string, 
/**
 * The issuer (empty: find it from the server).
 */
issuer: string, 
/**
 * The client id (empty: find it from the server).
 */
clientId: string, 
/**
 * The scopes (empty: the default).
 */
scopes: Array<string>, 
/**
 * A CA bundle file (empty or null: none).
 */
caBundle: string | null, 
/**
 * Skip TLS verification.
 */
insecureTls: boolean, 
/**
 * Make it the active server.
 */
makeActive: boolean, 
/**
 * The user's yes to an identity provider the dialog asked about (`issuer_unconfirmed`).
 */
trustIssuer: boolean, 
/**
 * After signing in, mint a personal access token (mlflow-oidc-auth) and keep it as the
 * server's Basic password, for R, Java and curl (core's `pat`).
 */
personalToken: boolean, 
/**
 * Replace a personal access token the user has that MLflow Login did not mint.
 */
replaceToken: boolean, };

export type SsoPrompt = { "kind": "signingIn", 
/**
 * The identity provider's issuer.
 */
issuer: string, 
/**
 * The MLflow server's host (and port).
 */
host: string, } | { "kind": "browser", 
/**
 * The identity provider's authorization URL for this login.
 */
url: string, 
/**
 * Why the browser did not start, if it did not.
 */
error: string | null, } | { "kind": "device", 
/**
 * The verification URL.
 */
verificationUri: string, 
/**
 * The same with the code filled in.
 */
verificationUriComplete: string | null, 
/**
 * The code to enter.
 */
userCode: string, 
/**
 * How long the code is valid, in seconds.
 */
expiresInSecs: number, };

/** The IPC commands, as src-tauri registers them (src-tauri/src/commands/list.rs). */
export const COMMANDS = [
  "window_context",
  "list_servers",
  "login",
  "sso_hints",
  "login_sso",
  "cancel_sso",
  "verify_server",
  "verify_all",
  "set_active",
  "rename_server",
  "remove_server",
  "logout_server",
  "change_password",
  "list_workspaces",
  "set_workspace",
  "open_login",
  "close_window",
  "import_plan",
  "import_apply",
] as const;

export type Command = (typeof COMMANDS)[number];
