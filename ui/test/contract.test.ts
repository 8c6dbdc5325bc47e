// Pins ui/src/ipc against docs/ipc.md, the contract the Rust side implements: the same
// commands, and the same error kinds. (The DTO field names are exercised by the page tests
// through test/fixtures.json, which follows the same document.)
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, ERROR_KINDS, type OutcomeKind } from "../src/ipc";

// (happy-dom replaces the global URL, so no `new URL(..., import.meta.url)` here.)
const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "ipc.md"), "utf8");

describe("docs/ipc.md", () => {
  it("lists exactly the commands ui/src/ipc wraps", () => {
    const table = doc.slice(doc.indexOf("## Commands"));
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...COMMANDS].sort());
  });

  it("has the same error kinds", () => {
    const union = /type ErrorKind =([^;]+);/.exec(doc)?.[1] ?? "";
    const documented = [...union.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    expect(documented).toEqual([...ERROR_KINDS]);
  });

  it("names the same check fields the login form can show", () => {
    const field = /field\?: ([^;]+); \/\/ where to show it/.exec(doc)?.[1] ?? "";
    const documented = [...field.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    expect(documented).toEqual(["url", "username", "password", "ca_bundle", "client_cert"]);
  });
});

// Every OutcomeKind, checked both ways: the compiler says when the union has one this list
// lacks, the test below when core's `Outcome` has one the union lacks.
const OUTCOME_KINDS = [
  "ok",
  "bad_credentials",
  "other_auth_scheme",
  "forbidden",
  "not_mlflow",
  "use_https",
  "wrong_path",
  "server_down",
  "unreachable",
  "tls",
  "invalid_response",
  "unexpected_status",
  "bad_tls_file",
  "unusable_secret",
  "invalid_url",
  "client_setup",
] as const satisfies readonly OutcomeKind[];
const everyKindListed: Exclude<OutcomeKind, (typeof OUTCOME_KINDS)[number]> extends never ? true : false = true;

describe("crates/core/src/verify.rs", () => {
  it("has the outcome kinds of OutcomeKind (serde snake_case of the `Outcome` variants)", () => {
    expect(everyKindListed).toBe(true);
    const src = readFileSync(join(import.meta.dirname, "..", "..", "crates", "core", "src", "verify.rs"), "utf8");
    const body = /pub enum Outcome \{\n([\s\S]*?)\n\}/.exec(src)?.[1] ?? "";
    const variants = [...body.matchAll(/^ {4}([A-Z][A-Za-z]*)\b/gm)].map((m) =>
      m[1]!.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()),
    );
    expect(variants.sort()).toEqual([...OUTCOME_KINDS].sort());
  });
});

describe("ui/src", () => {
  it("calls Rust only through src/ipc (no other module imports @tauri-apps/api)", () => {
    const src = join(import.meta.dirname, "..", "src");
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => /\.(ts|js|svelte)$/.test(f) && !f.startsWith(`ipc${sep}`))
      .filter((f) => /@tauri-apps\/api|__TAURI_INTERNALS__/.test(readFileSync(join(src, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
