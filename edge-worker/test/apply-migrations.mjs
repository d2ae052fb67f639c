// Applies edge-worker/migrations (read by vitest.config.mjs) to the test D1 database before
// the tests of each file. Setup files may run more than once: applyD1Migrations skips
// migrations already applied.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
