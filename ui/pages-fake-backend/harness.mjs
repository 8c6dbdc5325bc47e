// Playwright plumbing for the UI pages: a static server for ui/dist on 127.0.0.1, Debian's
// Chromium (never a downloaded browser), and a fake `window.__TAURI_INTERNALS__` so the
// built bundle's `invoke` calls land in test/fake-backend.js instead of Rust.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { fakeBackend } from "../test/fake-backend.js";

const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

/**
 * The Content-Security-Policy the app really runs under: src-tauri/tauri.conf.json's
 * `app.security.csp` (Tauri sends it with every page). Served with the pages here, so a
 * bundle that breaks it fails the run (Chromium reports violations on the console).
 */
async function tauriCsp() {
  const conf = join(UI_DIR, "..", "src-tauri", "tauri.conf.json");
  try {
    const csp = JSON.parse(await readFile(conf, "utf8"))?.app?.security?.csp;
    if (typeof csp === "string" && csp) return csp;
  } catch {
    // No Tauri config yet: fall back to the strict default below.
  }
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ipc: http://ipc.localhost";
}

/** Serves `dir` on 127.0.0.1 (a free port) with the app's CSP; resolves to `{ url, close }`. */
export async function serve(dir) {
  const csp = await tauriCsp();
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        "content-security-policy": csp,
      });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/**
 * Debian's Chromium, headless, quiet on the network. Playwright gives it a fresh temporary
 * profile (`--user-data-dir` in the temp dir, deleted on close); it refuses one passed in
 * `args`, so we do not.
 */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install it with \`apt-get install chromium\` (or set CHROMIUM=/path/to/chromium)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return { browser, close: () => browser.close() };
}

/**
 * The init script: the fake backend plus the small part of Tauri's internals `invoke` uses.
 * It reads its scenario from the page's query string, so one page can be reloaded with
 * another scenario (opening a fresh page costs seconds on a loaded 2-core machine).
 */
function initScript() {
  return `(() => {
    const raw = new URLSearchParams(location.search).get("scenario");
    if (!raw) return;
    const fakeBackend = ${fakeBackend.toString()};
    let next = 1;
    const callbacks = new Map();
    const listeners = [];
    const emit = (event, payload) => {
      for (const l of listeners) if (l.event === event) callbacks.get(l.handler)?.({ event, id: l.id, payload });
    };
    const backend = fakeBackend(JSON.parse(raw), { emit });
    window.__calls = backend.calls;
    window.__closed = 0;
    window.__TAURI_INTERNALS__ = {
      metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
      invoke: (cmd, args) => {
        if (cmd === "close_window") window.__closed += 1;
        if (cmd === "plugin:event|listen") {
          const id = next++;
          listeners.push({ event: args.event, handler: args.handler, id });
          return Promise.resolve(id);
        }
        if (cmd === "plugin:event|unlisten") return Promise.resolve(null);
        return backend.handle(cmd, args);
      },
      transformCallback: (cb, once) => {
        const id = next++;
        callbacks.set(id, (d) => { if (once) callbacks.delete(id); return cb && cb(d); });
        return id;
      },
      unregisterCallback: (id) => callbacks.delete(id),
      convertFileSrc: (p) => p,
    };
  })();`;
}

const pool = new Map();

/**
 * A page showing the built bundle against `scenario`, in `scheme` (light/dark). Pages are
 * reused per scheme, size and scale, and reloaded for each scenario. Console errors and
 * page errors (a CSP violation is one) collect in `page.problems`.
 */
export async function openPage(browser, baseUrl, scenario, { scheme = "light", viewport = { width: 460, height: 640 }, scale = 1 } = {}) {
  const key = `${scheme} ${viewport.width}x${viewport.height} ${scale}`;
  let page = pool.get(key);
  if (!page) {
    const context = await browser.newContext({ colorScheme: scheme, viewport, deviceScaleFactor: scale, reducedMotion: "reduce" });
    page = await context.newPage();
    page.problems = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") page.problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
    // The pages must work with no network at all: refuse anything but our own server.
    await context.route("**/*", (route) => (route.request().url().startsWith(baseUrl) ? route.continue() : route.abort()));
    await page.addInitScript({ content: initScript() });
    pool.set(key, page);
  }
  page.problems.length = 0;
  await page.goto(`${baseUrl}?scenario=${encodeURIComponent(JSON.stringify(scenario))}`);
  await page.waitForSelector("main");
  return page;
}

/** Closes every pooled page. */
export async function closePages() {
  for (const page of pool.values()) await page.context().close().catch(() => {});
  pool.clear();
}
