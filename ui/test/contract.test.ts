// Pins ui/src/ipc against docs/ipc.md, the contract the Rust side implements: the same
// commands, and the same error kinds. (The DTO field names are exercised by the page tests
// through test/fixtures.json, which follows the same document.)
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, ERROR_KINDS } from "../src/ipc";

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

describe("ui/src", () => {
  it("calls Rust only through src/ipc (no other module imports @tauri-apps/api)", () => {
    const src = join(import.meta.dirname, "..", "src");
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => /\.(ts|js|svelte)$/.test(f) && !f.startsWith(`ipc${sep}`))
      .filter((f) => /@tauri-apps\/api|__TAURI_INTERNALS__/.test(readFileSync(join(src, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
