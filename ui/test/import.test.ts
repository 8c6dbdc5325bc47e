// "Import servers…" in the servers window: the plan, the Replace boxes, Import / Cancel,
// the reload, and a damaged list. The Rust side (core's rules, the file picker) is faked;
// src-tauri/tests/commands.rs drives the real commands.
import { describe, expect, it } from "vitest";
import type { ImportedServer, ImportPlan, ServerView } from "../src/ipc";
import { $, $$, click, flush, fx, setup, text } from "./helpers";

const PATH = "/home/alice/team/servers.toml";

const plan: ImportPlan = {
  path: PATH,
  servers: [
    { name: "lab", url: "http://mlflow.lab.internal:5000", action: "same", differences: [] },
    { name: "new-one", url: "https://new.example.com", action: "add", differences: [] },
    {
      name: "prod",
      url: "https://mlflow2.example.com",
      action: "differs",
      differences: ["URL https://mlflow.example.com -> https://mlflow2.example.com"],
    },
    {
      name: "staging",
      url: "https://staging2.example.com",
      action: "differs",
      differences: ["URL https://staging.example.com -> https://staging2.example.com", "auth basic -> bearer"],
    },
  ],
};

const added: ServerView = {
  ...fx.servers[0]!,
  name: "new-one",
  url: "https://new.example.com",
  active: false,
  hasSecret: false,
  lastCheck: null,
};

async function open(script: Record<string, object[]>) {
  return setup({ context: { window: "servers", server: null }, servers: fx.servers, script });
}

const item = (name: string) => $(`.import-item[data-name="${name}"]`);
const box = (name: string) => item(name).querySelector<HTMLInputElement>('input[type="checkbox"]');

describe("servers window: import a server list", () => {
  it("shows the plan; differing servers are replaced only when ticked; then the list reloads", async () => {
    const done: ImportedServer[] = [
      { name: "lab", result: "unchanged", needsLogin: false },
      { name: "new-one", result: "added", needsLogin: true },
      { name: "prod", result: "kept", needsLogin: false },
      { name: "staging", result: "replaced", needsLogin: true },
    ];
    const { calls } = await open({
      import_plan: [{ delayMs: 20, ok: plan }],
      import_apply: [{ delayMs: 20, ok: done }],
      list_servers: [{ ok: fx.servers }, { ok: [...fx.servers, added] }],
    });
    click("#import-servers");
    expect($("#import-servers").getAttribute("aria-busy")).toBe("true");
    await flush(20);
    // No path: the picker opens on the Rust side.
    expect(calls).toContainEqual({ cmd: "import_plan", args: { path: null } });
    expect(text("#import-title")).toBe("Import servers from servers.toml");
    expect($$(".import-item").map((i) => [i.dataset.name, i.querySelector(".import-what")?.textContent])).toEqual([
      ["lab", "Already the same"],
      ["new-one", "New"],
      ["prod", "Other settings here"],
      ["staging", "Other settings here"],
    ]);
    expect(item("staging").querySelector(".import-differences")?.textContent).toMatch(/staging2.*auth basic -> bearer/);
    // Only differing servers have a box, and it starts unticked.
    expect(box("lab")).toBeNull();
    expect(box("new-one")).toBeNull();
    expect([box("prod")!.checked, box("staging")!.checked]).toEqual([false, false]);
    expect(text("#import-apply")).toBe("Import 1 server");

    click(box("staging")!);
    expect(text("#import-apply")).toBe("Import 2 servers");
    click("#import-apply");
    await flush(20);
    expect(calls).toContainEqual({ cmd: "import_apply", args: { path: PATH, replace: ["staging"] } });
    expect($$("#import")).toHaveLength(0);
    // The list reloaded: the new server is there, offering "Log in…".
    expect(calls.filter((c) => c.cmd === "list_servers")).toHaveLength(2);
    const row = $('li.server[data-name="new-one"]');
    expect(Array.from(row.querySelectorAll("button")).map((b) => b.textContent)).toContain("Log in…");
    expect(text("#live")).toBe("Imported 2 servers. To use them, log in to new-one, staging.");
  });

  it("Cancel imports nothing", async () => {
    const { calls } = await open({ import_plan: [{ ok: plan }] });
    click("#import-servers");
    await flush();
    click(box("prod")!);
    click("#import-cancel");
    await flush();
    expect($$("#import")).toHaveLength(0);
    expect(calls.map((c) => c.cmd)).not.toContain("import_apply");
  });

  it("a closed file picker changes nothing", async () => {
    const { calls } = await open({ import_plan: [{ ok: null }] });
    click("#import-servers");
    await flush();
    expect($$("#import")).toHaveLength(0);
    expect(text("#banner")).toBe("");
    expect(calls.map((c) => c.cmd)).not.toContain("import_apply");
  });

  it("a list with nothing new offers nothing to import", async () => {
    await open({ import_plan: [{ ok: { path: PATH, servers: [plan.servers[0]] } }] });
    click("#import-servers");
    await flush();
    expect(text("#import-apply")).toBe("Nothing to import");
    expect($("#import-apply").getAttribute("aria-disabled")).toBe("true");
  });

  it("a damaged list shows its file and line, and imports nothing", async () => {
    const damaged = {
      kind: "config",
      message: `${PATH}:3: unknown field \`password\`, expected one of \`url\`, \`username\``,
      field: null,
      help: "fix the list (nothing was imported), or ask whoever publishes it",
    };
    const { calls } = await open({ import_plan: [{ err: damaged }] });
    click("#import-servers");
    await flush();
    expect($(".banner").dataset.kind).toBe("config");
    expect(text(".banner strong")).toBe("Could not import the server list");
    expect(text(".banner .detail")).toContain(`${PATH}:3: unknown field`);
    expect(text(".banner .help")).toBe("Fix the list (nothing was imported), or ask whoever publishes it.");
    expect($$("#import")).toHaveLength(0);
    expect(calls.map((c) => c.cmd)).not.toContain("import_apply");
  });
});
