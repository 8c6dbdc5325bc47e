/**
 * DTOs of the webview ⇄ Rust contract, written to match docs/ipc.md field for field.
 *
 * `test/contract.test.ts` pins these against that document (the command table and the
 * error kinds), so a change on either side shows up as a failing test, not as a silent
 * `undefined` in a window.
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

/** The form fields a check outcome can point at. */
export type CheckField = "url" | "username" | "password" | "ca_bundle" | "client_cert";

/** One verification, for display. `kind` is core's `Outcome` kind (ok, bad_credentials, ...). */
export interface CheckView {
  kind: string;
  class: OutcomeClass;
  summary: string;
  help?: string | null;
  field?: CheckField | null;
  latencyMs: number;
  serverVersion?: string | null;
  /** Unix time in milliseconds. */
  checkedAt: number;
}

export type AuthKind = "basic" | "bearer";

export interface ServerView {
  name: string;
  url: string;
  username?: string | null;
  auth: AuthKind;
  active: boolean;
  /** `null`: the keychain could not say (locked, absent). */
  hasSecret: boolean | null;
  /** Plain sentences (plain http, insecure TLS). */
  warnings: string[];
  lastCheck?: CheckView | null;
}

export interface LoginRequest {
  name: string;
  url: string;
  username: string;
  /** Sent once, to `login` only; never returned by any command. */
  password: string;
  auth: AuthKind;
  caBundle?: string | null;
  insecureTls: boolean;
  saveWithoutChecking: boolean;
  makeActive: boolean;
}

export interface LoginResult {
  saved: boolean;
  check?: CheckView | null;
  server?: ServerView | null;
}

export interface WindowContext {
  window: "login" | "servers";
  server?: { name: string; url: string; username?: string | null } | null;
}
