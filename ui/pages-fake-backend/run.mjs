// Renders the built pages (ui/dist) in Debian's Chromium with a fake Tauri backend and
// checks what a user would: validation messages, each outcome and error kind in its place,
// keyboard use, busy states. Saves the screenshots the README shows (ui/screenshots/) and
// one per state for eyeballing (ui/screenshots/states/).
//
//   npm run build && npm run pages-fake-backend            (tests/ui/run.sh does both)
//   E2E_ONLY=login npm run pages-fake-backend              (only tests whose name contains "login")
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closePages, launch, openPage, serve } from "./harness.mjs";
import { materialize } from "../test/fake-backend.js";
import fixtures from "../test/fixtures.js";

const UI = join(dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = join(UI, "screenshots");
const STATES = join(SHOTS, "states");
const fx = materialize(fixtures);
/** The servers with "2 min ago" counted from now (a run takes minutes). */
const fresh = () => materialize(fixtures).servers;
const SECRET = "correct horse:battery staple";
// The window sizes src-tauri/src/windows.rs opens (WindowKind::size).
const LOGIN_SIZE = { width: 440, height: 520 };
const SERVERS_SIZE = { width: 760, height: 480 };

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---- helpers ----------------------------------------------------------------------------

let browser;
let baseUrl;
const pages = [];

async function page(scenario, opts = {}) {
  const p = await openPage(browser, baseUrl, scenario, opts);
  pages.push(p);
  return p;
}

// The backend knows the fixture servers but "prod", which the dialog adds.
const login = (script = {}, opts = {}, server = null) =>
  page(
    { context: { window: "login", server }, servers: fresh().filter((s) => s.name !== "prod"), script },
    { viewport: LOGIN_SIZE, ...opts },
  );
const servers = (list = fresh(), script = {}, opts = {}) =>
  page({ context: { window: "servers", server: null }, servers: list, script }, { viewport: SERVERS_SIZE, ...opts });
/** "Log in again…" on one of the fixture servers: the settings `window_context` sends (no secret). */
const settingsOf = (name) => {
  const { name: n, url, username, auth, caBundle, clientCert, insecureTls } = fresh().find((s) => s.name === name);
  return { name: n, url, username, auth, caBundle, clientCert, insecureTls };
};

async function fill(p, { name = "prod", url = "https://mlflow.example.com", username = "alice", password = SECRET } = {}) {
  await p.fill("#name", name);
  await p.fill("#url", url);
  await p.fill("#username", username);
  await p.fill("#password", password);
}

const calls = (p, cmd) => p.evaluate((c) => window.__calls.filter((x) => !c || x.cmd === c), cmd);
const focusedId = (p) => p.evaluate(() => document.activeElement?.id ?? "");
const textOf = (p, sel) => p.locator(sel).innerText();

async function shot(p, file) {
  // Let the spinner and focus ring settle; reducedMotion slows the spinner down.
  await p.waitForTimeout(60);
  await p.screenshot({ path: file });
}

/** Both schemes of one state, to the states folder (and to `main` names when given). */
async function shots(make, name, main = null) {
  for (const scheme of ["light", "dark"]) {
    const p = await make(scheme);
    const file = main ? join(SHOTS, scheme === "light" ? `${main}.png` : `${main}-dark.png`) : join(STATES, `${name}-${scheme}.png`);
    await shot(p, file);
  }
}

// ---- login dialog -----------------------------------------------------------------------

test("login: validation messages, shown next to their fields, nothing sent", async () => {
  const p = await login();
  await p.fill("#name", ".prod");
  await p.fill("#url", "https://alice:pw@mlflow.example.com");
  await p.fill("#username", "ali:ce");
  await p.press("#username", "Enter");
  assert.match(await textOf(p, "#name-msg"), /cannot start/);
  assert.match(await textOf(p, "#url-msg"), /Remove the username and password from the URL/);
  assert.match(await textOf(p, "#username-msg"), /cannot contain “:”/);
  assert.match(await textOf(p, "#password-msg"), /Enter the password/);
  assert.equal(await focusedId(p), "name");
  assert.equal(await p.getAttribute("#url", "aria-invalid"), "true");
  assert.deepEqual(await calls(p, "login"), []);
  await p.fill("#url", "mlflow.example.com");
  await p.press("#url", "Enter");
  assert.equal(await textOf(p, "#url-msg"), "The URL must start with http:// or https://.");
});

test("login: Tab goes through the form in reading order", async () => {
  const p = await login();
  await p.click("#advanced summary");
  await p.focus("#name");
  const order = ["name"];
  for (let i = 0; i < 12; i++) {
    await p.keyboard.press("Tab");
    order.push((await focusedId(p)) || (await p.evaluate(() => document.activeElement?.tagName.toLowerCase())));
  }
  assert.deepEqual(order, [
    "name",
    "url",
    "auth-basic",
    "username",
    "password",
    "reveal",
    "summary",
    "ca_bundle",
    "insecure",
    "make-active",
    "save-unchecked",
    "cancel",
    "submit",
  ]);
});

for (const [check, where, focus] of [
  ["bad_credentials", "#password-msg", "password"],
  ["forbidden_proxy", "#username-msg", "username"],
  ["not_mlflow", "#url-msg", "url"],
  ["use_https", "#url-msg", "url"],
  ["unreachable_dns", "#url-msg", "url"],
  ["tls_ca", "#ca_bundle-msg", "ca_bundle"],
  ["server_down", "#outcome", "password"],
  ["client_cert", "#outcome", "password"],
]) {
  test(`login: outcome ${check} is shown at ${where}`, async () => {
    const c = fx.checks[check];
    const p = await login({ login: [{ ok: { saved: false, check: c } }] });
    await fill(p);
    await p.press("#password", "Enter");
    await p.waitForSelector(`${where}[data-kind="${c.kind}"]`);
    const shown = await textOf(p, where);
    assert.ok(shown.startsWith(c.summary.charAt(0).toUpperCase()), shown);
    assert.ok(await p.isVisible(where), `${where} visible`);
    assert.equal(await focusedId(p), focus);
    assert.equal(await p.inputValue("#password"), "");
    if (where !== "#outcome") assert.equal(await textOf(p, "#outcome"), "");
  });
}

for (const kind of ["keychain_locked", "keychain_unavailable", "keychain_timeout", "config", "io", "internal", "not_found"]) {
  test(`login: error ${kind} is shown under the form`, async () => {
    const p = await login({ login: [{ err: fx.errors[kind] }] });
    await fill(p);
    await p.click("#submit");
    await p.waitForSelector(`#outcome[data-kind="${kind}"]`);
    const shown = await textOf(p, "#outcome");
    if (kind === "keychain_locked") assert.match(shown, /Unlock your keyring and try again/);
    assert.ok(shown.includes(fx.errors[kind].message.slice(1, 20)), shown);
  });
}

test("login: the password goes to `login` only, once, and leaves the page", async () => {
  const p = await login({ login: [{ ok: { saved: false, check: fx.checks.bad_credentials } }] });
  await fill(p);
  await p.click("#reveal");
  await p.press("#password", "Enter");
  await p.waitForSelector("#password-msg[data-kind]");
  const all = await calls(p);
  const logins = all.filter((c) => c.cmd === "login");
  assert.equal(logins.length, 1);
  assert.equal(logins[0].args.request.password, SECRET);
  for (const c of all.filter((c) => c.cmd !== "login")) assert.ok(!JSON.stringify(c).includes(SECRET), c.cmd);
  assert.equal(await p.inputValue("#password"), "");
  assert.equal(await p.getAttribute("#password", "type"), "password");
  assert.ok(!(await p.content()).includes(SECRET));
});

test("login: busy state disables the button and shows a spinner", async () => {
  const p = await login({ login: [{ hold: true }] });
  await fill(p);
  await p.press("#password", "Enter");
  await p.waitForSelector("#submit .spinner");
  assert.equal(await p.isDisabled("#submit"), true);
  assert.equal(await p.isDisabled("#save-unchecked"), true);
  assert.match(await textOf(p, "#submit"), /Checking/);
  await p.keyboard.press("Enter");
  assert.equal((await calls(p, "login")).length, 1);
});

test("login: Esc closes the window", async () => {
  const p = await login();
  await p.fill("#name", "x");
  await p.keyboard.press("Escape");
  assert.equal(await p.evaluate(() => window.__closed), 1);
});

test("login: success says Signed in, then the window closes", async () => {
  const p = await login();
  await fill(p);
  await p.press("#password", "Enter");
  await p.waitForSelector("#outcome.ok");
  assert.match(await textOf(p, "#outcome"), /Signed in as alice — MLflow 2\.19\.0/);
  assert.equal(await p.evaluate(() => window.__closed), 0);
  await p.waitForFunction(() => window.__closed === 1, null, { timeout: 3000 });
});

test("login: log in again starts in the password field", async () => {
  const p = await login({}, {}, settingsOf("staging"));
  assert.equal(await focusedId(p), "password");
  assert.equal(await p.inputValue("#name"), "staging");
  assert.equal(await p.evaluate(() => document.querySelector("#name").readOnly), true);
  await p.keyboard.type(SECRET);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#outcome.ok");
  const [req] = (await calls(p, "login")).map((c) => c.args.request);
  assert.equal(req.mode, "edit");
  assert.equal(req.name, "staging");
  assert.equal(req.url, "https://staging.example.com/mlflow");
  assert.equal(req.caBundle, "/etc/ssl/certs/company-ca.pem");
});

test("login: log in again to a token server keeps token mode, CA bundle, insecure flag", async () => {
  const server = { ...settingsOf("gpu-cluster"), caBundle: "/etc/ssl/certs/gpu-ca.pem" };
  const p = await login({}, {}, server);
  assert.equal(await focusedId(p), "password");
  assert.equal(await p.isChecked("#auth-bearer"), true);
  assert.equal(await p.isVisible("#username"), false);
  assert.equal(await textOf(p, 'label[for="password"]'), "Token");
  assert.equal(await p.inputValue("#ca_bundle"), "/etc/ssl/certs/gpu-ca.pem");
  assert.equal(await p.isVisible("#ca_bundle"), true);
  assert.equal(await p.isChecked("#insecure"), true);
  assert.match(await textOf(p, "#client-cert"), /gpu-client\.pem/);
  await p.keyboard.type(SECRET);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#outcome.ok");
  const [req] = (await calls(p, "login")).map((c) => c.args.request);
  assert.deepEqual(
    { mode: req.mode, auth: req.auth, username: req.username, caBundle: req.caBundle, insecureTls: req.insecureTls },
    { mode: "edit", auth: "bearer", username: "", caBundle: "/etc/ssl/certs/gpu-ca.pem", insecureTls: true },
  );
});

test("login: adding a name that exists is refused on the name field", async () => {
  const p = await login();
  await fill(p, { name: "staging" });
  await p.press("#password", "Enter");
  await p.waitForSelector('#name-msg[data-kind="invalid_input"]');
  assert.match(await textOf(p, "#name-msg"), /already exists/);
  assert.equal(await focusedId(p), "name");
  assert.equal(await textOf(p, "#outcome"), "");
  assert.equal(await p.inputValue("#password"), "");
});

test("login: token sign-in hides the username", async () => {
  const p = await login();
  await p.click('label[for="auth-bearer"]');
  assert.equal(await p.isChecked("#auth-bearer"), true);
  assert.equal(await p.isVisible("#username"), false);
  assert.equal(await textOf(p, 'label[for="password"]'), "Token");
});

test("login: screenshots", async () => {
  await shots(async (scheme) => login({}, { scheme }), "login-empty");
  await shots(async (scheme) => {
    const p = await login({ login: [{ ok: { saved: false, check: fx.checks.bad_credentials } }] }, { scheme, scale: 2 });
    await fill(p);
    await p.press("#password", "Enter");
    await p.waitForSelector("#password-msg[data-kind]");
    return p;
  }, "login-error", "login-error");
  await shots(async (scheme) => {
    const p = await login({ login: [{ ok: { saved: false, check: fx.checks.tls_ca } }] }, { scheme });
    await fill(p, { url: "https://mlflow.corp.example" });
    await p.click("#advanced summary");
    await p.click("#insecure");
    await p.press("#password", "Enter");
    await p.waitForSelector("#ca_bundle-msg[data-kind]");
    return p;
  }, "login-tls");
  await shots(async (scheme) => {
    const p = await login({}, { scheme });
    await p.fill("#name", "-prod");
    await p.fill("#url", "https://alice:pw@mlflow.example.com");
    await p.press("#url", "Enter");
    return p;
  }, "login-validation");
  await shots(async (scheme) => {
    const p = await login({ login: [{ hold: true }] }, { scheme });
    await fill(p);
    await p.press("#password", "Enter");
    await p.waitForSelector("#submit .spinner");
    return p;
  }, "login-busy");
  await shots(async (scheme) => {
    const p = await login({ login: [{ err: fx.errors.keychain_locked }] }, { scheme });
    await fill(p);
    await p.press("#password", "Enter");
    await p.waitForSelector("#outcome[data-kind]");
    return p;
  }, "login-keychain-locked");
  await shots(async (scheme) => {
    const p = await login({ login: [{ ok: { saved: false, check: fx.checks.server_down } }] }, { scheme });
    await fill(p, { url: "http://10.0.4.17:5000" });
    await p.press("#password", "Enter");
    await p.waitForSelector("#outcome[data-kind]");
    return p;
  }, "login-server-down");
  await shots(async (scheme) => {
    const p = await login({ login: [{ delayMs: 5000 }] }, { scheme }, settingsOf("staging"));
    return p;
  }, "login-again");
  await shots(async (scheme) => {
    const server = { ...settingsOf("gpu-cluster"), caBundle: "/etc/ssl/certs/gpu-ca.pem" };
    const p = await login({}, { scheme }, server);
    await p.evaluate(() => document.querySelector("#client-cert").scrollIntoView());
    return p;
  }, "login-again-token");
  await shots(async (scheme) => {
    const p = await login({}, { scheme });
    await fill(p);
    await p.press("#password", "Enter");
    await p.waitForSelector("#outcome.ok");
    return p;
  }, "login-signed-in");
});

test("login: single sign-on waits with the URL to copy (screenshot)", async () => {
  const url = "https://idp.example.com/realms/acme/protocol/openid-connect/auth?client_id=mlflow-login&response_type=code&code_challenge_method=S256";
  await shots(async (scheme) => {
    const p = await page(
      {
        context: { window: "login", server: null },
        servers: fresh().filter((s) => s.name !== "prod"),
        ssoHints: { issuer: "https://idp.example.com/realms/acme", clientId: "mlflow-login" },
        script: {
          login_sso: [
            {
              emits: [
                ["sso-prompt", { kind: "signingIn", issuer: "https://idp.example.com/realms/acme", host: "mlflow.corp.example.com" }],
                ["sso-prompt", { kind: "browser", url, error: null }],
              ],
              hold: true,
            },
          ],
        },
      },
      { viewport: LOGIN_SIZE, scheme, scale: 2 },
    );
    await p.fill("#name", "corp");
    await p.click('label[for="auth-sso"]');
    await p.fill("#url", "https://mlflow.corp.example.com");
    await p.press("#url", "Tab");
    await p.waitForFunction(() => document.querySelector("#client_id").value === "mlflow-login");
    assert.equal(await p.isVisible("#password"), false);
    await p.click("#submit");
    await p.waitForSelector("#sso_url");
    assert.equal(await p.inputValue("#sso_url"), url);
    assert.equal(
      await textOf(p, "#sso-signing-in"),
      "Signing in at https://idp.example.com/realms/acme for mlflow.corp.example.com",
    );
    return p;
  }, "login-sso", "login-sso");
});

test("login: single sign-on asks before an identity provider a team list named, then says where it signs in", async () => {
  // core's words for a team list's identity provider on no domain of the server's
  const unconfirmed = fx.errors.issuer_unconfirmed;
  const server = fx.settings["corp-team-sso"];
  const signingIn = { kind: "signingIn", issuer: server.issuer, host: "mlflow.corp.example.com" };
  await shots(async (scheme) => {
    const p = await login({ login_sso: [{ err: unconfirmed }, { emits: [["sso-prompt", signingIn]], hold: true }] }, { scheme }, server);
    await p.click("#submit");
    await p.waitForSelector("#issuer-question");
    assert.match(await textOf(p, "#issuer-question"), /A team list names the identity provider https:\/\/login\.lookalike\.example/);
    assert.equal(await focusedId(p), "trust_issuer");
    assert.equal(await p.isVisible("#sso-wait"), false, "no sign-in started");
    // Signing in again without the tick sends nothing more.
    await p.click("#submit");
    assert.equal((await calls(p, "login_sso")).length, 1);
    return p;
  }, "login-sso-trust");
  const p = await login({ login_sso: [{ err: unconfirmed }, { emits: [["sso-prompt", signingIn]], hold: true }] }, {}, server);
  await p.click("#submit");
  await p.waitForSelector("#issuer-question");
  await p.keyboard.press("Space");
  await p.click("#submit");
  await p.waitForSelector("#sso-signing-in");
  assert.equal(await textOf(p, "#sso-signing-in"), "Signing in at https://login.lookalike.example for mlflow.corp.example.com");
  const sent = (await calls(p, "login_sso")).map((c) => c.args.request.trustIssuer);
  assert.deepEqual(sent, [false, true]);
});

// ---- servers window ---------------------------------------------------------------------

test("servers: the list shows user, URL, last check, warnings", async () => {
  const p = await servers();
  await p.waitForSelector(".server-list");
  assert.equal(await p.locator("li.server").count(), 4);
  assert.match(await textOf(p, 'li[data-name="prod"]'), /Active/);
  assert.match(await textOf(p, 'li[data-name="prod"] .check-line'), /Signed in\s+MLflow 2\.19\.0 · 42 ms · 2 min ago/);
  assert.match(await textOf(p, 'li[data-name="staging"] .check-line'), /Wrong username or password/);
  assert.match(await textOf(p, 'li[data-name="lab"] .warnings'), /plain http/);
});

test("servers: empty state leads to Add server", async () => {
  const p = await servers([]);
  await p.waitForSelector(".empty");
  await p.click("#empty-add");
  assert.deepEqual(await calls(p, "open_login"), [{ cmd: "open_login", args: {} }]);
});

test("servers: keyboard: remove asks first, Enter on the safe answer keeps it", async () => {
  const p = await servers();
  await p.waitForSelector(".server-list");
  await p.focus('li[data-name="lab"] button[data-focus="lab:more"]');
  await p.keyboard.press("Enter");
  await p.keyboard.press("Tab"); // into "More": Rename…
  await p.keyboard.press("Tab"); // Workspace…
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Workspace…");
  await p.keyboard.press("Tab"); // Log out
  await p.keyboard.press("Tab"); // Change password… (a Basic server with a password)
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Change password…");
  await p.keyboard.press("Tab"); // Remove…
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Remove…");
  await p.keyboard.press("Enter");
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Keep");
  assert.match(await textOf(p, 'li[data-name="lab"] .confirm'), /Remove lab\?/);
  await p.keyboard.press("Enter");
  assert.equal(await p.locator('li[data-name="lab"] .confirm').count(), 0);
  assert.deepEqual(await calls(p, "remove_server"), []);
  await p.keyboard.press("Enter"); // focus went back to Remove…
  await p.keyboard.press("Shift+Tab");
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Remove");
  await p.keyboard.press("Enter");
  await p.waitForFunction(() => !document.querySelector('li[data-name="lab"]'));
  assert.deepEqual(await calls(p, "remove_server"), [{ cmd: "remove_server", args: { name: "lab" } }]);
});

test("servers: keyboard: a workspace the server lists is chosen", async () => {
  const workspaces = { lab: { enabled: true, names: ["team-a", "team-b"] } };
  const p = await page(
    { context: { window: "servers", server: null }, servers: fresh(), workspaces },
    { viewport: SERVERS_SIZE },
  );
  await p.waitForSelector(".server-list");
  await p.focus('li[data-name="lab"] button[data-focus="lab:more"]');
  await p.keyboard.press("Enter");
  await p.keyboard.press("Tab"); // Rename…
  await p.keyboard.press("Tab"); // Workspace…
  await p.keyboard.press("Enter");
  await p.waitForSelector('li[data-name="lab"] .workspaces button');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "team-a", "the first choice takes focus");
  await p.keyboard.press("Tab");
  await p.keyboard.press("Enter"); // team-b
  await p.waitForFunction(() => document.querySelector('li[data-name="lab"] .who .workspace')?.textContent === " · workspace team-b");
  assert.deepEqual(await calls(p, "set_workspace"), [{ cmd: "set_workspace", args: { name: "lab", workspace: "team-b" } }]);
  assert.equal(await p.evaluate(() => document.activeElement.textContent), "Workspace…", "focus back on the button");
  assert.match(await textOf(p, 'li[data-name="lab"]'), /Active/);
});

test("servers: keyboard: inline rename with Enter", async () => {
  const p = await servers();
  await p.waitForSelector(".server-list");
  await p.click('button[data-focus="lab:more"]');
  await p.click('button[data-focus="lab:rename"]');
  assert.equal(await p.evaluate(() => document.activeElement.className), "rename-input");
  await p.keyboard.press("Control+A");
  await p.keyboard.type("lab-gpu");
  await p.keyboard.press("Enter");
  await p.waitForSelector('li[data-name="lab-gpu"]');
  assert.deepEqual(await calls(p, "rename_server"), [{ cmd: "rename_server", args: { old: "lab", new: "lab-gpu" } }]);
});

test("servers: an inline rename keeps text, caret and focus while the list re-renders", async () => {
  const p = await servers(fresh(), { verify_server: [{ delayMs: 300 }] });
  await p.waitForSelector(".server-list");
  await p.click('button[data-focus="prod:verify"]');
  await p.click('button[data-focus="lab:more"]');
  await p.click('button[data-focus="lab:rename"]');
  await p.keyboard.type("lab-gpu-2");
  await p.keyboard.press("ArrowLeft");
  await p.keyboard.press("Shift+ArrowLeft");
  const state = () =>
    p.evaluate(() => {
      const e = document.activeElement;
      return { cls: e.className, value: e.value, start: e.selectionStart, end: e.selectionEnd };
    });
  const before = await state();
  assert.deepEqual(before, { cls: "rename-input", value: "lab-gpu-2", start: 7, end: 8 });
  // prod's check finishes, then the window regains focus and reloads the list.
  await p.waitForSelector('li[data-name="prod"] .check-line.checking', { state: "detached" });
  assert.deepEqual(await state(), before);
  const lists = (await calls(p, "list_servers")).length;
  await p.evaluate(() => window.dispatchEvent(new Event("focus")));
  await p.waitForFunction((n) => window.__calls.filter((c) => c.cmd === "list_servers").length > n, lists);
  assert.deepEqual(await state(), before);
  await p.keyboard.type("x");
  await p.keyboard.press("Enter");
  await p.waitForSelector('li[data-name="lab-gpux2"]');
});

test("servers: verify all shows spinners, then results", async () => {
  const p = await servers(fresh(), { verify_all: [{ delayMs: 300 }] });
  await p.waitForSelector(".server-list");
  await p.click("#verify-all");
  await p.waitForSelector(".check-line.checking");
  assert.equal(await p.locator(".check-line.checking").count(), 4);
  await p.waitForSelector(".check-line.checking", { state: "detached" });
  assert.equal((await calls(p, "verify_all")).length, 1);
});

for (const kind of ["keychain_locked", "keychain_unavailable", "keychain_timeout", "io", "internal"]) {
  test(`servers: error ${kind} is shown in a banner`, async () => {
    const p = await servers(fresh(), { verify_server: [{ err: fx.errors[kind] }] });
    await p.waitForSelector(".server-list");
    await p.click('button[data-focus="staging:verify"]');
    await p.waitForSelector(`.banner[data-kind="${kind}"]`);
    const shown = await textOf(p, ".banner");
    assert.match(shown, /^Could not verify staging: /);
    if (kind === "keychain_locked") assert.match(shown, /Unlock your keyring and try again/);
  });
}

test("servers: a damaged config is shown instead of the list", async () => {
  const p = await servers(fresh(), { list_servers: [{ err: fx.errors.config }] });
  await p.waitForSelector('.empty.failed[data-kind="config"]');
  assert.match(await textOf(p, ".empty.failed"), /config\.toml line 7/);
});

test("servers: screenshots", async () => {
  await shots(async (scheme) => {
    const p = await servers(fresh(), {}, { scheme, scale: 2 });
    await p.waitForSelector(".server-list");
    return p;
  }, "servers", "servers");
  await shots(async (scheme) => {
    const p = await servers([], {}, { scheme });
    await p.waitForSelector(".empty");
    return p;
  }, "servers-empty");
  await shots(async (scheme) => {
    const p = await servers(fresh(), { verify_all: [{ hold: true }] }, { scheme });
    await p.waitForSelector(".server-list");
    await p.click("#verify-all");
    await p.waitForSelector(".check-line.checking");
    return p;
  }, "servers-busy");
  await shots(async (scheme) => {
    const p = await servers(fresh(), { verify_server: [{ err: fx.errors.keychain_locked }] }, { scheme });
    await p.waitForSelector(".server-list");
    await p.click('button[data-focus="staging:verify"]');
    await p.waitForSelector(".banner");
    return p;
  }, "servers-keychain-locked");
  await shots(async (scheme) => {
    const p = await servers(fresh(), { list_servers: [{ err: fx.errors.config }] }, { scheme });
    await p.waitForSelector(".empty.failed");
    return p;
  }, "servers-config-error");
  await shots(async (scheme) => {
    const p = await servers(fresh(), {}, { scheme });
    await p.waitForSelector(".server-list");
    await p.click('button[data-focus="lab:more"]');
    await p.click('button[data-focus="lab:remove"]');
    return p;
  }, "servers-confirm-remove");
  await shots(async (scheme) => {
    const p = await servers(fresh(), {}, { scheme });
    await p.waitForSelector(".server-list");
    await p.click('button[data-focus="staging:more"]');
    await p.click('button[data-focus="staging:rename"]');
    await p.keyboard.type("/x");
    await p.keyboard.press("Enter");
    return p;
  }, "servers-rename");
});

// ---- run --------------------------------------------------------------------------------

await mkdir(STATES, { recursive: true });
const only = process.env.E2E_ONLY;
const selected = tests.filter((t) => !only || t.name.includes(only));
const site = await serve(join(UI, "dist"));
baseUrl = site.url;
const chromium = await launch();
browser = chromium.browser;
let failed = 0;
try {
  for (const t of selected) {
    const started = Date.now();
    try {
      await t.fn();
      const problems = pages.flatMap((p) => p.problems);
      assert.deepEqual(problems, [], "console errors, page errors or CSP violations");
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split("\n").slice(0, 8).join("\n     ")}`);
    } finally {
      pages.length = 0;
    }
  }
} finally {
  await closePages();
  await chromium.close();
  await site.close();
}
console.log(`\n${selected.length - failed} passed, ${failed} failed; screenshots in ${SHOTS}`);
process.exit(failed ? 1 : 0);
