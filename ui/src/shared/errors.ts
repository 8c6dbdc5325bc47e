/**
 * What to tell the user for each {@link IpcError} kind: a title in plain words and what to
 * do. Keyed on `kind` only; the Rust message is shown as the detail, never parsed.
 */
import type { ErrorKind, IpcError } from "../ipc";
import { sentence } from "./text";

export interface ErrorText {
  title: string;
  help: string;
  /** The Rust side's message, shown under the title (it names files, servers, lines). */
  detail: string;
}

const TEXT: Record<ErrorKind, { title: string; help: string }> = {
  keychain_locked: {
    title: "Your keyring is locked",
    help: "Unlock your keyring and try again.",
  },
  keychain_unavailable: {
    title: "No keyring is available",
    help: "Start a Secret Service (GNOME Keyring, KWallet or KeePassXC), then try again. MLflow Login never stores passwords in plain text.",
  },
  keychain_timeout: {
    title: "The keyring did not answer in time",
    help: "Check that your keyring is running and not waiting behind an unlock prompt, then try again.",
  },
  not_found: {
    title: "That server is not configured any more",
    help: "It may have been removed from the command line. The list has been refreshed.",
  },
  invalid_input: {
    title: "Please check the form",
    help: "Fix the highlighted value and try again.",
  },
  config: {
    title: "The configuration file cannot be read",
    help: "Fix the file at the place named above (it is never rewritten silently), then try again.",
  },
  io: {
    title: "A file could not be read or written",
    help: "Check the disk and the permissions of your config directory, then try again.",
  },
  login_required: {
    title: "Your single sign-on session has ended",
    help: "Log in again: sign in with the browser.",
  },
  identity_provider: {
    title: "The identity provider refused the sign-in",
    help: "Check the issuer and client id, or ask your administrator whether MLflow Login's client is registered.",
  },
  idp_unreachable: {
    title: "The identity provider could not be reached",
    help: "Check your network and the issuer URL, then try again.",
  },
  issuer_unconfirmed: {
    title: "Confirm the identity provider first",
    help: "Sign in there only if it is your company's identity provider.",
  },
  timed_out: {
    title: "The sign-in took too long",
    help: "Sign in with the browser again, and finish the sign-in in the page that opens.",
  },
  cancelled: {
    title: "The sign-in was cancelled",
    help: "Sign in with the browser again when you are ready.",
  },
  internal: {
    title: "Something went wrong inside MLflow Login",
    help: "Try again. If it keeps happening, run `mlflow-login doctor` in a terminal.",
  },
};

export function errorText(err: IpcError): ErrorText {
  const base = TEXT[err.kind];
  return {
    title: base.title,
    help: err.help ? sentence(err.help) : base.help,
    detail: sentence(err.message),
  };
}
