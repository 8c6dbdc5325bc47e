import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CheckView, IpcError, LoginRequest, ServerSettings } from "../src/ipc";
import { CLOSE_DELAY_MS } from "../src/login/form";
import { AUTH_LIST } from "../src/shared/auth";
import type { Call } from "./fake-backend.js";
import { $, $$, click, flush, fx, key, setup, text, type } from "./helpers";

const SECRET = "s3cr3t-Pa55:word";

async function open(script: Record<string, object[]> = {}, server: ServerSettings | null = null) {
  return setup({ context: { window: "login", server }, script, servers: fx.servers });
}

/** The settings of a configured server, as `window_context` sends them for "Log in again…". */
const settings = (over: Partial<ServerSettings> = {}): ServerSettings => ({
  name: "staging",
  url: "https://staging.example.com/mlflow",
  username: "alice",
  auth: "basic",
  caBundle: null,
  clientCert: null,
  insecureTls: false,
  issuer: null,
  clientId: null,
  ...over,
});

function fill({ name = "new-prod", url = "https://mlflow.example.com", username = "alice", password = SECRET } = {}) {
  type("#name", name);
  type("#url", url);
  type("#username", username);
  type("#password", password);
}

/** The `login` request for `fill()`'s values, with `over` changed. */
const request = (over: Partial<LoginRequest> = {}): { request: LoginRequest } => ({
  request: {
    mode: "add",
    name: "new-prod",
    url: "https://mlflow.example.com",
    username: "alice",
    password: SECRET,
    auth: "basic",
    caBundle: null,
    insecureTls: false,
    saveWithoutChecking: false,
    makeActive: true,
    ...over,
  },
});

/** Types the secret and presses Enter in its field; the arguments of the `login` sent. */
async function sendSecret(calls: Call[]) {
  type("#password", SECRET);
  key($("#password"), "Enter");
  await flush();
  return calls.find((c) => c.cmd === "login")?.args;
}

async function submitWith(check: CheckView | null, err?: IpcError) {
  const answer = err ? { err } : { ok: { saved: false, check } };
  const env = await open({ login: [answer] });
  fill();
  $("#login-form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  await flush();
  return env;
}

let consoleSpies: ReturnType<typeof vi.spyOn>[] = [];
beforeEach(() => {
  consoleSpies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m));
});
afterEach(() => {
  // The password must never reach the console, whatever happened in the test.
  for (const spy of consoleSpies) {
    for (const args of spy.mock.calls) expect(JSON.stringify(args)).not.toContain(SECRET);
  }
});

describe("login dialog: validation", () => {
  it("shows each problem next to its field, focuses the first, and sends nothing", async () => {
    const { calls } = await open();
    type("#name", "-prod");
    type("#url", "https://alice:pw@mlflow.example.com");
    type("#username", "ali:ce");
    click("#submit");
    await flush();
    expect(text("#name-msg")).toMatch(/cannot start/);
    expect(text("#url-msg")).toMatch(/Remove the username and password from the URL/);
    expect(text("#username-msg")).toMatch(/“:”/);
    expect(text("#password-msg")).toMatch(/Enter the password/);
    expect($("#name").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement?.id).toBe("name");
    expect(calls.filter((c) => c.cmd === "login")).toHaveLength(0);
  });

  it("wants http:// or https://", async () => {
    await open();
    fill({ url: "mlflow.example.com" });
    click("#submit");
    await flush();
    expect(text("#url-msg")).toBe("The URL must start with http:// or https://.");
    expect(document.activeElement?.id).toBe("url");
  });

  it("clears a field's message when it is edited", async () => {
    await open();
    click("#submit");
    await flush();
    expect(text("#name-msg")).not.toBe("");
    type("#name", "prod");
    expect(text("#name-msg")).toBe("");
    expect($("#name").hasAttribute("aria-invalid")).toBe(false);
  });

  it("warns about plain http to another host, and about insecure TLS", async () => {
    await open();
    type("#url", "http://10.0.4.17:5000");
    expect($("#http-warning").hidden).toBe(false);
    expect(text("#http-warning")).toMatch(/unencrypted/);
    type("#url", "http://localhost:5000");
    expect($("#http-warning").hidden).toBe(true);
    expect($("#insecure-warning").hidden).toBe(true);
    click("#insecure");
    expect($("#insecure-warning").hidden).toBe(false);
  });
});

describe("login dialog: outcomes in the right place", () => {
  it.each([
    ["bad_credentials", "#password-msg", /Wrong username or password/, "password"],
    ["forbidden_proxy", "#username-msg", /refuses access to this user/, "username"],
    ["not_mlflow", "#url-msg", /not an MLflow API/, "url"],
    ["use_https", "#url-msg", /redirects to https/, "url"],
    ["unreachable_dns", "#url-msg", /could not be resolved/, "url"],
    ["tls_ca", "#ca_bundle-msg", /does not trust/, "ca_bundle"],
    ["server_down", "#outcome", /MLflow behind it did not/, "password"],
    ["client_cert", "#outcome", /wants a client certificate/, "password"],
  ] as const)("%s → %s", async (name, where, summary, focused) => {
    const check = fx.checks[name]!;
    await submitWith(check);
    const el = $(where);
    expect(el.textContent).toMatch(summary);
    expect(el.dataset.kind).toBe(check.kind);
    // The help sentence is there too, capitalised.
    expect(el.textContent).toContain(check.help!.charAt(0).toUpperCase() + check.help!.slice(1, 20));
    expect(document.activeElement?.id).toBe(focused);
    if (where !== "#outcome") expect(text("#outcome")).toBe("");
    if (name === "tls_ca") expect($<HTMLDetailsElement>("#advanced").open).toBe(true);
    // Refused → error tone; unchecked → warning tone, with the way out.
    expect(el.className).toContain(check.class === "refused" ? "error" : "warning");
    if (check.class === "unchecked") expect(el.textContent).toMatch(/Save without checking/);
  });

  it("puts a username outcome under the form when the username field is hidden (token)", async () => {
    const env = await open({ login: [{ ok: { saved: false, check: { ...fx.checks.forbidden_proxy, field: "username" } } }] });
    fill();
    click("#auth-bearer");
    click("#submit");
    await flush();
    expect(text("#outcome")).toMatch(/refuses access/);
    expect(text("#username-msg")).toBe("");
    expect(env.calls.find((c) => c.cmd === "login")?.args).toMatchObject({ request: { auth: "bearer", username: "" } });
  });
});

describe("login dialog: errors by kind", () => {
  it.each([
    ["keychain_locked", /Your keyring is locked/, /Unlock your keyring and try again/],
    ["keychain_unavailable", /No keyring is available/, /Start a Secret Service/],
    ["keychain_timeout", /did not answer in time/, /try again/],
    ["config", /configuration file cannot be read/, /config\.toml line 7/],
    ["io", /could not be read or written/, /permission denied/],
    ["internal", /Something went wrong/, /mlflow-login doctor/],
    ["not_found", /not configured any more/, /removed from the command line/],
  ] as const)("%s", async (kind, title, more) => {
    await submitWith(null, fx.errors[kind]);
    const out = $("#outcome");
    expect(out.dataset.kind).toBe(kind);
    expect(out.className).toContain("error");
    expect(out.textContent).toMatch(title);
    expect(out.textContent).toMatch(more);
  });

  it("invalid_input with a field lands next to that field", async () => {
    await submitWith(null, fx.errors.invalid_input);
    expect(text("#url-msg")).toBe("The URL contains a username and password.");
    expect($("#url-msg").dataset.kind).toBe("invalid_input");
    expect(document.activeElement?.id).toBe("url");
  });

  it("uses the help Rust sends, when it sends one", async () => {
    await submitWith(null, { kind: "keychain_unavailable", message: "no Secret Service", field: null, help: "start gnome-keyring-daemon" });
    expect(text("#outcome")).toMatch(/Start gnome-keyring-daemon\./);
  });
});

describe("login dialog: the password", () => {
  it("goes to `login` once, and nowhere else; the field is emptied", async () => {
    const { calls } = await submitWith(fx.checks.bad_credentials);
    const logins = calls.filter((c) => c.cmd === "login");
    expect(logins).toHaveLength(1);
    expect(logins[0]!.args).toEqual(request());
    for (const c of calls.filter((c) => c.cmd !== "login")) expect(JSON.stringify(c.args)).not.toContain(SECRET);
    expect($<HTMLInputElement>("#password").value).toBe("");
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect($<HTMLInputElement>("#password").placeholder).toMatch(/again/);
  });

  it("is emptied as soon as it is sent, while the check runs", async () => {
    await open({ login: [{ hold: true }] });
    fill();
    click("#reveal");
    expect($<HTMLInputElement>("#password").type).toBe("text");
    click("#submit");
    await flush();
    expect($<HTMLInputElement>("#password").value).toBe("");
    expect($<HTMLInputElement>("#password").type).toBe("password");
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("show/hide toggles the field and says so", async () => {
    await open();
    const reveal = $("#reveal");
    expect(reveal.getAttribute("aria-pressed")).toBe("false");
    click(reveal);
    expect($<HTMLInputElement>("#password").type).toBe("text");
    expect(reveal.getAttribute("aria-pressed")).toBe("true");
    expect(reveal.textContent).toBe("Hide");
    click(reveal);
    expect($<HTMLInputElement>("#password").type).toBe("password");
  });
});

describe("login dialog: busy, success, save without checking", () => {
  it("disables the buttons and shows a spinner while checking", async () => {
    const { calls } = await open({ login: [{ hold: true }] });
    fill();
    click("#submit");
    await flush();
    const submit = $<HTMLButtonElement>("#submit");
    expect(submit.disabled).toBe(true);
    expect(submit.querySelector(".spinner")).not.toBeNull();
    expect(submit.textContent).toMatch(/Checking/);
    expect($<HTMLButtonElement>("#save-unchecked").disabled).toBe(true);
    expect($("#login-form").getAttribute("aria-busy")).toBe("true");
    // A second Enter does not send a second request.
    key($("#name"), "Enter");
    click("#submit");
    await flush();
    expect(calls.filter((c) => c.cmd === "login")).toHaveLength(1);
  });

  it("says Signed in, then closes the window", async () => {
    const env = await open();
    fill();
    click("#submit");
    await flush();
    expect(text("#outcome")).toMatch(/Signed in as alice — MLflow 2\.19\.0/);
    expect($("#outcome").className).toContain("ok");
    expect(env.calls.some((c) => c.cmd === "close_window")).toBe(false);
    await flush(CLOSE_DELAY_MS - 1);
    expect(env.calls.some((c) => c.cmd === "close_window")).toBe(false);
    await flush(1);
    expect(env.calls.filter((c) => c.cmd === "close_window")).toHaveLength(1);
  });

  it("“Save without checking” says so in the request", async () => {
    const { calls } = await open();
    fill();
    click("#save-unchecked");
    await flush();
    expect(calls.find((c) => c.cmd === "login")?.args).toMatchObject({ request: { saveWithoutChecking: true } });
    expect(text("#outcome")).toMatch(/Saved new-prod without checking/);
  });

  it("sends the TLS settings", async () => {
    const { calls } = await open();
    fill();
    type("#ca_bundle", " /etc/ssl/company.pem ");
    click("#insecure");
    click("#submit");
    await flush();
    expect(calls.find((c) => c.cmd === "login")?.args).toMatchObject({
      request: { caBundle: "/etc/ssl/company.pem", insecureTls: true },
    });
  });
});

describe("login dialog: keyboard", () => {
  it("Enter in a field submits", async () => {
    const { calls } = await open();
    fill();
    const e = key($("#password"), "Enter");
    await flush();
    expect(e.defaultPrevented).toBe(true);
    expect(calls.filter((c) => c.cmd === "login")).toHaveLength(1);
  });

  it("Enter on a checkbox submits too, but not on a button", async () => {
    const { calls } = await open();
    fill();
    key($("#reveal"), "Enter");
    await flush();
    expect(calls.filter((c) => c.cmd === "login")).toHaveLength(0);
    key($("#make-active"), "Enter");
    await flush();
    expect(calls.filter((c) => c.cmd === "login")).toHaveLength(1);
  });

  it("Esc closes the window; so does Cancel", async () => {
    const { calls } = await open();
    key(document, "Escape");
    await flush();
    expect(calls.filter((c) => c.cmd === "close_window")).toHaveLength(1);
    click("#cancel");
    await flush();
    expect(calls.filter((c) => c.cmd === "close_window")).toHaveLength(2);
  });

  it("starts in the name field, with real labels for every input", async () => {
    await open();
    expect(document.activeElement?.id).toBe("name");
    for (const input of document.querySelectorAll("input")) {
      expect(document.querySelector(`label[for="${input.id}"]`), input.id).not.toBeNull();
    }
    // Free-text fields: no autofill, capitals or spell check; each names its message slot.
    for (const id of ["name", "url", "ca_bundle"]) {
      expect([$(`#${id}`).getAttribute("autocomplete"), $(`#${id}`).getAttribute("spellcheck")]).toEqual(["off", "false"]);
    }
    expect($("#username").getAttribute("autocomplete")).toBe("username");
    expect($("#name").getAttribute("aria-describedby")).toBe("name-hint name-msg");
    expect($("#password").getAttribute("aria-describedby")).toBe("password-msg");
  });
});

describe("login dialog: log in again (mode edit)", () => {
  it("prefills name, URL and user, and starts in the password field", async () => {
    const { calls } = await open({}, settings());
    expect($("h1").textContent).toBe("Log in to staging");
    expect($<HTMLInputElement>("#name").value).toBe("staging");
    expect($<HTMLInputElement>("#name").readOnly).toBe(true);
    expect($<HTMLInputElement>("#url").readOnly).toBe(true);
    expect($<HTMLInputElement>("#username").value).toBe("alice");
    expect($<HTMLInputElement>("#auth-basic").checked).toBe(true);
    expect(document.activeElement?.id).toBe("password");
    expect($<HTMLInputElement>("#make-active").checked).toBe(false);
    // No TLS settings: the disclosure stays closed.
    expect($<HTMLDetailsElement>("#advanced").open).toBe(false);
    // "Change" unlocks the URL.
    click("#url-edit");
    await flush();
    expect($<HTMLInputElement>("#url").readOnly).toBe(false);
    expect(document.activeElement?.id).toBe("url");
    expect(await sendSecret(calls)).toEqual(
      request({ mode: "edit", name: "staging", url: "https://staging.example.com/mlflow", makeActive: false }),
    );
  });

  it("keeps every setting of a token server with a CA bundle: token mode, CA bundle, insecure flag", async () => {
    const { calls } = await open(
      {},
      settings({
        name: "gpu-cluster",
        url: "https://mlflow.gpu.internal",
        username: null,
        auth: "bearer",
        caBundle: "/etc/ssl/certs/gpu-ca.pem",
        clientCert: "/home/alice/.config/mlflow-login/gpu-client.pem",
        insecureTls: true,
      }),
    );
    expect($<HTMLInputElement>("#auth-bearer").checked).toBe(true);
    expect($("#field-username").hidden).toBe(true);
    expect($('label[for="password"]').textContent).toBe("Token");
    expect(document.activeElement?.id).toBe("password");
    expect($<HTMLDetailsElement>("#advanced").open).toBe(true);
    expect($<HTMLInputElement>("#ca_bundle").value).toBe("/etc/ssl/certs/gpu-ca.pem");
    expect($<HTMLInputElement>("#insecure").checked).toBe(true);
    expect($("#insecure-warning").hidden).toBe(false);
    // The client certificate is shown, not editable: the backend keeps it.
    expect(text("#client-cert")).toMatch(/gpu-client\.pem/);
    expect(document.querySelector("#client-cert input")).toBeNull();
    expect(await sendSecret(calls)).toEqual(
      request({
        mode: "edit",
        name: "gpu-cluster",
        url: "https://mlflow.gpu.internal",
        username: "",
        auth: "bearer",
        caBundle: "/etc/ssl/certs/gpu-ca.pem",
        insecureTls: true,
        makeActive: false,
      }),
    );
    expect($("#outcome").className).toContain("ok");
  });

  it("starts in the username field when a Basic server has none", async () => {
    await open({}, settings({ username: null }));
    expect(document.activeElement?.id).toBe("username");
  });
});

describe("login dialog: add server (mode add)", () => {
  it("an existing name is refused on the name field, and nothing is replaced", async () => {
    const { calls, backend } = await open();
    fill({ name: "prod" });
    click("#submit");
    await flush();
    expect(calls.find((c) => c.cmd === "login")?.args).toMatchObject({ request: { mode: "add", name: "prod" } });
    expect(text("#name-msg")).toMatch(/A server named "prod" already exists/);
    expect($("#name-msg").dataset.kind).toBe("invalid_input");
    expect($("#name-msg").className).toContain("error");
    expect($("#name").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement?.id).toBe("name");
    expect(text("#outcome")).toBe("");
    expect(backend.servers.find((s) => s.name === "prod")?.url).toBe("https://mlflow.example.com");
    // A new name goes through.
    type("#name", "prod-2");
    expect(text("#name-msg")).toBe("");
    type("#password", SECRET);
    click("#submit");
    await flush();
    expect($("#outcome").className).toContain("ok");
  });

  it("offers every sign-in mode of the table, and token mode hides the username", async () => {
    await open();
    expect($$('input[name="auth"]').map((r) => r.id)).toEqual(AUTH_LIST.map((m) => `auth-${m.kind}`));
    click("#auth-bearer");
    expect($("#field-username").hidden).toBe(true);
    expect($('label[for="password"]').textContent).toBe("Token");
    click("#submit");
    await flush();
    expect(text("#password-msg")).toBe("Enter the token.");
    expect(text("#username-msg")).toBe("");
  });
});
