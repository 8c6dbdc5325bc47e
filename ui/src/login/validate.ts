/**
 * Client-side checks of the login form, run before anything is sent. They catch typos
 * early; the Rust side validates again (its `invalid_input` errors land on the same fields).
 */
import type { AuthKind } from "../ipc";
import { authMode } from "../shared/auth";

export type FormField = "name" | "url" | "username" | "password" | "ca_bundle" | "issuer" | "client_id";

export interface LoginFormValues {
  name: string;
  url: string;
  username: string;
  password: string;
  auth: AuthKind;
  caBundle: string;
}

export type FieldErrors = Partial<Record<FormField, string>>;

/** Same rule as core's server names: letters, digits, `.`, `_`, `-`; not starting with `-` or `.`. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function validateName(name: string): string | null {
  if (!name) return "Give the server a short name, such as prod.";
  if (name.startsWith("-") || name.startsWith(".")) return "The name cannot start with “-” or “.”.";
  if (!NAME_RE.test(name)) return "Use only letters, digits, “.”, “_” and “-” in the name.";
  return null;
}

export function validateUrl(raw: string): string | null {
  const url = raw.trim();
  if (!url) return "Enter the tracking server's URL, such as https://mlflow.example.com.";
  if (!/^https?:\/\//i.test(url)) return "The URL must start with http:// or https://.";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "This is not a valid URL.";
  }
  // `new URL` accepts "https://user:pw@host"; the credentials belong in the fields below.
  if (parsed.username || parsed.password || /^https?:\/\/[^/?#]*@/i.test(url)) {
    return "Remove the username and password from the URL and enter them below instead.";
  }
  if (!parsed.hostname) return "The URL has no host name.";
  return null;
}

export function validateUsername(username: string, auth: AuthKind): string | null {
  if (!authMode(auth).usesUsername) return null;
  if (!username) return "Enter your username.";
  if (username.includes(":")) return "A username cannot contain “:” (Basic auth uses it as the separator).";
  return null;
}

export function validatePassword(password: string, auth: AuthKind): string | null {
  if (!authMode(auth).usesSecret) return null;
  if (!password) return `Enter the ${authMode(auth).secretNoun}.`;
  return null;
}

export function validateLogin(v: LoginFormValues): FieldErrors {
  const errors: FieldErrors = {};
  const checks: [FormField, string | null][] = [
    ["name", validateName(v.name)],
    ["url", validateUrl(v.url)],
    ["username", validateUsername(v.username, v.auth)],
    ["password", validatePassword(v.password, v.auth)],
  ];
  for (const [field, message] of checks) if (message) errors[field] = message;
  return errors;
}

/** Basic auth over plain http to a host other than this machine: allowed, but said. */
export function plainHttpWarning(rawUrl: string, auth: AuthKind): string | null {
  let u: URL;
  try {
    u = new URL(rawUrl.trim());
  } catch {
    return null;
  }
  if (u.protocol !== "http:") return null;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1" || /^127\./.test(host)) return null;
  return `This URL uses plain http: the ${authMode(auth).secretNoun} travels unencrypted to ${host}.`;
}
