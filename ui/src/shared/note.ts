/**
 * A message shown in the login dialog, next to a field or under the form: either one line
 * of `text` (a form check, a field's `invalid_input`), or a bold `summary` with a `detail`
 * line and `help` sentences (a check outcome, an error by kind).
 */
import type { ErrorKind, OutcomeKind } from "../ipc";

export type Tone = "error" | "warning" | "ok";

export interface Note {
  tone: Tone;
  /** The check's or error's kind, for `data-kind` (tests and styling; never parsed). */
  kind?: OutcomeKind | ErrorKind | null;
  text?: string;
  summary?: string;
  /** A tick before the summary (success). */
  tick?: boolean;
  detail?: string;
  help?: string[];
}
