import { describe, expect, it } from "vitest";
import { plainHttpWarning, validateLogin, validateName, validateUrl, validateUsername } from "../src/login/validate";
import { ago, latency, sentence, shortUrl } from "../src/shared/text";

describe("validateName", () => {
  it.each(["prod", "a", "my-server_2.eu", "0day", "_x"])("accepts %s", (n) => expect(validateName(n)).toBeNull());
  it.each([
    ["", /short name/],
    ["-prod", /cannot start/],
    [".hidden", /cannot start/],
    ["my server", /only letters/],
    ["prod/1", /only letters/],
    ["prød", /only letters/],
  ])("refuses %j", (n, msg) => expect(validateName(n)).toMatch(msg));
});

describe("validateUrl", () => {
  it.each(["https://mlflow.example.com", "http://localhost:5000", "https://host/mlflow/", "HTTPS://HOST"])(
    "accepts %s",
    (u) => expect(validateUrl(u)).toBeNull(),
  );
  it.each([
    ["", /Enter the tracking/],
    ["mlflow.example.com", /http:\/\/ or https:\/\//],
    ["ftp://host", /http:\/\/ or https:\/\//],
    ["https://alice:pw@host", /Remove the username and password/],
    ["https://alice@host", /Remove the username and password/],
    ["https://", /not a valid URL|no host/],
  ])("refuses %j", (u, msg) => expect(validateUrl(u)).toMatch(msg));
});

describe("validateUsername", () => {
  it("refuses a colon (Basic auth's separator)", () => expect(validateUsername("a:b", "basic")).toMatch(/“:”/));
  it("needs one for basic, not for bearer", () => {
    expect(validateUsername("", "basic")).toMatch(/Enter your username/);
    expect(validateUsername("", "bearer")).toBeNull();
  });
});

describe("validateLogin", () => {
  it("reports every field at once", () => {
    const errors = validateLogin({ name: "", url: "x", username: "a:b", password: "", auth: "basic", caBundle: "" });
    expect(Object.keys(errors).sort()).toEqual(["name", "password", "url", "username"]);
  });
  it("asks for a token, not a password, with bearer", () => {
    const errors = validateLogin({ name: "p", url: "https://h", username: "", password: "", auth: "bearer", caBundle: "" });
    expect(errors).toEqual({ password: "Enter the token." });
  });
});

describe("plainHttpWarning", () => {
  it("warns for plain http to another host only", () => {
    expect(plainHttpWarning("http://10.0.4.17:5000", "basic")).toMatch(/password travels unencrypted to 10\.0\.4\.17/);
    expect(plainHttpWarning("http://mlflow.lan", "bearer")).toMatch(/token travels/);
    expect(plainHttpWarning("http://localhost:5000", "basic")).toBeNull();
    expect(plainHttpWarning("http://127.0.0.1:5000", "basic")).toBeNull();
    expect(plainHttpWarning("http://[::1]:5000", "basic")).toBeNull();
    expect(plainHttpWarning("https://mlflow.example.com", "basic")).toBeNull();
    expect(plainHttpWarning("not a url", "basic")).toBeNull();
  });
});

describe("text", () => {
  it("turns core's clauses into sentences", () => {
    expect(sentence("wrong username or password")).toBe("Wrong username or password.");
    expect(sentence("already one.")).toBe("Already one.");
    expect(sentence(null)).toBe("");
  });
  it("says how long ago", () => {
    const now = 1_700_000_000_000;
    expect(ago(now - 10_000, now)).toBe("just now");
    expect(ago(now - 120_000, now)).toBe("2 min ago");
    expect(ago(now - 3 * 3600_000, now)).toBe("3 h ago");
    expect(ago(now - 26 * 3600_000, now)).toBe("yesterday");
    expect(ago(now - 5 * 86400_000, now)).toBe("5 days ago");
  });
  it("formats latency and URLs", () => {
    expect(latency(42)).toBe("42 ms");
    expect(latency(1500)).toBe("1.5 s");
    expect(shortUrl("https://mlflow.example.com/")).toBe("mlflow.example.com");
    expect(shortUrl("https://host:8443/mlflow/")).toBe("host:8443/mlflow");
  });
});
