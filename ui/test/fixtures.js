// The sample IPC data (servers, checks, errors) for vitest and the Playwright pages, read
// here and nowhere else. The checks and some errors are worded by core
// (fixtures.generated.json, written by src-tauri/tests/bindings.rs); servers and the other
// errors are hand-made samples.
import generated from "./fixtures.generated.json" with { type: "json" };
import samples from "./fixtures.json" with { type: "json" };

export default { ...samples, checks: generated.checks, errors: { ...samples.errors, ...generated.errors } };
