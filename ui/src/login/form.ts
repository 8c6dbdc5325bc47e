/** The login dialog's plain logic: which field a message belongs to, and its constants. */
import type { CheckField } from "../ipc";
import type { FormField } from "./validate";

/** How long "Signed in" stays up before the window closes. */
export const CLOSE_DELAY_MS = 1200;

/** The fields that have a message slot, in the order of the form. */
export const FIELDS: readonly FormField[] = ["name", "url", "username", "password", "issuer", "client_id", "ca_bundle"];

/** Fields a check or an `invalid_input` error may name, mapped to our inputs. */
export function formField(field: CheckField | string | null | undefined): FormField | null {
  switch (field) {
    case "name":
    case "url":
    case "username":
    case "password":
    case "issuer":
      return field;
    case "client_id":
    case "clientId":
      return "client_id";
    case "ca_bundle":
    case "caBundle":
      return "ca_bundle";
    default:
      return null;
  }
}

export const nameHint = (name: string) => `Shown in the tray; on the command line: mlflow-login use ${name || "prod"}`;

