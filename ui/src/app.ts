/**
 * Asks Rust which window this is (`window_context`) and mounts the login dialog or the
 * servers window into `target`. Resolves to a function that unmounts it (for tests).
 */
import { mount, unmount } from "svelte";
import App from "./App.svelte";
import * as ipc from "./ipc";
import type { IpcError, WindowContext } from "./ipc";

export async function mountApp(target: HTMLElement): Promise<() => void> {
  let context: WindowContext | null = null;
  let error: IpcError | null = null;
  try {
    context = await ipc.windowContext();
    document.body.dataset.page = context.window;
  } catch (e) {
    error = ipc.toIpcError(e);
  }
  const app = mount(App, { target, props: { context, error } });
  return () => void unmount(app);
}
