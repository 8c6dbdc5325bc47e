/**
 * Asks Rust which window this is (`window_context`) and mounts the login dialog or the
 * servers window into `root`.
 */
import * as ipc from "./ipc";
import { renderLogin } from "./login/page";
import { renderServers } from "./servers/page";
import { h, setChildren } from "./shared/dom";
import { errorText } from "./shared/errors";

export async function mount(root: HTMLElement): Promise<void> {
  try {
    const ctx = await ipc.windowContext();
    document.body.dataset.page = ctx.window;
    if (ctx.window === "login") renderLogin(root, ctx);
    else renderServers(root);
  } catch (e) {
    const text = errorText(ipc.toIpcError(e));
    setChildren(
      root,
      h("main", { class: "fatal", role: "alert" }, h("h1", {}, text.title), h("p", {}, text.detail), h("p", {}, text.help)),
    );
  }
}
