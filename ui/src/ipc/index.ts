/**
 * The one door from the webview to Rust: a typed wrapper per command of docs/ipc.md.
 *
 * This is the only module that imports `invoke`. Every wrapper rejects with an
 * {@link IpcError} (never a bare string), so callers can `switch (err.kind)`. The password
 * goes out through {@link login} and nowhere else; no command returns a secret.
 */
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  ERROR_KINDS,
  type CheckView,
  type Command,
  type ErrorKind,
  type ImportedServer,
  type ImportPlan,
  type IpcError,
  type LoginRequest,
  type LoginResult,
  type PasswdView,
  type ServerView,
  type SsoHints,
  type SsoLoginRequest,
  type SsoPrompt,
  type WindowContext,
  type WorkspaceList,
} from "./types";

export * from "./types";


function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === "string" && (ERROR_KINDS as readonly string[]).includes(value);
}

export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorKind(v.kind) && typeof v.message === "string";
}

/**
 * Whatever a command rejected with, as an {@link IpcError}. Tauri itself rejects with a
 * plain string when a command is missing or its arguments do not deserialise; those, and
 * kinds this build does not know yet, become `internal` with the original text kept.
 */
export function toIpcError(value: unknown): IpcError {
  if (isIpcError(value)) {
    return { kind: value.kind, message: value.message, field: value.field ?? null, help: value.help ?? null };
  }
  if (typeof value === "object" && value !== null && "message" in value) {
    const v = value as { kind?: unknown; message: unknown };
    const kind = typeof v.kind === "string" ? `${v.kind}: ` : "";
    return { kind: "internal", message: `${kind}${String(v.message)}`, field: null, help: null };
  }
  return { kind: "internal", message: String(value), field: null, help: null };
}

async function call<T>(cmd: Command, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

/** Which page this window shows, and the server whose settings "Log in again" starts from. */
export const windowContext = () => call<WindowContext>("window_context");

export const listServers = () => call<ServerView[]>("list_servers");

/**
 * Verify and (if the server accepted, or `saveWithoutChecking`) store. A refused or
 * unchecked outcome resolves with `saved: false` and the `check`; it is not an error.
 * In mode "add" an existing name is refused (`invalid_input` on the field `name`).
 */
export const login = (request: LoginRequest) => call<LoginResult>("login", { request });

export const verifyServer = (name: string) => call<CheckView>("verify_server", { name });

/** Checks every server concurrently on the Rust side; keyed by server name. */
export const verifyAll = () => call<Record<string, CheckView>>("verify_all");

export const setActive = (name: string) => call<null>("set_active", { name });

export const renameServer = (oldName: string, newName: string) =>
  call<null>("rename_server", { old: oldName, new: newName });

export const removeServer = (name: string) => call<null>("remove_server", { name });

/** Changes the password on the server (MLflow's basic-auth app) and in the keychain. */
export const changePassword = (name: string, password: string) =>
  call<PasswdView>("change_password", { name, password });

/** The MLflow workspaces the server lists for the user (`enabled: false`: it has none). */
export const listWorkspaces = (name: string) => call<WorkspaceList>("list_workspaces", { name });

/**
 * Makes `workspace` the active workspace of `name`, and `name` the active server, once the
 * server lists it for the user; otherwise nothing changes and it rejects (`invalid_input`
 * on `workspace`, or `io` when the server could not be asked).
 */
export const setWorkspace = (name: string, workspace: string) =>
  call<null>("set_workspace", { name, workspace });

/** Deletes the stored password; the server stays configured. */
export const logoutServer = (name: string) => call<null>("logout_server", { name });

/** Opens (or focuses) the login dialog, prefilled for `name` when given. */
export const openLogin = (name?: string) => call<null>("open_login", name === undefined ? {} : { name });

export const closeWindow = () => call<null>("close_window");

/**
 * Reads a team's server list and says what importing it would do; changes nothing. With
 * no `path` the native file picker opens (on the Rust side); `null`: the user closed it.
 * A damaged list rejects with kind `config`, its message naming the file and line.
 */
export const importPlan = (path: string | null = null) => call<ImportPlan | null>("import_plan", { path });

/**
 * Imports the list at `path`: adds new servers, replaces only the differing ones named in
 * `replace`, leaves the rest. Says, per server, what was done and whether it needs a login.
 */
export const importApply = (path: string, replace: string[]) =>
  call<ImportedServer[]>("import_apply", { path, replace });

/** The identity provider's issuer and client id as far as the server tells (empty when it does not). */
export const ssoHints = (url: string, name?: string) =>
  call<SsoHints>("sso_hints", name === undefined ? { url } : { url, name });

/**
 * Single sign-on: Rust opens the browser and waits (bounded) for the sign-in, then checks
 * the token with the server and stores it. While it waits, {@link onSsoPrompt} brings the
 * URL to show. Rejects with `cancelled` after {@link cancelSso}, `timed_out`,
 * `identity_provider`, `idp_unreachable`, or `invalid_input` on `issuer` / `client_id`.
 */
export const loginSso = (request: SsoLoginRequest) => call<LoginResult>("login_sso", { request });

/** Ends the sign-in {@link loginSso} is waiting for. */
export const cancelSso = () => call<null>("cancel_sso");

/** The event that carries an {@link SsoPrompt} (src-tauri/src/commands/sso.rs). */
export const SSO_PROMPT_EVENT = "sso-prompt";

/** Calls `handler` with each sign-in prompt; resolves to the function that stops it. */
export const onSsoPrompt = (handler: (prompt: SsoPrompt) => void): Promise<UnlistenFn> =>
  listen<SsoPrompt>(SSO_PROMPT_EVENT, (e) => handler(e.payload));
