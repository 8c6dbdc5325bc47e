import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [svelte()],
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
  // vitest: Svelte's browser build (mount, not the server renderer) in happy-dom.
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    restoreMocks: true,
  },
});
