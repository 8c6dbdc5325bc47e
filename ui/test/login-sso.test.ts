// The login dialog's "Single sign-on" mode: hints fill the issuer and client id, "Sign in
// with browser" waits showing where it signs in, with the URL to copy and Cancel, success
// closes as the other modes do; an identity provider a team list named, on no domain of the
// server's, is signed in at only after the user ticked the question.
import { afterEach, describe, expect, it } from "vitest";
import type { ServerSettings, SsoLoginRequest, SsoPrompt } from "../src/ipc";
import { CLOSE_DELAY_MS } from "../src/login/form";
import { $, click, flush, fx, key, setup, teardown, text, type } from "./helpers";

const ISSUER = "https://idp.example.com/realms/acme";
const AUTHORIZE = `${ISSUER}/protocol/openid-connect/auth?client_id=mlflow-login&state=xyz`;
const PROMPT: SsoPrompt = { kind: "browser", url: AUTHORIZE, error: null };
const SIGNING_IN: SsoPrompt = { kind: "signingIn", issuer: ISSUER, host: "mlflow.example.com" };
/** A server a team list added: "Log in again…" fills the dialog with its settings. */
const TEAM_SERVER = fx.settings["corp-team-sso"];
/** What `login_sso` answers until the user said yes (core's reason as the message). */
const UNCONFIRMED = fx.errors.issuer_unconfirmed;
const SAVED = { ok: { saved: true, check: null, server: null, dropped: [] } };

async function open(script: Record<string, object[]> = {}, server: ServerSettings | null = null) {
  return setup({
    context: { window: "login", server },
    script,
    servers: fx.servers,
    ssoHints: { issuer: ISSUER, clientId: "mlflow-login" },
  });
}

/** Name, URL (then `change`, as leaving the field does), and the SSO mode. */
async function fillSso(name = "sso", url = "https://mlflow.example.com") {
  type("#name", name);
  click("#auth-sso");
  type("#url", url);
  $("#url").dispatchEvent(new Event("change", { bubbles: true }));
  await flush();
}

const visible = (sel: string) => !$(sel).closest("[hidden]");

afterEach(teardown);

describe("login dialog: single sign-on", () => {
  it("shows issuer and client id instead of the secret, filled from the server's hints", async () => {
    const { calls } = await open();
    await fillSso();
    expect(visible("#issuer")).toBe(true);
    expect(visible("#client_id")).toBe(true);
    expect(visible("#password")).toBe(false);
    expect(document.querySelector("#save-unchecked")).toBeNull();
    expect(text("#submit")).toBe("Sign in with browser");
    expect(calls.filter((c) => c.cmd === "sso_hints").map((c) => c.args)).toEqual([
      { url: "https://mlflow.example.com" },
    ]);
    expect($<HTMLInputElement>("#issuer").value).toBe(ISSUER);
    expect($<HTMLInputElement>("#client_id").value).toBe("mlflow-login");
  });

  it("never overwrites what the user typed", async () => {
    await open();
    type("#name", "sso");
    click("#auth-sso");
    type("#client_id", "my-client");
    type("#url", "https://mlflow.example.com");
    $("#url").dispatchEvent(new Event("change", { bubbles: true }));
    await flush();
    expect($<HTMLInputElement>("#client_id").value).toBe("my-client");
    expect($<HTMLInputElement>("#issuer").value).toBe(ISSUER);
  });

  it("waits with the URL to copy, then closes on success", async () => {
    const { calls } = await open({ login_sso: [{ emit: ["sso-prompt", PROMPT], delayMs: 5000 }] });
    await fillSso();
    click("#submit");
    await flush();
    expect(visible("#sso-wait")).toBe(true);
    expect(text("#sso-wait")).toContain("Waiting for the sign-in in your browser");
    expect($<HTMLInputElement>("#sso_url").value).toBe(AUTHORIZE);
    expect($("#fields").hidden, "the wait takes the form's place").toBe(true);
    expect($<HTMLButtonElement>("#submit").disabled).toBe(true);
    const sent = calls.find((c) => c.cmd === "login_sso")!.args;
    expect(sent).toEqual({
      request: {
        mode: "add",
        name: "sso",
        url: "https://mlflow.example.com",
        issuer: ISSUER,
        clientId: "mlflow-login",
        scopes: [],
        caBundle: null,
        insecureTls: false,
        makeActive: true,
        trustIssuer: false,
        personalToken: false,
        replaceToken: false,
      },
    });
    await flush(5000);
    expect(document.querySelector("#sso-wait")).toBeNull();
    expect($("#outcome").classList.contains("ok")).toBe(true);
    expect(text("#outcome")).toContain("Signed in with single sign-on");
    await flush(CLOSE_DELAY_MS);
    expect(calls.filter((c) => c.cmd === "close_window")).toHaveLength(1);
  });

  it("says where it signs in, as Rust found it, before the browser opens", async () => {
    await open({ login_sso: [{ emits: [["sso-prompt", SIGNING_IN]], hold: true }] });
    await fillSso();
    click("#submit");
    await flush();
    expect(text("#sso-signing-in").replace(/\s+/g, " ").trim()).toBe(
      `Signing in at ${ISSUER} for mlflow.example.com`,
    );
    expect(document.querySelector("#sso_url"), "no browser yet").toBeNull();
  });

  it("asks before signing in at an identity provider a team list named, and sends the yes", async () => {
    const { calls } = await open(
      { login_sso: [{ err: UNCONFIRMED }, { emits: [["sso-prompt", SIGNING_IN], ["sso-prompt", PROMPT]], hold: true }] },
      TEAM_SERVER,
    );
    click("#submit");
    await flush();
    const sent = () => calls.filter((c) => c.cmd === "login_sso").map((c) => (c.args as { request: SsoLoginRequest }).request);
    expect(sent()).toHaveLength(1);
    expect(sent()[0]).toMatchObject({ issuer: TEAM_SERVER.issuer, clientId: "corp-cli", trustIssuer: false });
    // The question, not a wait and not an error: why, and a tick to give.
    expect(document.querySelector("#sso-wait")).toBeNull();
    expect(visible("#issuer-question")).toBe(true);
    const why = text("#issuer-question");
    expect(why).toContain("Confirm the identity provider first");
    expect(why).toContain("A team list names the identity provider https://login.lookalike.example");
    expect(why).toContain("share no domain");
    expect($("#outcome").dataset.kind).toBeUndefined();
    expect(document.activeElement?.id).toBe("trust_issuer");
    expect($<HTMLInputElement>("#trust_issuer").checked).toBe(false);

    // Not ticked: nothing is sent.
    click("#submit");
    await flush();
    expect(sent()).toHaveLength(1);

    click("#trust_issuer");
    click("#submit");
    await flush();
    expect(sent()).toHaveLength(2);
    expect(sent()[1]).toMatchObject({ issuer: TEAM_SERVER.issuer, trustIssuer: true });
    expect(visible("#sso-wait")).toBe(true);
    expect(text("#sso-signing-in")).toContain(`Signing in at ${ISSUER} for mlflow.example.com`);
  });

  it("another issuer, client id or URL takes the yes back", async () => {
    const { calls } = await open({ login_sso: [{ err: UNCONFIRMED }, { err: UNCONFIRMED }, SAVED] }, TEAM_SERVER);
    click("#submit");
    await flush();
    click("#trust_issuer");
    type("#issuer", "https://login.other.example");
    expect(document.querySelector("#issuer-question"), "asked again, for this one").toBeNull();
    click("#submit");
    await flush();
    const last = calls.filter((c) => c.cmd === "login_sso").at(-1)!.args as { request: SsoLoginRequest };
    expect(last.request).toMatchObject({ issuer: "https://login.other.example", trustIssuer: false });
    expect($<HTMLInputElement>("#trust_issuer").checked).toBe(false);
  });

  it("asks for a personal access token for R, Java and curl, and whether to replace one made elsewhere", async () => {
    const { calls } = await open({ login_sso: [{ emit: ["sso-prompt", PROMPT], delayMs: 10 }] });
    await fillSso();
    expect(document.querySelector("#replace-token"), "only once a token is asked for").toBeNull();
    click("#personal-token");
    await flush();
    click("#replace-token");
    click("#submit");
    await flush();
    const sent = calls.find((c) => c.cmd === "login_sso")!.args as { request: Record<string, unknown> };
    expect(sent.request.personalToken).toBe(true);
    expect(sent.request.replaceToken).toBe(true);
    await flush(10);
  });

  it("Cancel ends the wait, says nothing, and leaves the dialog open", async () => {
    const { calls } = await open({ login_sso: [{ emit: ["sso-prompt", PROMPT], untilCancel: true }] });
    await fillSso();
    click("#submit");
    await flush();
    expect(visible("#sso-wait")).toBe(true);
    click("#cancel");
    await flush();
    expect(calls.filter((c) => c.cmd === "cancel_sso")).toHaveLength(1);
    expect(calls.filter((c) => c.cmd === "close_window")).toHaveLength(0);
    expect(document.querySelector("#sso-wait")).toBeNull();
    expect($("#fields").hidden, "the form is back").toBe(false);
    expect($("#outcome").dataset.kind).toBeUndefined();
    expect($<HTMLButtonElement>("#submit").disabled).toBe(false);
  });

  it("Escape during the wait cancels the sign-in rather than closing", async () => {
    const { calls } = await open({ login_sso: [{ untilCancel: true }] });
    await fillSso();
    click("#submit");
    await flush();
    key(document, "Escape");
    await flush();
    expect(calls.filter((c) => c.cmd === "cancel_sso")).toHaveLength(1);
    expect(calls.filter((c) => c.cmd === "close_window")).toHaveLength(0);
  });

  it("a timeout is said under the form, by kind", async () => {
    const err = { kind: "timed_out", message: "the sign-in in the browser took longer than 300 s", field: null, help: null };
    await open({ login_sso: [{ err }] });
    await fillSso();
    click("#submit");
    await flush();
    expect($("#outcome").dataset.kind).toBe("timed_out");
    expect(text("#outcome")).toContain("The sign-in took too long");
  });

  it("a client id the provider does not know lands on its field", async () => {
    const err = { kind: "invalid_input", message: "no client id found: pass one", field: "client_id", help: null };
    await open({ login_sso: [{ err }] });
    await fillSso();
    click("#submit");
    await flush();
    expect(text("#client_id-msg")).toContain("No client id found");
    expect(document.activeElement?.id).toBe("client_id");
  });

  it("\u201cLog in again\u201d on an SSO server opens in SSO mode with its issuer and client id", async () => {
    const server: ServerSettings = { ...TEAM_SERVER, issuer: ISSUER };
    const { calls } = await open({ login_sso: [{ ok: { saved: true, check: null, server: null, dropped: [] } }] }, server);
    expect($<HTMLInputElement>("#auth-sso").checked).toBe(true);
    expect($<HTMLInputElement>("#issuer").value).toBe(ISSUER);
    expect($<HTMLInputElement>("#client_id").value).toBe("corp-cli");
    expect(document.activeElement?.id).toBe("submit");
    click("#submit");
    await flush();
    const sent = calls.find((c) => c.cmd === "login_sso")!.args as { request: Record<string, unknown> };
    expect(sent.request).toMatchObject({ mode: "edit", name: "corp", issuer: ISSUER, clientId: "corp-cli" });
    expect(calls.some((c) => c.cmd === "sso_hints")).toBe(false);
  });
});
