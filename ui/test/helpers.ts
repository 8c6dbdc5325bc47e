import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { vi } from "vitest";
import { mount } from "../src/app";
import { fakeBackend, materialize, type Scenario } from "./fake-backend.js";
import fixturesJson from "./fixtures.json";

export const fx = materialize(fixturesJson);

/** Lets pending promises and the microtasks after them run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

/** A fresh document with the app mounted against a fake backend. */
export async function setup(scenario: Scenario) {
  clearMocks();
  document.body.innerHTML = '<div id="app"></div>';
  const backend = fakeBackend(scenario);
  const handle = vi.fn((cmd: string, args?: unknown) => backend.handle(cmd, args));
  mockIPC(handle);
  const root = document.getElementById("app")!;
  await mount(root);
  await flush();
  return { backend, calls: backend.calls, root };
}

export const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`no element matches ${sel}`);
  return el;
};

export const $$ = (sel: string) => Array.from(document.querySelectorAll<HTMLElement>(sel));

export function type(sel: string, value: string): void {
  const input = $<HTMLInputElement>(sel);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

export function key(target: Element | Document, k: string): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

export const text = (sel: string) => $(sel).textContent ?? "";
