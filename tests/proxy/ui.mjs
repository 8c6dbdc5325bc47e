// The real MLflow UI through an MLflow Login proxy, in Debian's Chromium (Playwright).
//
//   node tests/proxy/ui.mjs LINK EXPERIMENT
//
// Opens the proxy's one-time LINK, expects the MLflow UI to list EXPERIMENT with no login
// prompt (no 401, no challenge, no dialog), and no credential in the page's reach: the
// secrets in $MLL_UI_SECRETS (newline-separated: the server's password or token, the proxy's
// URI secret) appear in no cookie a script can read, nor in localStorage or sessionStorage.
// Then a page of another origin posts to the proxy (fetch and a form): the caller checks
// that nothing arrived. Exit 0 when all holds; the reason on stderr otherwise.
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// playwright-core from the UI's own packages (scripts/build-ui.sh installs them).
const require = createRequire(join(here, "..", "..", "ui", "package.json"));
const { chromium } = require("playwright-core");

const [link, experiment] = process.argv.slice(2);
const secrets = (process.env.MLL_UI_SECRETS ?? "").split("\n").filter((s) => s.length >= 4);
const origin = new URL(link).origin;
const problems = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("dialog", (d) => {
    problems.push(`a dialog: ${d.message()}`);
    d.dismiss();
  });
  page.on("response", (r) => {
    if (r.status() === 401) problems.push(`401 for ${r.url()}`);
    if (r.headers()["www-authenticate"]) problems.push(`a password challenge from ${r.url()}`);
  });
  await page.goto(link);
  await page.getByText(experiment, { exact: true }).first().waitFor({ timeout: 90_000 });

  const stored = await page.evaluate(() => ({
    cookie: document.cookie,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
  }));
  for (const [where, text] of Object.entries(stored)) {
    for (const secret of secrets) {
      if (text.includes(secret)) problems.push(`a credential in the page's ${where}`);
    }
  }
  if (stored.cookie.includes("mlflow_login_proxy")) problems.push("the proxy's cookie is readable by scripts");

  // A page of another site (localhost is another site than 127.0.0.1) posts to the proxy.
  const evil = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><form id=f method=POST action="${origin}/ajax-api/2.0/mlflow/experiments/create"
      enctype="text/plain"><input name='{"name":"evil-form","x":"' value='"}'></form>
      <script>
        fetch("${origin}/ajax-api/2.0/mlflow/experiments/create", {method: "POST", credentials: "include",
          mode: "no-cors", headers: {"content-type": "text/plain"}, body: JSON.stringify({name: "evil-fetch"})})
          .finally(() => document.getElementById("f").submit());
      </script>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  const evilPage = await context.newPage();
  await evilPage.goto(`http://localhost:${evil.address().port}/`);
  await evilPage.waitForURL((u) => u.origin === origin, { timeout: 20_000 }).catch(() => {});
  await evilPage.waitForLoadState("load").catch(() => {});
  evil.close();
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("ok");
