// Every test file: fake timers (no real sleeps; the pages' delays, the clock and the fake
// backend's `delayMs` all run on them), and whatever a test mounted is unmounted after it.
import { afterEach, beforeEach, vi } from "vitest";
import { teardown } from "./helpers";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  teardown();
  vi.useRealTimers();
});
