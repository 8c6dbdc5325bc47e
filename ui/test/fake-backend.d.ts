import type { CheckView, IpcError, ServerSettings, ServerView, WindowContext, WorkspaceList } from "../src/ipc";

export interface Answer {
  ok?: unknown;
  err?: unknown;
  delayMs?: number;
  hold?: boolean;
  emit?: [string, unknown];
  emits?: [string, unknown][];
  untilCancel?: boolean;
}

export interface Scenario {
  context: WindowContext;
  servers?: ServerView[];
  script?: Record<string, Answer[]>;
  okCheck?: CheckView;
  ssoHints?: { issuer: string | null; clientId: string | null };
  /** `list_workspaces` per server name (default: a server without workspaces). */
  workspaces?: Record<string, WorkspaceList>;
}

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export function fakeBackend(
  scenario: Scenario,
  hooks?: { emit?: (event: string, payload: unknown) => unknown },
): {
  calls: Call[];
  servers: ServerView[];
  handle: (cmd: string, args?: unknown) => Promise<unknown>;
};

export function materialize(
  fixtures: unknown,
  now?: number,
): {
  checks: Record<string, CheckView>;
  servers: ServerView[];
  errors: Record<IpcError["kind"], IpcError>;
  settings: Record<string, ServerSettings>;
};
