// Builds the page (app/) into dist/: TypeScript and CSS bundled, the optimizer's Web Worker
// (app/src/optimizer.worker.ts) as its own ES module, the wasm module of pkg/ (written by
// wasm-bindgen in scripts/build-web) as an asset. Relative URLs throughout (`base: "./"`), so
// the page works wherever it is served: by the Worker at `/`, by test/static-server.mjs, or from
// any sub-path.
import { defineConfig } from "vite";

export default defineConfig({
  root: "app",
  base: "./",
  publicDir: false,
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2022",
    // The wasm module is ~2.4 MB; nothing to gain from a warning about it.
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: "es" },
  server: { host: "127.0.0.1", fs: { allow: [".."] } },
});
