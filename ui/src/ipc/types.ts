/**
 * DTOs of the webview ⇄ Rust contract (docs/ipc.md).
 *
 * Written by hand for now, with the names and shapes the Rust side is moving to: these
 * types are to be generated from the Rust structs by ts-rs into `./bindings/` and
 * re-exported from here under the same names, so the pages do not change when that lands.
 * `test/contract.test.ts` pins the command table and the error kinds against docs/ipc.md.
 */

/** Every error kind the Rust side may reject with. Order as in docs/ipc.md. */
export const ERROR_KINDS = [
  "not_found",
  "invalid_input",
  "config",
  "keychain_unavailable",
  "keychain_locked",
  "keychain_timeout",
  "io",
  "internal",
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * What every command rejects with: `{ kind, message }` plus, for `invalid_input`, the form
 * field it is about. Code branches on `kind`, never on the message text.
 */
export interface IpcError {
  kind: ErrorKind;
  message: string;
  field?: string | null;
  help?: string | null;
}

export type OutcomeClass = "ok" | "refused" | "unchecked";

/** core's `Outcome` variants, by their serde tag (crates/core/src/verify.rs). */
export type OutcomeKind =
  | "ok"
  | "bad_credentials"
  | "other_auth_scheme"
  | "forbidden"
  | "not_mlflow"
  | "use_https"
  | "wrong_path"
  | "server_down"
  | "unreachable"
  | "tls"
  | "invalid_response"
  | "unexpected_status"
  | "bad_tls_file"
  | "unusable_secret"
  | "invalid_url"
  | "client_setup";

/** The form fields a check outcome can point at. */
export type CheckField = "url" | "username" | "password" | "ca_bundle" | "client_cert";

/** One verification, for display. */
export interface CheckView {
  kind: OutcomeKind;
  class: OutcomeClass;
  summary: string;
  help?: string | null;
  field?: CheckField | null;
  latencyMs: number;
  serverVersion?: string | null;
  /** Unix time in milliseconds. */
  checkedAt: number;
}

/** How a server is signed in to. ("sso" comes later; the pages take their modes from one table.) */
export type AuthKind = "basic" | "bearer";

/** Every setting of one server (never its secret): what "Log in again…" starts from. */
export interface ServerSettings {
  name: string;
  url: string;
  username: string | null;
  auth: AuthKind;
  caBundle: string | null;
  clientCert: string | null;
  insecureTls: boolean;
}

/** A configured server as the servers window lists it: its settings, state and last check. */
export interface ServerView extends ServerSettings {
  active: boolean;
  /** `null`: the keychain could not say (locked, absent). */
  hasSecret: boolean | null;
  /** Plain sentences (plain http, insecure TLS). */
  warnings: string[];
  lastCheck: CheckView | null;
}

/**
 * "add" refuses a name that exists (`invalid_input` on `name`); "edit" logs in again to the
 * server of that name, keeping what the form does not carry (the client certificate).
 */
export type LoginMode = "add" | "edit";

export interface LoginRequest {
  mode: LoginMode;
  name: string;
  url: string;
  username: string;
  /** Sent once, to `login` only; never returned by any command. */
  password: string;
  auth: AuthKind;
  caBundle: string | null;
  insecureTls: boolean;
  saveWithoutChecking: boolean;
  makeActive: boolean;
}

export interface LoginResult {
  saved: boolean;
  check: CheckView | null;
  server: ServerView | null;
}

/** Which page a window shows; `server` is set for "Log in again…", null for "Add server…". */
export interface WindowContext {
  window: "login" | "servers";
  server: ServerSettings | null;
}
