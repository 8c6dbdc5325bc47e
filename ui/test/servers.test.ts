import { describe, expect, it } from "vitest";
import type { ServerView } from "../src/ipc";
import { CLOCK_MS } from "../src/servers/clock";
import { $, $$, click, flush, fx, key, setup, text, type } from "./helpers";

async function open(servers: ServerView[] = fx.servers, script: Record<string, object[]> = {}) {
  return setup({ context: { window: "servers", server: null }, servers, script });
}

const row = (name: string) => $(`li.server[data-name="${name}"]`);
const btn = (name: string, label: string) => {
  const b = Array.from(row(name).querySelectorAll("button")).find((x) => x.textContent === label);
  if (!b) throw new Error(`no button ${label} in ${name}`);
  return b;
};

describe("servers window: the list", () => {
  it("shows name, user, URL, active marker, last check and warnings", async () => {
    await open();
    expect($$("li.server").map((r) => r.dataset.name)).toEqual(["prod", "staging", "lab", "gpu-cluster"]);
    const prod = row("prod");
    expect(prod.querySelector(".badge")?.textContent).toBe("Active");
    expect(prod.querySelector(".who")?.textContent).toBe("alice @ mlflow.example.com");
    expect(prod.querySelector(".check-line")?.textContent).toMatch(/Signed in.*MLflow 2\.19\.0 · 42 ms · 2 min ago/);
    expect(row("staging").querySelector(".badge")).toBeNull();
    expect(row("staging").querySelector(".check-line")?.textContent).toMatch(/Wrong username or password/);
    expect(row("staging").querySelector(".check-line")?.className).toContain("refused");
    expect(row("lab").querySelector(".warnings")?.textContent).toMatch(/Basic auth over plain http/);
    expect(row("gpu-cluster").querySelector(".who")?.textContent).toBe("token @ mlflow.gpu.internal");
    expect(row("gpu-cluster").querySelector(".check-line")?.textContent).toMatch(/No token stored/);
    // The active server has no "Use"; a server without a secret offers "Log in…".
    expect(Array.from(prod.querySelectorAll("button")).map((b) => b.textContent)).not.toContain("Use");
    expect(btn("gpu-cluster", "Log in…").className).toContain("primary");
  });

  it("shows who the server says the user is, and what they may not do", async () => {
    const servers = fx.servers.map((s) => (s.name === "prod" ? { ...s, lastCheck: fx.checks.ok_no_permission } : s));
    await open(servers);
    const line = row("prod").querySelector(".check-line");
    expect(line?.querySelector(".identity")?.textContent).toBe(" as frank");
    expect(line?.querySelector(".access-note")?.textContent).toMatch(
      /^This user may read no experiment on this server.*ask the server's admin \(an MLflow admin user\) to grant this user READ permission/,
    );
    expect(row("staging").querySelector(".identity")).toBeNull();
  });

  it("shows each server's TLS settings", async () => {
    await open();
    expect(row("prod").querySelector(".tls")).toBeNull();
    expect(row("staging").querySelector(".tls")?.textContent).toMatch(/CA bundle \/etc\/ssl\/certs\/company-ca\.pem/);
    expect(row("gpu-cluster").querySelector(".tls")?.textContent).toMatch(/Client certificate .*gpu-client\.pem/);
  });

  it("has an empty state that leads to adding a server", async () => {
    const { calls } = await open([]);
    expect(text(".empty h2")).toBe("No servers yet");
    expect($<HTMLButtonElement>("#verify-all").disabled).toBe(true);
    click("#empty-add");
    await flush();
    expect(calls.at(-1)).toEqual({ cmd: "open_login", args: {} });
  });

  it("says when the list cannot be loaded, by kind, and can retry", async () => {
    const { calls } = await open(fx.servers, { list_servers: [{ err: fx.errors.config }, { ok: [] }] });
    expect($(".empty.failed").dataset.kind).toBe("config");
    expect(text(".empty.failed")).toMatch(/configuration file cannot be read.*config\.toml line 7/);
    click("#retry");
    await flush();
    expect(calls.filter((c) => c.cmd === "list_servers")).toHaveLength(2);
    expect(text(".empty h2")).toBe("No servers yet");
  });
});

describe("servers window: actions", () => {
  it("Use makes a server active", async () => {
    const { calls } = await open();
    click(btn("staging", "Use"));
    await flush();
    expect(calls).toContainEqual({ cmd: "set_active", args: { name: "staging" } });
    expect(row("staging").querySelector(".badge")?.textContent).toBe("Active");
    expect(row("prod").querySelector(".badge")).toBeNull();
  });

  it("Verify shows a spinner in that row, then the new result", async () => {
    const { calls } = await open(fx.servers, { verify_server: [{ delayMs: 30, ok: fx.checks.server_down }] });
    click(btn("prod", "Verify"));
    expect(row("prod").querySelector(".check-line.checking .spinner")).not.toBeNull();
    expect(row("prod").getAttribute("aria-busy")).toBe("true");
    expect(row("staging").querySelector(".checking")).toBeNull();
    await flush(30);
    expect(calls).toContainEqual({ cmd: "verify_server", args: { name: "prod" } });
    expect(row("prod").querySelector(".check-line")?.textContent).toMatch(/MLflow behind it did not/);
    expect($("#live").textContent).toMatch(/^prod: The proxy answered/);
  });

  it("Verify all spins every row and the button, then shows the results", async () => {
    const { calls } = await open(fx.servers, { verify_all: [{ delayMs: 30 }] });
    click("#verify-all");
    expect($$(".check-line.checking")).toHaveLength(4);
    expect($("#verify-all").getAttribute("aria-busy")).toBe("true");
    expect($("#verify-all").querySelector(".spinner")).not.toBeNull();
    // A second click while busy does nothing.
    click("#verify-all");
    await flush(30);
    expect(calls.filter((c) => c.cmd === "verify_all")).toHaveLength(1);
    expect($$(".check-line.checking")).toHaveLength(0);
    expect($("#live").textContent).toMatch(/need attention/);
  });

  it("Log in again opens the dialog for that server; Add server… for a new one", async () => {
    const { calls } = await open();
    click(btn("staging", "Log in again…"));
    click("#add-server");
    await flush();
    expect(calls).toContainEqual({ cmd: "open_login", args: { name: "staging" } });
    expect(calls).toContainEqual({ cmd: "open_login", args: {} });
  });

  it("Log out and Remove sit behind More; Remove asks first, in the page", async () => {
    const { calls } = await open();
    expect(row("lab").querySelector(".more-actions")).toBeNull();
    click(btn("lab", "More"));
    expect(btn("lab", "Less").getAttribute("aria-expanded")).toBe("true");
    click(btn("lab", "Remove…"));
    await flush();
    expect(calls.some((c) => c.cmd === "remove_server")).toBe(false);
    expect(row("lab").querySelector(".confirm")?.textContent).toMatch(/Remove lab\?/);
    // The safe answer has focus; "Keep" backs out.
    expect(document.activeElement?.textContent).toBe("Keep");
    click(btn("lab", "Keep"));
    expect(row("lab").querySelector(".confirm")).toBeNull();
    click(btn("lab", "Remove…"));
    click(btn("lab", "Remove"));
    await flush();
    expect(calls).toContainEqual({ cmd: "remove_server", args: { name: "lab" } });
    expect($$("li.server").map((r) => r.dataset.name)).not.toContain("lab");
  });

  it("Change password… asks twice, sends it once, and never keeps it", async () => {
    const tooShort = { kind: "invalid_input", message: "the new password is too short: MLflow's basic-auth app wants at least 12 characters", field: "new_password", help: null };
    const { calls } = await open(fx.servers, { change_password: [{ err: tooShort }, { ok: { done: true, message: null, help: null } }] });
    click(btn("prod", "More"));
    // Only a username and password can be changed: not offered for a token.
    expect(row("gpu-cluster").querySelector('[data-focus="gpu-cluster:passwd"]')).toBeNull();
    click(btn("prod", "Change password…"));
    const form = row("prod").querySelector("form.change-password") as HTMLFormElement;
    type("li.server[data-name=prod] .new-password", "one-password");
    type("li.server[data-name=prod] .new-password-again", "another-password");
    form.requestSubmit();
    await flush();
    expect(form.querySelector(".msg.error")?.textContent).toBe("The two passwords differ.");
    expect(calls.some((c) => c.cmd === "change_password")).toBe(false);
    // The server's rule comes back on the form; the inputs are emptied at every submit.
    type("li.server[data-name=prod] .new-password", "short");
    type("li.server[data-name=prod] .new-password-again", "short");
    form.requestSubmit();
    await flush();
    expect(form.querySelector(".msg.error")?.textContent).toMatch(/^The new password is too short.*12 characters/);
    expect((form.querySelector(".new-password") as HTMLInputElement).value).toBe("");
    type("li.server[data-name=prod] .new-password", "a-long-new-password");
    type("li.server[data-name=prod] .new-password-again", "a-long-new-password");
    form.requestSubmit();
    await flush();
    expect(calls.filter((c) => c.cmd === "change_password").at(-1)).toEqual({
      cmd: "change_password",
      args: { name: "prod", password: "a-long-new-password" },
    });
    expect(row("prod").querySelector("form.change-password")).toBeNull();
    expect(text("#live")).toBe("Changed the password of prod.");
    expect(document.body.innerHTML).not.toContain("a-long-new-password");
  });

  it("Log out deletes the password and says so in the row", async () => {
    const { calls } = await open();
    click(btn("staging", "More"));
    click(btn("staging", "Log out"));
    await flush();
    expect(calls).toContainEqual({ cmd: "logout_server", args: { name: "staging" } });
    expect(row("staging").querySelector(".check-line")?.textContent).toMatch(/No password stored/);
  });

  it("renames inline: Enter saves, Esc cancels, bad names are refused in place", async () => {
    const { calls } = await open();
    click(btn("lab", "More"));
    click(btn("lab", "Rename…"));
    const input = () => $<HTMLInputElement>(".rename-input");
    expect(document.activeElement).toBe(input());
    key(input(), "Escape");
    expect(document.querySelector(".rename-input")).toBeNull();

    click(btn("lab", "Rename…"));
    type(".rename-input", ".bad");
    key(input(), "Enter");
    await flush();
    expect(text(".rename .msg")).toMatch(/cannot start/);
    expect(calls.some((c) => c.cmd === "rename_server")).toBe(false);

    type(".rename-input", "prod");
    key(input(), "Enter");
    await flush();
    expect(text(".rename .msg")).toMatch(/already exists/);

    type(".rename-input", "lab-2");
    key(input(), "Enter");
    await flush();
    expect(calls).toContainEqual({ cmd: "rename_server", args: { old: "lab", new: "lab-2" } });
    expect(row("lab-2").querySelector(".name")?.textContent).toBe("lab-2");
  });
});

describe("servers window: rename survives re-renders", () => {
  it("keeps the text, caret, selection and focus through a check finishing, the clock tick and a reload", async () => {
    const { calls } = await open(fx.servers, { verify_server: [{ delayMs: 50 }] });
    // Another row's check is under way while the user edits.
    click(btn("prod", "Verify"));
    click(btn("lab", "More"));
    click(btn("lab", "Rename…"));
    const input = $<HTMLInputElement>(".rename-input");
    expect(document.activeElement).toBe(input);
    type(".rename-input", "lab-gpu-2");
    input.setSelectionRange(4, 7); // "gpu"
    const intact = (when: string) => {
      expect($(".rename-input"), when).toBe(input);
      expect(input.value, when).toBe("lab-gpu-2");
      expect([input.selectionStart, input.selectionEnd], when).toEqual([4, 7]);
      expect(document.activeElement, when).toBe(input);
    };

    // 1. prod's check finishes: its row re-renders.
    expect(row("prod").querySelector(".check-line.checking")).not.toBeNull();
    await flush(50);
    expect(row("prod").querySelector(".check-line")?.textContent).toMatch(/just now/);
    intact("after another row's check");

    // 2. The clock tick: every "… ago" is recomputed.
    const staging = () => row("staging").querySelector(".facts")?.textContent;
    expect(staging()).toMatch(/1 min ago/);
    await flush(CLOCK_MS);
    expect(staging()).toMatch(/2 min ago/);
    intact("after the clock tick");

    // 3. The window regains focus: the list is reloaded (new objects from Rust).
    const lists = calls.filter((c) => c.cmd === "list_servers").length;
    window.dispatchEvent(new Event("focus"));
    await flush();
    expect(calls.filter((c) => c.cmd === "list_servers")).toHaveLength(lists + 1);
    intact("after a reload");

    key(input, "Enter");
    await flush();
    expect(calls).toContainEqual({ cmd: "rename_server", args: { old: "lab", new: "lab-gpu-2" } });
    // Focus lands on the renamed row's Rename… button.
    expect(document.activeElement).toBe(btn("lab-gpu-2", "Rename…"));
  });
});

describe("servers window: errors by kind", () => {
  it.each([
    ["keychain_locked", /Unlock your keyring and try again\./],
    ["keychain_unavailable", /Start a Secret Service/],
    ["keychain_timeout", /did not answer in time/],
    ["io", /permission denied/],
    ["internal", /something went wrong/],
  ] as const)("%s is shown in a banner naming the server", async (kind, message) => {
    await open(fx.servers, { verify_server: [{ err: fx.errors[kind] }] });
    click(btn("staging", "Verify"));
    await flush();
    const banner = $(".banner");
    expect(banner.dataset.kind).toBe(kind);
    expect(banner.textContent).toMatch(/^Could not verify staging: /);
    expect(banner.textContent).toMatch(message);
    expect($("#banner").getAttribute("role")).toBe("alert");
    click(banner.querySelector("button")!);
    expect(document.querySelector(".banner")).toBeNull();
  });

  it("not_found reloads the list (the CLI removed the server)", async () => {
    const { calls, backend } = await open();
    backend.servers.splice(1, 1); // "staging" is gone behind our back
    click(btn("staging", "Use"));
    await flush();
    expect(text(".banner")).toMatch(/not configured any more/);
    expect(calls.filter((c) => c.cmd === "list_servers").length).toBeGreaterThanOrEqual(2);
    expect(document.querySelector('li.server[data-name="staging"]')).toBeNull();
  });
});

describe("servers window: keyboard focus", () => {
  it("stays on the button that was used across re-renders", async () => {
    await open(fx.servers, { verify_server: [{ delayMs: 20 }] });
    btn("staging", "Verify").focus();
    click(btn("staging", "Verify"));
    expect(document.activeElement?.textContent).toBe("Verify");
    expect(document.activeElement?.getAttribute("aria-disabled")).toBe("true");
    await flush(20);
    expect(document.activeElement).toBe(btn("staging", "Verify"));
  });
});

describe("servers window: the MLflow workspace", () => {
  const workspaces = { prod: { enabled: true, names: ["team-a", "team-b"] } };

  it("lists the server's workspaces and chooses one through core's check", async () => {
    const servers = fx.servers.map((s) => (s.name === "prod" ? { ...s, workspace: "team-a" } : s));
    const { calls } = await setup({ context: { window: "servers", server: null }, servers, workspaces });
    expect(row("prod").querySelector(".who .workspace")?.textContent).toBe(" · workspace team-a");
    click(btn("prod", "More"));
    await flush();
    click(btn("prod", "Workspace…"));
    await flush();
    expect(calls).toContainEqual({ cmd: "list_workspaces", args: { name: "prod" } });
    const choices = Array.from(row("prod").querySelectorAll(".workspaces button"));
    expect(choices.map((b) => [b.textContent, b.getAttribute("aria-pressed")])).toEqual([
      ["team-a", "true"],
      ["team-b", "false"],
    ]);
    click(btn("prod", "team-b"));
    await flush();
    expect(calls).toContainEqual({ cmd: "set_workspace", args: { name: "prod", workspace: "team-b" } });
    expect(row("prod").querySelector(".who .workspace")?.textContent).toBe(" · workspace team-b");
    expect(row("prod").querySelector(".workspaces")).toBeNull();
    expect(text("#live")).toBe("prod is now the active server, in workspace team-b.");
  });

  it("says so when the server has no workspaces, and shows a refusal with its fix", async () => {
    const { calls } = await setup({
      context: { window: "servers", server: null },
      servers: fx.servers,
      workspaces,
      script: {
        set_workspace: [
          {
            err: {
              kind: "invalid_input",
              message: 'the server lists no workspace "team-b" for you: it does not exist, or you may not read it',
              field: "workspace",
              help: "yours: team-a; or ask the server's administrator for access",
            },
          },
        ],
      },
    });
    click(btn("staging", "More"));
    await flush();
    click(btn("staging", "Workspace…"));
    await flush();
    expect(row("staging").querySelector(".workspaces")?.textContent).toMatch(/This server has no workspaces/);
    click(btn("prod", "More"));
    await flush();
    click(btn("prod", "Workspace…"));
    await flush();
    click(btn("prod", "team-b"));
    await flush();
    expect(calls.filter((c) => c.cmd === "set_workspace")).toHaveLength(1);
    expect(text("#banner")).toMatch(/Could not choose workspace team-b of prod.*lists no workspace "team-b".*Yours: team-a/);
    expect(row("prod").querySelector(".who .workspace")).toBeNull();
  });
});
