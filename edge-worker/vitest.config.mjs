// Tests of the Worker inside workerd (@cloudflare/vitest-plugin), against the module that
// scripts/build-worker wrote to build/ and the root wrangler.toml. Run by scripts/test-worker.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "../wrangler.toml" } })],
  // The golden workbooks, imported as data URLs (`?inline`) to compare the Worker's bytes with.
  assetsInclude: ["**/*.xlsx"],
  test: {
    include: ["test/**/*.test.mjs"],
    testTimeout: 30_000,
  },
});
