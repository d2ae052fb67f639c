// Tests of the Worker inside workerd (@cloudflare/vitest-plugin), against the module that
// scripts/build-worker wrote to build/ and the root wrangler.toml (its D1 and R2 bindings run
// locally, storage isolated per test file). The D1 migrations are read here, in Node, and
// applied inside workerd by test/apply-migrations.mjs.
import { fileURLToPath } from "node:url";

import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The admin secret of the test runs (a binding here, so no .dev.vars is read or needed). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789abcdef";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "../wrangler.toml" },
        miniflare: {
          // WATCHDOG_SECONDS: 1 so the watchdog test waits a second, not a minute.
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            CARRIER_KEYS_SECRET: "test-carrier-keys-secret-0123456789abcdef",
            WATCHDOG_SECONDS: "1",
            ALLOWED_ORIGINS: "https://fleet.example.test",
          },
        },
      }),
    ],
    // The golden workbooks, imported as data URLs (`?inline`) to compare the Worker's bytes with.
    assetsInclude: ["**/*.xlsx"],
    test: {
      include: ["test/**/*.test.mjs"],
      setupFiles: ["./test/apply-migrations.mjs"],
      testTimeout: 30_000,
      // The Worker's one-line request and session logs (checked in the wrangler dev runs)
      // would bury the test output: left out here, everything else printed.
      onConsoleLog: (log) => !log.startsWith('{"event":"request"') && !log.startsWith('{"event":"session"'),
    },
  };
});
