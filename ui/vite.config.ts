import { defineConfig } from "vitest/config";

// The page is served by Tauri from ui/dist (frontendDist), under a strict CSP: Vite emits the
// script and the stylesheet as files, nothing inline.
export default defineConfig({
  // root: this folder (ui/), where npm runs; the build goes to ui/dist.
  root: ".",
  base: "./",
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: ["es2021", "chrome105", "safari15"],
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
