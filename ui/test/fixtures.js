// The sample IPC data (servers, checks, errors) for vitest and the Playwright pages, read
// here and nowhere else: when core generates it (fixtures.generated.json, same structure),
// only the file name below changes.
import fixtures from "./fixtures.json" with { type: "json" };

export default fixtures;
