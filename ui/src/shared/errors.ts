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
