import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tauri loads the pages from its asset protocol: relative URLs only.
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) and WebView2 both take ES2021.
    target: "es2021",
    sourcemap: false,
  },
  server: { host: "127.0.0.1", port: 1420, strictPort: true },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
    restoreMocks: true,
  },
});
