// The types and the command names are generated from Rust (src/ipc/bindings.ts); this pins
// docs/ipc.md to them, and that only src/ipc talks to Rust.
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, everyErrorKindListed } from "../src/ipc";

// (happy-dom replaces the global URL, so no `new URL(..., import.meta.url)` here.)
const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "ipc.md"), "utf8");

describe("docs/ipc.md", () => {
  it("lists exactly the commands ui/src/ipc wraps", () => {
    const table = doc.slice(doc.indexOf("## Commands"));
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...COMMANDS].sort());
  });

});

describe("src/ipc", () => {
  it("knows every error kind at run time", () => {
    expect(everyErrorKindListed).toBe(true);
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
