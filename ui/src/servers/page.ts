/**
 * The servers window: every configured server with its user, URL, last check and warnings,
 * and the actions of the tray menu (use, verify, log in again, rename, log out, remove,
 * add, verify all), so desktops without a tray can do everything here.
 *
 * State is a plain object; `render()` rebuilds the list from it (a handful of rows) and puts
 * keyboard focus back on the control that had it, found by its `data-focus` key.
 */
import * as ipc from "../ipc";
import type { CheckView, IpcError, ServerView } from "../ipc";
import { h, setChildren, spinner } from "../shared/dom";
import { errorText } from "../shared/errors";
import { ago, latency, sentence, shortUrl } from "../shared/text";
import { validateName } from "../login/validate";

interface Banner {
  kind: IpcError["kind"];
  title: string;
  detail: string;
  help: string;
}

interface State {
  servers: ServerView[] | null;
  loadError: IpcError | null;
  /** Servers with a check in flight. */
  verifying: Set<string>;
  verifyingAll: boolean;
  /** Servers with another action in flight (use, rename, log out, remove). */
  working: Set<string>;
  renaming: { name: string; draft: string; error: string | null } | null;
  /** Rows whose "More" actions are shown. */
  expanded: Set<string>;
  confirmingRemove: string | null;
  banner: Banner | null;
}

/** How often "2 min ago" is brought up to date. */
const CLOCK_MS = 30_000;

export function renderServers(root: HTMLElement): { refresh: () => Promise<void> } {
  document.title = "Servers — MLflow Login";
  const state: State = {
    servers: null,
    loadError: null,
    verifying: new Set(),
    verifyingAll: false,
    working: new Set(),
    renaming: null,
    expanded: new Set(),
    confirmingRemove: null,
    banner: null,
  };

  const verifyAllButton = h("button", { type: "button", id: "verify-all", "data-focus": "verify-all" });
  const addButton = h("button", { type: "button", id: "add-server", class: "primary", "data-focus": "add" }, "Add server…");
  const bannerEl = h("div", { id: "banner", class: "banner-slot", role: "alert" });
  const listEl = h("div", { id: "list", class: "list-slot", tabindex: "-1", "aria-busy": "true" });
  const liveEl = h("p", { id: "live", class: "visually-hidden", role: "status", "aria-live": "polite" });

  setChildren(
    root,
    h(
      "main",
      { class: "servers" },
      h(
        "header",
        { class: "toolbar" },
        h("h1", { id: "title" }, "Servers"),
        h("span", { class: "spacer" }),
        verifyAllButton,
        addButton,
      ),
      bannerEl,
      listEl,
      liveEl,
    ),
  );

  // ---- actions -----------------------------------------------------------------------

  function fail(err: IpcError, what: string): void {
    const text = errorText(err);
    state.banner = { kind: err.kind, title: `${what}: ${text.title.charAt(0).toLowerCase()}${text.title.slice(1)}`, detail: text.detail, help: text.help };
    if (err.kind === "not_found") void refresh();
  }

  function announce(message: string): void {
    liveEl.textContent = message;
  }

  async function refresh(): Promise<void> {
    try {
      state.servers = await ipc.listServers();
      state.loadError = null;
    } catch (e) {
      state.loadError = ipc.toIpcError(e);
    }
    render();
  }

  /** Runs one action on one server, showing it busy, then reloads the list. */
  async function act(name: string, what: string, run: () => Promise<unknown>, done?: string): Promise<boolean> {
    state.working.add(name);
    state.banner = null;
    render();
    let ok = true;
    try {
      await run();
      if (done) announce(done);
    } catch (e) {
      ok = false;
      fail(ipc.toIpcError(e), what);
    } finally {
      state.working.delete(name);
    }
    await refresh();
    return ok;
  }

  function setCheck(name: string, check: CheckView): void {
    const server = state.servers?.find((s) => s.name === name);
    if (server) server.lastCheck = check;
  }

  async function verify(name: string): Promise<void> {
    state.verifying.add(name);
    state.banner = null;
    render();
    try {
      const check = await ipc.verifyServer(name);
      setCheck(name, check);
      announce(`${name}: ${checkHeadline(check)}`);
    } catch (e) {
      fail(ipc.toIpcError(e), `Could not verify ${name}`);
    } finally {
      state.verifying.delete(name);
    }
    render();
  }

  async function verifyAll(): Promise<void> {
    if (state.verifyingAll || !state.servers?.length) return;
    state.verifyingAll = true;
    state.banner = null;
    render();
    try {
      const checks = await ipc.verifyAll();
      for (const [name, check] of Object.entries(checks)) setCheck(name, check);
      const failed = Object.values(checks).filter((c) => c.class !== "ok").length;
      announce(failed ? `Checked all servers: ${failed} need attention.` : "Checked all servers: all signed in.");
    } catch (e) {
      fail(ipc.toIpcError(e), "Could not verify the servers");
    } finally {
      state.verifyingAll = false;
    }
    render();
  }

  async function openLogin(name?: string): Promise<void> {
    try {
      await ipc.openLogin(name);
    } catch (e) {
      fail(ipc.toIpcError(e), "Could not open the login dialog");
      render();
    }
  }

  async function commitRename(): Promise<void> {
    const r = state.renaming;
    if (!r) return;
    const draft = r.draft.trim();
    if (draft === r.name) {
      state.renaming = null;
      render();
      return;
    }
    const problem = validateName(draft);
    if (problem) {
      r.error = problem;
      render();
      return;
    }
    state.working.add(r.name);
    state.banner = null;
    render();
    try {
      await ipc.renameServer(r.name, draft);
      state.renaming = null;
      if (state.expanded.delete(r.name)) state.expanded.add(draft);
      focusKey = `${draft}:rename`;
      announce(`Renamed ${r.name} to ${draft}.`);
    } catch (e) {
      const err = ipc.toIpcError(e);
      if (err.kind === "invalid_input") {
        // "a server named ... already exists": fixable right here, keep the editor open.
        r.error = sentence(err.message);
        focusKey = `${r.name}:rename-input`;
      } else {
        state.renaming = null;
        fail(err, `Could not rename ${r.name}`);
      }
    } finally {
      state.working.delete(r.name);
    }
    await refresh();
  }

  // ---- rendering ---------------------------------------------------------------------

  /** The control to focus after the next render, when the old one is gone. */
  let focusKey: string | null = null;

  function checkHeadline(check: CheckView): string {
    return check.class === "ok" ? "Signed in" : sentence(check.summary);
  }

  function checkLine(server: ServerView): HTMLElement {
    const checking = state.verifyingAll || state.verifying.has(server.name);
    if (checking) {
      return h("div", { class: "check-line checking", "aria-busy": "true" }, spinner(), h("span", {}, "Checking…"));
    }
    const check = server.lastCheck;
    if (server.hasSecret === false) {
      const secret = server.auth === "bearer" ? "token" : "password";
      return h("div", { class: "check-line none" }, h("span", { class: "dot none", "aria-hidden": "true" }), h("span", {}, `No ${secret} stored — log in to use this server.`));
    }
    if (!check) {
      return h("div", { class: "check-line none" }, h("span", { class: "dot none", "aria-hidden": "true" }), h("span", {}, "Not checked yet."));
    }
    const facts = [check.class === "ok" && check.serverVersion ? `MLflow ${check.serverVersion}` : null, latency(check.latencyMs), ago(check.checkedAt)]
      .filter(Boolean)
      .join(" · ");
    return h(
      "div",
      { class: `check-line ${check.class}`, "data-kind": check.kind },
      h("span", { class: `dot ${check.class}`, "aria-hidden": "true" }),
      check.class === "ok"
        ? h("span", { class: "check-text" }, h("span", { class: "check-summary" }, "Signed in"), h("span", { class: "facts" }, ` ${facts}`))
        : h(
            "span",
            { class: "check-text" },
            h("span", { class: "check-summary" }, checkHeadline(check)),
            check.help ? h("span", { class: "check-help" }, sentence(check.help)) : null,
            h("span", { class: "facts block" }, facts),
          ),
    );
  }

  /**
   * A row button. Busy ones are `aria-disabled`, not `disabled`: a disabled button drops
   * keyboard focus to <body>, and "Verify" would lose it for the length of the check.
   */
  function button(label: string, key: string, onClick: () => void, attrs: Record<string, string | boolean> = {}): HTMLButtonElement {
    const { disabled, ...rest } = attrs;
    const handler = () => {
      if (!disabled) onClick();
    };
    return h(
      "button",
      { type: "button", "data-focus": key, "aria-disabled": disabled ? "true" : null, onclick: handler as EventListener, ...rest },
      label,
    );
  }

  function nameBlock(server: ServerView): HTMLElement {
    const r = state.renaming;
    if (r && r.name === server.name) {
      const input = h("input", {
        type: "text",
        class: "rename-input",
        id: `rename-${server.name}`,
        value: r.draft,
        "aria-label": `New name for ${server.name}`,
        "aria-invalid": r.error ? "true" : null,
        "aria-describedby": r.error ? `rename-msg-${server.name}` : null,
        "data-focus": `${server.name}:rename-input`,
        autocomplete: "off",
        spellcheck: "false",
      });
      input.addEventListener("input", () => {
        r.draft = input.value;
      });
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          void commitRename();
        } else if (e.key === "Escape") {
          e.preventDefault();
          focusKey = `${server.name}:rename`;
          state.renaming = null;
          render();
        }
      });
      return h(
        "div",
        { class: "rename" },
        input,
        button("Save", `${server.name}:rename-save`, () => void commitRename(), { class: "small primary" }),
        button("Cancel", `${server.name}:rename-cancel`, () => {
          focusKey = `${server.name}:rename`;
          state.renaming = null;
          render();
        }, { class: "small" }),
        r.error ? h("p", { class: "msg error", id: `rename-msg-${server.name}`, "aria-live": "polite" }, r.error) : null,
      );
    }
    return h(
      "div",
      { class: "name-line" },
      h("h2", { class: "name" }, server.name),
      server.active ? h("span", { class: "badge", title: "Every hooked shell uses this server" }, "Active") : null,
    );
  }

  function isBusy(name: string): boolean {
    return state.working.has(name) || state.verifying.has(name) || state.verifyingAll;
  }

  /** The everyday actions, on the name line: use, verify, log in, and the "More" disclosure. */
  function mainActions(server: ServerView): HTMLElement {
    const n = server.name;
    const busy = isBusy(n);
    const noSecret = server.hasSecret === false;
    const open = state.expanded.has(n);
    return h(
      "div",
      { class: "row-actions", role: "group", "aria-label": `Actions for ${n}` },
      server.active
        ? null
        : button("Use", `${n}:use`, () => void act(n, `Could not switch to ${n}`, () => ipc.setActive(n), `${n} is now the active server.`), {
            class: "small",
            disabled: busy,
            "aria-label": `Use ${n}`,
            title: "Make this the active server for the desktop and every hooked shell",
          }),
      button("Verify", `${n}:verify`, () => void verify(n), { class: "small", disabled: busy, "aria-label": `Verify ${n}` }),
      button(noSecret ? "Log in…" : "Log in again…", `${n}:login`, () => void openLogin(n), {
        class: noSecret ? "small primary" : "small",
        "aria-label": `Log in to ${n}`,
      }),
      button(open ? "Less" : "More", `${n}:more`, () => {
        if (open) state.expanded.delete(n);
        else state.expanded.add(n);
        render();
      }, { class: "small more", "aria-expanded": String(open), "aria-controls": `more-${n}`, "aria-label": `More actions for ${n}` }),
    );
  }

  /** Rename, log out, remove: behind "More"; removing asks first, in the row. */
  function moreActions(server: ServerView): HTMLElement | null {
    const n = server.name;
    if (state.confirmingRemove === n) {
      return h(
        "div",
        { class: "confirm", role: "group", "aria-label": `Remove ${n}?` },
        h("span", { class: "confirm-text" }, `Remove ${n}? Its settings and stored password are deleted.`),
        button("Remove", `${n}:remove-yes`, () => {
          state.confirmingRemove = null;
          state.expanded.delete(n);
          focusKey = "list";
          void act(n, `Could not remove ${n}`, () => ipc.removeServer(n), `Removed ${n}.`);
        }, { class: "small danger" }),
        button("Keep", `${n}:remove-no`, () => {
          state.confirmingRemove = null;
          focusKey = `${n}:remove`;
          render();
        }, { class: "small" }),
      );
    }
    if (!state.expanded.has(n)) return null;
    const busy = isBusy(n);
    return h(
      "div",
      { class: "more-actions", id: `more-${n}`, role: "group", "aria-label": `More actions for ${n}` },
      button("Rename…", `${n}:rename`, () => {
        state.renaming = { name: n, draft: n, error: null };
        state.confirmingRemove = null;
        focusKey = `${n}:rename-input`;
        render();
        root.querySelector<HTMLInputElement>(".rename-input")?.select();
      }, { class: "small", disabled: busy, "aria-label": `Rename ${n}` }),
      server.hasSecret === false
        ? null
        : button("Log out", `${n}:logout`, () => void act(n, `Could not log out of ${n}`, () => ipc.logoutServer(n), `Logged out of ${n}.`), {
            class: "small",
            disabled: busy,
            "aria-label": `Log out of ${n}`,
            title: "Delete the stored password; the server stays in the list",
          }),
      button("Remove…", `${n}:remove`, () => {
        state.confirmingRemove = n;
        state.renaming = null;
        focusKey = `${n}:remove-no`;
        render();
      }, { class: "small", disabled: busy, "aria-label": `Remove ${n}` }),
    );
  }

  function row(server: ServerView): HTMLElement {
    const who = server.auth === "bearer" ? "token" : server.username || "no user";
    const secretUnknown = server.hasSecret === null;
    return h(
      "li",
      {
        class: `server${server.active ? " active" : ""}`,
        "data-name": server.name,
        "aria-busy": isBusy(server.name) ? "true" : null,
      },
      h("div", { class: "head" }, nameBlock(server), state.renaming?.name === server.name ? null : mainActions(server)),
      h("div", { class: "who" }, h("span", { class: "user" }, who), h("span", { class: "at" }, " @ "), h("span", { class: "url", title: server.url }, shortUrl(server.url))),
      checkLine(server),
      server.warnings.length || secretUnknown
        ? h(
            "ul",
            { class: "warnings" },
            server.warnings.map((w) => h("li", {}, sentence(w))),
            secretUnknown ? h("li", {}, "The keyring could not say whether a password is stored.") : null,
          )
        : null,
      moreActions(server),
    );
  }

  function empty(): HTMLElement {
    return h(
      "div",
      { class: "empty" },
      h("h2", {}, "No servers yet"),
      h(
        "p",
        {},
        "Add your MLflow tracking server and its password. MLflow Login checks the password with the server, keeps it in your keyring, and every shell follows the server you pick.",
      ),
      button("Add server…", "empty-add", () => void openLogin(), { class: "primary", id: "empty-add" }),
    );
  }

  function loadFailed(err: IpcError): HTMLElement {
    const text = errorText(err);
    return h(
      "div",
      { class: "empty failed", "data-kind": err.kind },
      h("h2", {}, text.title),
      text.detail ? h("p", { class: "detail" }, text.detail) : null,
      h("p", {}, text.help),
      button("Try again", "retry", () => void refresh(), { id: "retry" }),
    );
  }

  function renderBanner(): void {
    const b = state.banner;
    if (!b) {
      setChildren(bannerEl);
      return;
    }
    setChildren(
      bannerEl,
      h(
        "div",
        { class: "banner error", "data-kind": b.kind },
        h(
          "div",
          { class: "banner-text" },
          h("strong", {}, b.title),
          b.detail ? h("span", { class: "detail" }, b.detail) : null,
          h("span", { class: "help" }, b.help),
        ),
        button("Dismiss", "banner-dismiss", () => {
          state.banner = null;
          focusKey = "list";
          render();
        }, { class: "small", "aria-label": "Dismiss this message" }),
      ),
    );
  }

  function render(): void {
    const active = document.activeElement as HTMLElement | null;
    const keep = focusKey ?? (active && root.contains(active) ? active.dataset.focus ?? null : null);
    focusKey = null;

    const count = state.servers?.length ?? 0;
    verifyAllButton.disabled = count === 0;
    verifyAllButton.setAttribute("aria-disabled", String(state.verifyingAll));
    verifyAllButton.setAttribute("aria-busy", String(state.verifyingAll));
    setChildren(verifyAllButton, state.verifyingAll ? spinner() : null, state.verifyingAll ? "Verifying…" : "Verify all");
    renderBanner();

    listEl.setAttribute("aria-busy", String(state.servers === null && !state.loadError));
    if (state.loadError) {
      setChildren(listEl, loadFailed(state.loadError));
    } else if (state.servers === null) {
      setChildren(listEl, h("p", { class: "loading" }, spinner(), " Loading…"));
    } else if (count === 0) {
      setChildren(listEl, empty());
    } else {
      setChildren(listEl, h("ul", { class: "server-list", "aria-labelledby": "title" }, state.servers.map(row)));
    }

    if (keep) {
      const target =
        keep === "list" ? listEl : root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(keep)}"]`);
      if (!target) listEl.focus();
      else if (target !== document.activeElement) target.focus();
    }
  }

  verifyAllButton.addEventListener("click", () => void verifyAll());
  addButton.addEventListener("click", () => void openLogin());
  // The login dialog and the CLI change servers behind our back: reload when we come back.
  window.addEventListener("focus", () => void refresh());
  window.setInterval(() => {
    if (state.servers?.length) render();
  }, CLOCK_MS);

  render();
  void refresh();
  return { refresh };
}
