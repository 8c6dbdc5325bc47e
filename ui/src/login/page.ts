/**
 * The login dialog: name, URL, credentials, TLS settings; "Verify & save" asks Rust to
 * check them against the server and store them only if it accepted them.
 *
 * The password lives in its `<input>` until the form is submitted, then goes into one
 * `login` request and the field is cleared at once: no variable, closure or DOM node keeps
 * it after that, and nothing logs it.
 */
import * as ipc from "../ipc";
import type { AuthKind, CheckView, IpcError, LoginRequest, LoginResult, WindowContext } from "../ipc";
import { byId, h, setChildren, spinner } from "../shared/dom";
import { errorText } from "../shared/errors";
import { sentence } from "../shared/text";
import { plainHttpWarning, validateLogin, type FieldErrors, type FormField, type LoginFormValues } from "./validate";

/** How long "Signed in" stays up before the window closes. */
export const CLOSE_DELAY_MS = 1200;

const FIELDS: FormField[] = ["name", "url", "username", "password", "ca_bundle"];

/** Fields a check or an `invalid_input` error may name, mapped to our inputs. */
function formField(field: string | null | undefined): FormField | null {
  switch (field) {
    case "name":
    case "url":
    case "username":
    case "password":
      return field;
    case "ca_bundle":
    case "caBundle":
      return "ca_bundle";
    default:
      return null;
  }
}

type MessageTone = "error" | "warning" | "info";

const nameHint = (name: string) => `Shown in the tray; on the command line: mlflow-login use ${name || "prod"}`;

function field(
  id: FormField,
  label: string,
  input: HTMLElement,
  hint?: string,
  extra?: HTMLElement,
): HTMLElement {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-msg`].filter(Boolean).join(" ");
  input.setAttribute("aria-describedby", describedBy);
  return h(
    "div",
    { class: "field", id: `field-${id}` },
    h("label", { for: id }, label),
    h("div", { class: "control" }, input, extra ?? null),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    h("div", { class: "msg", id: `${id}-msg`, "aria-live": "polite" }),
  );
}

function textInput(id: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h("input", {
    id,
    name: id,
    type: "text",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    ...attrs,
  });
}

export function renderLogin(root: HTMLElement, ctx: WindowContext): void {
  const prefill = ctx.server ?? null;
  // `auth` is not (yet) in docs/ipc.md's WindowContext.server; honour it if Rust sends it.
  const prefillAuth: AuthKind = (prefill as { auth?: AuthKind } | null)?.auth === "bearer" ? "bearer" : "basic";
  document.title = prefill ? `Log in to ${prefill.name} — MLflow Login` : "Add server — MLflow Login";

  const nameInput = textInput("name", { placeholder: "prod", maxlength: "64" });
  const urlInput = textInput("url", { type: "url", placeholder: "https://mlflow.example.com", inputmode: "url" });
  const usernameInput = textInput("username", { autocomplete: "username" });
  const passwordInput = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    spellcheck: "false",
  });
  const caInput = textInput("ca_bundle", { placeholder: "/etc/ssl/certs/company-ca.pem" });
  const insecureInput = h("input", { id: "insecure", type: "checkbox" });
  const makeActiveInput = h("input", { id: "make-active", type: "checkbox" });
  const revealButton = h(
    "button",
    { type: "button", id: "reveal", class: "reveal", "aria-controls": "password", "aria-pressed": "false" },
    "Show",
  );
  const urlEditButton = h("button", { type: "button", id: "url-edit", class: "inline-button" }, "Change");

  const authBasic = h("input", { type: "radio", name: "auth", id: "auth-basic", value: "basic" });
  const authBearer = h("input", { type: "radio", name: "auth", id: "auth-bearer", value: "bearer" });

  const insecureWarning = h(
    "p",
    { class: "caution", id: "insecure-warning", "aria-live": "polite", hidden: true },
    "Certificates are not checked: anyone on the network path can pose as the server and read the password. Use a CA bundle instead when you can.",
  );
  const httpWarning = h("p", { class: "caution", id: "http-warning", "aria-live": "polite", hidden: true });

  const outcome = h("div", { class: "outcome", id: "outcome", role: "status", "aria-live": "polite" });
  const submitLabel = h("span", { class: "label" }, "Verify & save");
  const submitButton = h("button", { type: "submit", id: "submit", class: "primary" }, submitLabel);
  const saveUncheckedButton = h(
    "button",
    { type: "button", id: "save-unchecked", class: "secondary" },
    "Save without checking",
  );
  const cancelButton = h("button", { type: "button", id: "cancel" }, "Cancel");

  const advanced = h(
    "details",
    { class: "advanced", id: "advanced" },
    h("summary", {}, "TLS settings"),
    h(
      "div",
      { class: "advanced-body" },
      field("ca_bundle", "CA bundle", caInput, "A PEM file with your organisation's CA certificates, for a server whose certificate your system does not trust."),
      h(
        "div",
        { class: "check" },
        insecureInput,
        h("label", { for: "insecure" }, "Skip certificate checks (insecure)"),
      ),
      insecureWarning,
    ),
  );

  const fields = h(
    "fieldset",
    { class: "fields", id: "fields" },
    field("name", "Name", nameInput, prefill ? undefined : nameHint("")),
    field("url", "Tracking URL", urlInput, prefill ? undefined : "With the sub-path, if MLflow is not at the root.", prefill ? urlEditButton : undefined),
    httpWarning,
    h(
      "fieldset",
      { class: "auth", id: "auth" },
      h("legend", {}, "Sign in with"),
      h("div", { class: "segmented" },
        h("span", {}, authBasic, h("label", { for: "auth-basic" }, "Username and password")),
        h("span", {}, authBearer, h("label", { for: "auth-bearer" }, "Token")),
      ),
    ),
    field("username", "Username", usernameInput),
    field("password", "Password", passwordInput, undefined, revealButton),
    advanced,
    h("div", { class: "check" }, makeActiveInput, h("label", { for: "make-active" }, "Make this the active server")),
  );

  const form = h(
    "form",
    { id: "login-form", novalidate: true, "aria-labelledby": "title" },
    fields,
    outcome,
    h("div", { class: "actions" }, saveUncheckedButton, h("span", { class: "spacer" }), cancelButton, submitButton),
  );

  setChildren(
    root,
    h(
      "main",
      { class: "dialog" },
      h(
        "header",
        {},
        h("h1", { id: "title" }, prefill ? `Log in to ${prefill.name}` : "Add an MLflow server"),
        h(
          "p",
          { class: "sub" },
          prefill
            ? "Enter the password again; it is checked with the server first."
            : "Checked with the server first, then kept in your keyring.",
        ),
      ),
      form,
    ),
  );

  // ---- state -------------------------------------------------------------------------

  let busy = false;
  let done = false;

  const auth = (): AuthKind => (authBearer.checked ? "bearer" : "basic");

  function values(): LoginFormValues {
    return {
      name: nameInput.value.trim(),
      url: urlInput.value.trim(),
      username: usernameInput.value.trim(),
      password: passwordInput.value,
      auth: auth(),
      caBundle: caInput.value.trim(),
    };
  }

  function inputFor(f: FormField): HTMLInputElement {
    return { name: nameInput, url: urlInput, username: usernameInput, password: passwordInput, ca_bundle: caInput }[f];
  }

  function setFieldMessage(f: FormField, tone: MessageTone | null, ...content: (Node | string)[]): void {
    const msg = byId(`${f}-msg`, root);
    const input = inputFor(f);
    msg.className = tone ? `msg ${tone}` : "msg";
    delete msg.dataset.kind;
    setChildren(msg, ...content);
    if (tone === "error") input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearMessages(): void {
    for (const f of FIELDS) setFieldMessage(f, null);
    outcome.className = "outcome";
    delete outcome.dataset.kind;
    setChildren(outcome);
  }

  function showFieldErrors(errors: FieldErrors): void {
    let first: FormField | null = null;
    for (const f of FIELDS) {
      const message = errors[f];
      if (!message) continue;
      setFieldMessage(f, "error", message);
      first ??= f;
    }
    if (first) inputFor(first).focus();
  }

  function applyAuth(): void {
    const bearer = auth() === "bearer";
    byId("field-username", root).hidden = bearer;
    const label = root.querySelector<HTMLLabelElement>('label[for="password"]');
    if (label) label.textContent = bearer ? "Token" : "Password";
    passwordInput.autocomplete = bearer ? "off" : "current-password";
    updateHttpWarning();
  }

  function updateHttpWarning(): void {
    const warning = plainHttpWarning(urlInput.value, auth());
    httpWarning.hidden = !warning;
    httpWarning.textContent = warning ?? "";
  }

  function setReveal(show: boolean): void {
    passwordInput.type = show ? "text" : "password";
    revealButton.textContent = show ? "Hide" : "Show";
    revealButton.setAttribute("aria-pressed", String(show));
    revealButton.setAttribute("aria-label", show ? "Hide the password" : "Show the password");
  }

  function setBusy(on: boolean, label = "Checking…"): void {
    busy = on;
    fields.disabled = on;
    submitButton.disabled = on;
    saveUncheckedButton.disabled = on;
    form.setAttribute("aria-busy", String(on));
    if (on) setChildren(submitButton, spinner(), h("span", { class: "label" }, label));
    else setChildren(submitButton, submitLabel);
  }

  function outcomeBlock(check: CheckView, extra?: string): HTMLElement[] {
    return [
      h("strong", { class: "summary" }, sentence(check.summary)),
      check.help ? h("span", { class: "help" }, sentence(check.help)) : null,
      extra ? h("span", { class: "help" }, extra) : null,
    ].filter((x): x is HTMLElement => x !== null);
  }

  /** A refused or unchecked outcome, shown next to the field it names (else under the form). */
  function showCheck(check: CheckView): void {
    const tone: MessageTone = check.class === "refused" ? "error" : "warning";
    const hint =
      check.class === "unchecked" ? "You can still store it with “Save without checking”." : undefined;
    let target = formField(check.field);
    if (target === "username" && auth() === "bearer") target = null;
    if (target) {
      if (target === "ca_bundle") advanced.open = true;
      setFieldMessage(target, tone, ...outcomeBlock(check, hint));
      byId(`${target}-msg`, root).dataset.kind = check.kind;
      inputFor(target).focus();
    } else {
      outcome.className = `outcome ${tone}`;
      outcome.dataset.kind = check.kind;
      setChildren(outcome, ...outcomeBlock(check, hint));
      passwordInput.focus();
      revealOutcome();
    }
  }

  function showError(err: IpcError): void {
    const text = errorText(err);
    const target = err.kind === "invalid_input" ? formField(err.field) : null;
    if (target) {
      if (target === "ca_bundle") advanced.open = true;
      setFieldMessage(target, "error", text.detail || text.title);
      byId(`${target}-msg`, root).dataset.kind = err.kind;
      inputFor(target).focus();
      return;
    }
    outcome.className = "outcome error";
    outcome.dataset.kind = err.kind;
    setChildren(
      outcome,
      h("strong", { class: "summary" }, text.title),
      text.detail ? h("span", { class: "detail" }, text.detail) : null,
      h("span", { class: "help" }, text.help),
    );
    passwordInput.focus();
    revealOutcome();
  }

  /** The form-level outcome sits under the form: scroll it into view in a short window. */
  function revealOutcome(): void {
    outcome.scrollIntoView?.({ block: "nearest" });
  }

  function showSuccess(result: LoginResult, name: string, savedUnchecked: boolean): void {
    done = true;
    fields.disabled = true;
    submitButton.disabled = true;
    saveUncheckedButton.disabled = true;
    outcome.className = "outcome ok";
    const user = result.server?.username;
    const version = result.check?.serverVersion;
    const line = savedUnchecked
      ? `Saved ${name} without checking`
      : `Signed in${user ? ` as ${user}` : ""}${version ? ` — MLflow ${version}` : ""}`;
    setChildren(outcome, h("strong", { class: "summary" }, h("span", { class: "tick", "aria-hidden": "true" }, "✓ "), line));
    window.setTimeout(() => void ipc.closeWindow().catch(() => undefined), CLOSE_DELAY_MS);
  }

  async function submit(saveWithoutChecking: boolean): Promise<void> {
    if (busy || done) return;
    clearMessages();
    const v = values();
    const errors = validateLogin(v);
    if (Object.keys(errors).length > 0) {
      showFieldErrors(errors);
      return;
    }
    const request: LoginRequest = {
      name: v.name,
      url: v.url,
      username: v.auth === "bearer" ? "" : v.username,
      password: v.password,
      auth: v.auth,
      caBundle: v.caBundle || null,
      insecureTls: insecureInput.checked,
      saveWithoutChecking,
      makeActive: makeActiveInput.checked,
    };
    // The password leaves the page here; the field and the request do not keep it.
    passwordInput.value = "";
    setReveal(false);
    setBusy(true, saveWithoutChecking ? "Saving…" : "Checking…");
    let result: LoginResult | null = null;
    let failure: IpcError | null = null;
    try {
      result = await ipc.login(request);
    } catch (e) {
      failure = ipc.toIpcError(e);
    } finally {
      request.password = "";
    }
    setBusy(false);
    if (failure) {
      showError(failure);
    } else if (result?.saved) {
      showSuccess(result, v.name, saveWithoutChecking);
      return;
    } else if (result?.check) {
      showCheck(result.check);
    } else {
      showError({ kind: "internal", message: "the server was not saved, and no reason was given" });
    }
    passwordInput.placeholder = auth() === "bearer" ? "Enter the token again" : "Type the password again";
  }

  // ---- wiring ------------------------------------------------------------------------

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit(false);
  });
  saveUncheckedButton.addEventListener("click", () => void submit(true));
  cancelButton.addEventListener("click", () => void ipc.closeWindow().catch(() => undefined));
  revealButton.addEventListener("click", () => setReveal(passwordInput.type === "password"));
  authBasic.addEventListener("change", applyAuth);
  authBearer.addEventListener("change", applyAuth);
  urlInput.addEventListener("input", updateHttpWarning);
  nameInput.addEventListener("input", () => {
    const hint = root.querySelector("#name-hint");
    if (hint) hint.textContent = nameHint(nameInput.value.trim());
  });
  insecureInput.addEventListener("change", () => {
    insecureWarning.hidden = !insecureInput.checked;
  });
  urlEditButton.addEventListener("click", () => {
    urlInput.readOnly = false;
    urlEditButton.hidden = true;
    urlInput.focus();
    urlInput.select();
  });
  // Editing a field clears the message that was about it.
  for (const f of FIELDS) {
    inputFor(f).addEventListener("input", () => setFieldMessage(f, null));
  }
  // Enter submits from any control but buttons and the TLS disclosure (which Enter toggles).
  form.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.isComposing || e.defaultPrevented) return;
    const t = e.target as HTMLElement;
    if (t instanceof HTMLButtonElement || t.tagName === "SUMMARY") return;
    e.preventDefault();
    form.requestSubmit(submitButton);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    e.preventDefault();
    void ipc.closeWindow().catch(() => undefined);
  });

  // ---- initial state -----------------------------------------------------------------

  (prefillAuth === "bearer" ? authBearer : authBasic).checked = true;
  makeActiveInput.checked = !prefill;
  if (prefill) {
    nameInput.value = prefill.name;
    nameInput.readOnly = true;
    urlInput.value = prefill.url;
    urlInput.readOnly = true;
    usernameInput.value = prefill.username ?? "";
  }
  applyAuth();
  setReveal(false);
  (prefill ? (prefillAuth === "basic" && !usernameInput.value ? usernameInput : passwordInput) : nameInput).focus();
}
