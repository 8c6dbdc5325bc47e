/**
 * The ways to sign in, as one table: the login dialog builds its selector from it, and the
 * servers window and the form checks take their words from it. A new mode (SSO) is one
 * more row; the `Record` makes the compiler ask for it.
 */
import type { AuthKind } from "../ipc";

export interface AuthMode {
  kind: DialogAuthKind;
  /** The selector's label. */
  label: string;
  /** Whether the server wants a username (Basic auth) next to the secret. */
  usesUsername: boolean;
  /** Whether the user types a secret (single sign-on signs in through the browser). */
  usesSecret: boolean;
  /** The secret's field label, and its name in sentences. */
  secretLabel: string;
  secretNoun: string;
  /** `autocomplete` of the secret field: a password manager may fill a password, not a token. */
  autocomplete: "current-password" | "off";
}

/** The kinds the dialog offers: all of them (single sign-on signs in through the browser). */
export type DialogAuthKind = AuthKind;

export const AUTH_MODES: Record<DialogAuthKind, AuthMode> = {
  basic: {
    kind: "basic",
    label: "Username and password",
    usesUsername: true,
    usesSecret: true,
    secretLabel: "Password",
    secretNoun: "password",
    autocomplete: "current-password",
  },
  bearer: {
    kind: "bearer",
    label: "Token",
    usesUsername: false,
    usesSecret: true,
    secretLabel: "Token",
    secretNoun: "token",
    autocomplete: "off",
  },
  sso: {
    kind: "sso",
    label: "Single sign-on",
    usesUsername: false,
    usesSecret: false,
    secretLabel: "Token",
    secretNoun: "token",
    autocomplete: "off",
  },
};

/** In the order the selector shows them. */
export const AUTH_LIST: AuthMode[] = Object.values(AUTH_MODES);

/** The mode of `kind`, falling back to Basic for a kind this build does not know. */
export const authMode = (kind: AuthKind | string | null | undefined): AuthMode =>
  AUTH_MODES[kind as DialogAuthKind] ?? AUTH_MODES.basic;
