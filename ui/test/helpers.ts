import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { flushSync } from "svelte";
import { vi } from "vitest";
import { mountApp } from "../src/app";
import { fakeBackend, materialize, type Scenario } from "./fake-backend.js";
import fixtures from "./fixtures.js";

export const fx = materialize(fixtures);

let unmount: (() => void) | null = null;

/** Unmounts what {@link setup} mounted (its listeners and clock go with it). */
export function teardown(): void {
  unmount?.();
  unmount = null;
  clearMocks();
}

/**
 * Lets the fake backend answer and the page update: runs the (fake) timers due within
 * `ms`, the promise chains they start, and Svelte's pending updates. No real waiting.
 */
export async function flush(ms = 0): Promise<void> {
  for (let i = 0; i < 3; i++) await vi.advanceTimersByTimeAsync(i === 0 ? ms : 0);
  flushSync();
}

/** A fresh document with the app mounted against a fake backend. */
export async function setup(scenario: Scenario) {
  teardown();
  document.body.innerHTML = '<div id="app"></div>';
  const backend = fakeBackend(scenario, { emit });
  const handle = vi.fn((cmd: string, args?: unknown) => backend.handle(cmd, args));
  mockIPC(handle, { shouldMockEvents: true });
  const root = document.getElementById("app")!;
  unmount = await mountApp(root);
  await flush();
  return { backend, calls: backend.calls, root };
}

export const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`no element matches ${sel}`);
  return el;
};

export const $$ = (sel: string) => Array.from(document.querySelectorAll<HTMLElement>(sel));

/** Types into a field as a user would: the value, then an `input` event (then the page updates). */
export function type(sel: string, value: string): void {
  const input = $<HTMLInputElement>(sel);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  flushSync();
}

/** A click, then the page's synchronous updates. */
export function click(target: string | HTMLElement): void {
  (typeof target === "string" ? $(target) : target).click();
  flushSync();
}

export function key(target: Element | Document, k: string): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  flushSync();
  return e;
}

export const text = (sel: string) => $(sel).textContent ?? "";
