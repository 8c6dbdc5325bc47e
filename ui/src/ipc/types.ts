/**
 * DTOs of the webview ⇄ Rust contract. The types are generated from the Rust structs
 * (`./bindings.ts`, by src-tauri/tests/bindings.rs, which fails when that file is stale);
 * this module re-exports them under the names the pages use and adds the few runtime
 * values TypeScript types cannot carry.
 */
import type { FormMode, IpcErrorKind } from "./bindings";

export type {
  AuthKind,
  CheckView,
  Command,
  ImportAction,
  ImportedServer,
  ImportItem,
  ImportPlan,
  ImportResult,
  IpcError,
  LoginRequest,
  LoginResult,
  OutcomeClass,
  OutcomeKind,
  PasswdView,
  ServerSettings,
  ServerView,
  Setting,
  SsoHints,
  SsoLoginRequest,
  SsoPrompt,
  WindowContext,
  WindowKind,
  WorkspaceList,
} from "./bindings";
export { COMMANDS } from "./bindings";

/** Every error kind the Rust side may reject with. */
export type ErrorKind = IpcErrorKind;

/** "add" refuses a name that exists (`invalid_input` on `name`); "edit" logs in again. */
export type LoginMode = FormMode;

/** The same kinds at run time (to recognise an IpcError); the compiler checks both ways. */
export const ERROR_KINDS = [
  "not_found",
  "invalid_input",
  "config",
  "keychain_unavailable",
  "keychain_locked",
  "keychain_timeout",
  "io",
  "login_required",
  "identity_provider",
  "idp_unreachable",
  "issuer_unconfirmed",
  "timed_out",
  "cancelled",
  "internal",
] as const satisfies readonly ErrorKind[];
export const everyErrorKindListed: Exclude<ErrorKind, (typeof ERROR_KINDS)[number]> extends never ? true : false =
  true;

/** The form fields a check outcome can point at (core's `Outcome::field`). */
export type CheckField = "url" | "username" | "password" | "ca_bundle" | "client_cert";
