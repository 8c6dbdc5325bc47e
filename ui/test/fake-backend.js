// A stand-in for the Rust side of docs/ipc.md, shared by vitest (through `mockIPC`) and
// the Playwright pages (serialised into an init script, so it must stay self-contained:
// no imports, no closures over module scope).
//
// `scenario.script[cmd]` lists canned answers, used in order (the last one repeats):
// `{ ok: value }`, `{ err: IpcError }`, plus `delayMs`, or `hold: true` to never answer
// (for busy-state screenshots), `emit: [event, payload]` to send an event first (through
// `hooks.emit`; `emits: [[event, payload], ...]` for several, in order), `untilCancel: true` to answer `cancelled` once `cancel_sso` is called. Commands without a script behave like a small, consistent
// server store. Every call is recorded in `calls` (arguments deep-copied).

/**
 * @param {{ context: object, servers?: object[], script?: Record<string, object[]>, okCheck?: object }} scenario
 */
export function fakeBackend(scenario, hooks = {}) {
  const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
  const servers = clone(scenario.servers ?? []);
  const script = clone(scenario.script ?? {});
  const used = {};
  const calls = [];
  const okCheck = () =>
    scenario.okCheck
      ? { ...clone(scenario.okCheck), checkedAt: Date.now() }
      : { kind: "ok", class: "ok", summary: "signed in: the MLflow API answered", help: null, field: null, latencyMs: 40, serverVersion: "2.19.0", checkedAt: Date.now() };
  const notFound = (name) => ({ kind: "not_found", message: `no server named "${name}"`, field: null, help: null });
  const find = (name) => servers.find((s) => s.name === name);
  const cancels = [];

  function defaults(cmd, args) {
    switch (cmd) {
      case "window_context":
        return clone(scenario.context);
      case "list_servers":
        return clone(servers);
      case "sso_hints":
        return clone(scenario.ssoHints ?? { issuer: null, clientId: null });
      case "cancel_sso":
        for (const c of cancels.splice(0)) c();
        return null;
      case "login_sso":
      case "login": {
        const r = cmd === "login" ? args.request : { ...args.request, auth: "sso", username: "" };
        let s = find(r.name);
        // Adding never replaces: core refuses an existing name, on the name field.
        if (s && r.mode === "add") {
          throw { kind: "invalid_input", message: `a server named "${r.name}" already exists`, field: "name", help: `to log in to it again, use "Log in again…" in the servers window` };
        }
        if (!s && r.mode === "edit") throw notFound(r.name);
        const check = r.saveWithoutChecking ? null : okCheck();
        if (!s) {
          s = { name: r.name, url: r.url, username: null, auth: r.auth, caBundle: null, clientCert: null, insecureTls: false, active: false, workspace: null, hasSecret: true, warnings: [], lastCheck: null };
          servers.push(s);
        }
        Object.assign(s, { url: r.url, username: r.auth === "basic" ? r.username : null, auth: r.auth, caBundle: r.caBundle, insecureTls: r.insecureTls, hasSecret: true, lastCheck: check });
        if (r.makeActive || servers.length === 1) for (const x of servers) x.active = x === s;
        return { saved: true, check, server: clone(s) };
      }
      case "verify_server": {
        const s = find(args.name);
        if (!s) throw notFound(args.name);
        s.lastCheck = s.lastCheck ? { ...s.lastCheck, checkedAt: Date.now() } : okCheck();
        return clone(s.lastCheck);
      }
      case "verify_all": {
        const out = {};
        for (const s of servers) {
          s.lastCheck = s.lastCheck ? { ...s.lastCheck, checkedAt: Date.now() } : okCheck();
          out[s.name] = clone(s.lastCheck);
        }
        return out;
      }
      case "list_workspaces": {
        if (!find(args.name)) throw notFound(args.name);
        return clone(scenario.workspaces?.[args.name] ?? { enabled: false, names: [] });
      }
      case "set_workspace": {
        const s = find(args.name);
        if (!s) throw notFound(args.name);
        const offered = scenario.workspaces?.[args.name]?.names ?? [];
        if (!offered.includes(args.workspace)) {
          throw { kind: "invalid_input", message: `the server lists no workspace "${args.workspace}" for you: it does not exist, or you may not read it`, field: "workspace", help: `yours: ${offered.join(", ")}; or ask the server's administrator for access` };
        }
        s.workspace = args.workspace;
        for (const x of servers) x.active = x === s;
        return null;
      }
      case "set_active": {
        const s = find(args.name);
        if (!s) throw notFound(args.name);
        for (const x of servers) x.active = x === s;
        return null;
      }
      case "rename_server": {
        const s = find(args.old);
        if (!s) throw notFound(args.old);
        if (find(args.new)) throw { kind: "invalid_input", message: `a server named "${args.new}" already exists`, field: "name", help: null };
        s.name = args.new;
        return null;
      }
      case "remove_server": {
        const i = servers.findIndex((s) => s.name === args.name);
        if (i < 0) throw notFound(args.name);
        servers.splice(i, 1);
        return null;
      }
      case "logout_server": {
        const s = find(args.name);
        if (!s) throw notFound(args.name);
        s.hasSecret = false;
        return null;
      }
      case "open_login":
      case "close_window":
        return null;
      default:
        throw `command ${cmd} not found`;
    }
  }

  async function handle(cmd, args) {
    calls.push({ cmd, args: clone(args ?? {}) });
    const answers = script[cmd];
    if (answers && answers.length) {
      const n = used[cmd] ?? 0;
      used[cmd] = n + 1;
      const a = answers[Math.min(n, answers.length - 1)];
      for (const [event, payload] of a.emits ?? (a.emit ? [a.emit] : [])) await hooks.emit?.(event, payload);
      if (a.untilCancel) {
        await new Promise((r) => cancels.push(r));
        throw { kind: "cancelled", message: "the sign-in was cancelled", field: null, help: null };
      }
      if (a.hold) return new Promise(() => {});
      if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      if ("err" in a) throw clone(a.err);
      if ("ok" in a) return clone(a.ok);
      // `{ delayMs }` alone: the default behaviour, later.
    }
    return defaults(cmd, args ?? {});
  }

  return { calls, servers, handle };
}

/** Fixture JSON → IPC values: negative `checkedAt` become times before `now`, named checks are looked up. */
export function materialize(fixtures, now = Date.now()) {
  const time = (c) => (c && c.checkedAt < 0 ? { ...c, checkedAt: now + c.checkedAt } : c);
  const checks = {};
  for (const [k, c] of Object.entries(fixtures.checks)) checks[k] = time(c);
  const servers = fixtures.servers.map((s) => ({ ...s, lastCheck: s.lastCheck ? checks[s.lastCheck] : null }));
  return { checks, servers, errors: fixtures.errors, settings: fixtures.settings };
}
