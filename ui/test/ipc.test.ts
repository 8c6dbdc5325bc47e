import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import * as ipc from "../src/ipc";

afterEach(() => clearMocks());

function record(answer: (cmd: string) => unknown = () => null) {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    return answer(cmd);
  });
  return calls;
}

describe("typed wrappers", () => {
  it("send each command with the argument names of docs/ipc.md", async () => {
    const calls = record();
    await ipc.windowContext();
    await ipc.listServers();
    await ipc.verifyServer("prod");
    await ipc.verifyAll();
    await ipc.setActive("prod");
    await ipc.renameServer("prod", "live");
    await ipc.removeServer("prod");
    await ipc.logoutServer("prod");
    await ipc.openLogin();
    await ipc.openLogin("prod");
    await ipc.closeWindow();
    expect(calls.map((c) => [c.cmd, c.args])).toEqual([
      ["window_context", {}],
      ["list_servers", {}],
      ["verify_server", { name: "prod" }],
      ["verify_all", {}],
      ["set_active", { name: "prod" }],
      ["rename_server", { old: "prod", new: "live" }],
      ["remove_server", { name: "prod" }],
      ["logout_server", { name: "prod" }],
      ["open_login", {}],
      ["open_login", { name: "prod" }],
      ["close_window", {}],
    ]);
  });

  it("wrap the login request in `request`", async () => {
    const calls = record(() => ({ saved: true }));
    const request: ipc.LoginRequest = {
      mode: "add",
      name: "prod",
      url: "https://mlflow.example.com",
      username: "alice",
      password: "pw",
      auth: "basic",
      caBundle: null,
      insecureTls: false,
      saveWithoutChecking: false,
      makeActive: true,
    };
    await expect(ipc.login(request)).resolves.toEqual({ saved: true });
    expect(calls[0]).toEqual({ cmd: "login", args: { request } });
  });
});

describe("errors", () => {
  it("pass a well-formed IpcError through", async () => {
    mockIPC(() => {
      throw { kind: "keychain_locked", message: "the login keyring is locked" };
    });
    await expect(ipc.listServers()).rejects.toEqual({
      kind: "keychain_locked",
      message: "the login keyring is locked",
      field: null,
      help: null,
    });
  });

  it("keep field and help", async () => {
    mockIPC(() => {
      throw { kind: "invalid_input", message: "bad url", field: "url", help: "fix it" };
    });
    await expect(ipc.verifyAll()).rejects.toMatchObject({ kind: "invalid_input", field: "url", help: "fix it" });
  });

  it("turn Tauri's own string rejections into `internal`", async () => {
    mockIPC(() => Promise.reject("command verify_all not found"));
    await expect(ipc.verifyAll()).rejects.toEqual({
      kind: "internal",
      message: "command verify_all not found",
      field: null,
      help: null,
    });
  });

  it("turn unknown kinds into `internal`, keeping the text", () => {
    const err = ipc.toIpcError({ kind: "brand_new", message: "something" });
    expect(err).toMatchObject({ kind: "internal", message: "brand_new: something" });
    expect(ipc.isIpcError({ kind: "brand_new", message: "x" })).toBe(false);
    expect(ipc.isIpcError({ kind: "io", message: "x" })).toBe(true);
    expect(ipc.toIpcError(undefined)).toMatchObject({ kind: "internal", message: "undefined" });
  });
});
