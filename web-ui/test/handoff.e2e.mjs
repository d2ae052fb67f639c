// The hand-off from the page to the simopt service, end to end: `wrangler dev` (real workerd,
// local D1, R2, Queues and Durable Objects; started and stopped by process id with
// edge-worker/test/wrangler.mjs) serves the page and the API on one origin, and Chromium
// (playwright-core) drives the page the way a fleet manager does:
//
// * a tenant is made with the admin token; the page, served by the Worker, loads the sample
//   fleet and optimizes it;
// * a wrong token is refused (401) and said so; the right one connects;
// * a SIMs upload the service refuses (a negative usage put into the request) shows the
//   service's 422 diagnostics with row and column;
// * "Upload and start session" creates an account from the page's settings, uploads the files,
//   starts a session and follows it to completion; the service's figures equal this page's
//   engine on the session's moment and settings, and `simopt optimize` with the session's
//   as_of and period_end (its figures and its workbook, byte for byte); the service's report,
//   downloaded through the page, holds the session's totals;
// * a second hand-off while a session of the period is running (started through the API just
//   before the page's request) is answered 409 and the page follows the running session;
// * the token is never printed to the page's console and is not kept after a reload unless
//   "remember for this tab" is ticked.
// Screenshots of the hand-off panel at desktop and phone widths: target/screenshots/handoff-*.
//
//   node web-ui/test/handoff.e2e.mjs   (scripts/test-web runs it after scripts/build-web and
//                                        scripts/build-worker; wrangler needs Node 22 in PATH)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { adminToken, ROOT, runWrangler, startWrangler, stopWrangler, waitReady } from "../../edge-worker/test/wrangler.mjs";
import { readWorkbook, valueBeside } from "./xlsx.mjs";

const SAMPLE = join(ROOT, "samples/fleet");
const SHOTS = process.env.SCREENSHOTS ?? join(ROOT, "target/screenshots");
const SIMOPT = process.env.SIMOPT ?? join(ROOT, "target/release/simopt");
const SESSION_TIMEOUT_MS = Number(process.env.E2E_SESSION_TIMEOUT_MS ?? 300_000);
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function api(base, path, { token, method = "GET", json } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  if (json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: res.status, body: await res.json() };
}

/** `simopt optimize` on the sample fleet at the session's moment: its document and workbook. */
async function commandLine(session, account) {
  const dir = await mkdtemp(join(tmpdir(), "simopt-handoff-cli-"));
  try {
    execFileSync(SIMOPT, [
      "optimize",
      "--sims", join(SAMPLE, "sims.csv"), "--plans", join(SAMPLE, "plans.csv"), "--eligibility", join(SAMPLE, "eligibility.csv"),
      "--period-end", session.period_end, "--tz", account.time_zone, "--as-of", session.as_of,
      "--account-name", account.name,
      "--json", join(dir, "out.json"), "--xlsx", join(dir, "out.xlsx"),
    ], { stdio: ["ignore", "ignore", "inherit"] });
    return { doc: JSON.parse(await readFile(join(dir, "out.json"), "utf8")), xlsx: await readFile(join(dir, "out.xlsx")) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The comparison table's exact values: row → { preview, moment, service }. */
async function comparison(page) {
  return page.locator("#session-compare tbody tr").evaluateAll((rows) =>
    Object.fromEntries(rows.map((tr) => [tr.dataset.row, Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [td.dataset.column, td.dataset.exact]))])),
  );
}

async function waitCompleted(page, sessionId) {
  await page.waitForFunction(
    (id) => {
      const step = document.querySelector("#session-step");
      return step?.dataset.session === (id ?? step?.dataset.session) && ["completed", "failed"].includes(step?.dataset.state ?? "")
        && document.querySelector("#session-verdict")?.dataset.agree !== undefined;
    },
    sessionId ?? null,
    { timeout: SESSION_TIMEOUT_MS, polling: 250 },
  );
}

async function main() {
  const admin = adminToken();
  const stateDir = await mkdtemp(join(tmpdir(), "simopt-handoff-"));
  let server = null;
  let browser = null;
  let failed = false;
  const stop = async () => {
    await browser?.close().catch(() => {});
    if (server) await stopWrangler(server);
    await rm(stateDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop().finally(() => process.exit(130)));
  const shots = [];
  const step = (name) => console.log(`  ok    ${name}`);
  try {
    await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
    const t0 = Date.now();
    server = await startWrangler(stateDir);
    await waitReady(server);
    console.log(`        wrangler dev ready on ${server.base} in ${Date.now() - t0} ms`);
    const tenant = await api(server.base, "/api/admin/tenants", { token: admin, method: "POST", json: { name: "Hand-off E2E" } });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    const token = tenant.body.token;
    step("a tenant made with the admin token");

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
    const context = await browser.newContext({ viewport: DESKTOP, locale: "en-US", timezoneId: "America/New_York", acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const consoleText = [];
    const problems = [];
    page.on("console", (m) => {
      consoleText.push(m.text());
      if (m.type() === "error" && !/status of (401|409|422)/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

    // The page, served by the Worker at `/`.
    await page.goto(`${server.base}/`);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByRole("button", { name: "Load sample fleet" }).click();
    await page.getByText("Sample fleet loaded: 5,000 SIMs").waitFor();
    await page.getByRole("button", { name: "Optimize", exact: true }).click();
    await page.locator("#results:not([hidden])").waitFor();
    await page.getByText(/^Optimized 5,000 SIMs in/).waitFor();
    const previewOptimized = await page.locator("#optimized-cost").getAttribute("data-exact");
    assert.equal(await page.getByLabel("Service URL").inputValue(), server.base, "the service URL defaults to the page's origin");
    assert.match(await page.locator("#handoff-run").textContent(), /^Sends the run shown above \(the files as they are\): plans\.csv, eligibility\.csv, sims\.csv\./);
    step("the page served by the Worker loads the sample fleet and optimizes it");

    // A wrong token: 401, said so.
    await page.getByLabel("Token", { exact: true }).fill("not-a-token-of-this-service-000000000000");
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByRole("heading", { name: "The token was refused" }).waitFor();
    assert.match(await page.locator("#handoff-errors-summary").textContent(), /refused the token \(401\)/);
    assert.equal(await page.locator("#account-step").isHidden(), true);
    step("a wrong token is refused (401) and the page says so");

    await page.getByLabel("Token", { exact: true }).fill(token);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Connected: 0 accounts.").waitFor();
    assert.equal(await page.getByLabel("Account", { exact: true }).inputValue(), "", "New account… is chosen when there is none");
    assert.equal(await page.getByLabel("New account's zone").inputValue(), "America/New_York");
    assert.equal(await page.getByLabel("New account's period end day").inputValue(), "22");
    await page.getByLabel("New account's name").fill("Hand-off fleet");
    assert.match(await page.locator("#account-notes-lede").textContent(), /^The account bills like this page\./);
    await page.locator("#handoff").screenshot({ path: join(SHOTS, `handoff-connected-${DESKTOP.width}.png`) });
    shots.push(`handoff-connected-${DESKTOP.width}.png`);
    step("the right token connects; a new account takes the page's zone and period end day");

    // The service refuses a SIMs file (a negative usage put into the upload): its diagnostics.
    let tampered = 0;
    await page.route("**/api/accounts/*/sims", async (route) => {
      tampered++;
      const body = route.request().postData().replace(/^(([^\n]*\n){2}[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)[^,]*/, "$1-3");
      await route.continue({ postData: body });
    });
    await page.getByRole("button", { name: "Upload and start session" }).click();
    await page.getByRole("heading", { name: "The service found errors in the files" }).waitFor();
    await page.unroute("**/api/accounts/*/sims");
    assert.equal(tampered, 1);
    const [file, row, column, message] = await page.locator("#handoff-errors-table tbody tr").first().locator("td").allTextContents();
    assert.deepEqual([file, row, column], ["sims.csv", "3", "usage_mb"], message);
    assert.match(message, /below zero/);
    const accounts = await api(server.base, "/api/accounts", { token });
    assert.equal(accounts.body.accounts.length, 1, "the account was made once");
    const account = accounts.body.accounts[0];
    assert.equal(account.name, "Hand-off fleet");
    assert.equal(account.time_zone, "America/New_York");
    assert.equal(account.period_end_day, 22);
    step("a file the service refuses shows its 422 diagnostics (sims.csv, row 3, usage_mb)");

    // The hand-off: upload, start, follow to completion.
    const handedAt = Date.now();
    await page.getByRole("button", { name: "Upload and start session" }).click();
    await waitCompleted(page);
    const sessionId = await page.locator("#session-step").getAttribute("data-session");
    assert.equal(await page.locator("#session-step").getAttribute("data-state"), "completed", await page.locator("#session-state").textContent());
    const session = (await api(server.base, `/api/sessions/${sessionId}`, { token })).body;
    console.log(`        session ${sessionId.slice(0, 8)}: as of ${session.as_of}, period end ${session.period_end}, ${session.slices} slices, ` +
      `completed ${Date.now() - handedAt} ms after the click; gap ${(session.summary.gap * 100).toFixed(4)} %`);
    const s = session.summary;
    const table = await comparison(page);
    assert.equal(table.optimized.service, s.optimized_cost);
    assert.equal(table.current.service, s.current_cost);
    assert.equal(table.savings.service, s.savings);
    assert.equal(table.bound.service, s.lower_bound ?? "");
    assert.equal(table.changes.service, String(s.changes));
    assert.equal(table.optimized.preview, previewOptimized, "the preview's column is the run sent");
    for (const key of ["current", "optimized", "savings", "bound", "changes", "sims"]) {
      assert.equal(table[key].moment, table[key].service, `${key}: the page's engine at the session's moment = the service`);
    }
    assert.equal(await page.locator("#session-verdict").getAttribute("data-agree"), "true");
    assert.match(await page.locator("#session-moment").textContent(), new RegExp(`as of ${session.as_of.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    // And the command line on the same files at the session's moment.
    const cli = await commandLine(session, account);
    assert.equal(s.optimized_cost, cli.doc.optimized_cost, "optimized cost = simopt optimize");
    assert.equal(s.current_cost, cli.doc.current_cost, "current cost = simopt optimize");
    assert.equal(s.lower_bound, cli.doc.lower_bound, "lower bound = simopt optimize");
    assert.equal(s.changes, cli.doc.changes, "changes = simopt optimize");
    step(`the session completes; its figures = the page's engine at its moment = simopt optimize (optimized ${s.optimized_cost}; preview as run ${previewOptimized})`);

    // The service's report, through the page.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the service's report" }).click()]);
    const chunks = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk);
    const report = Buffer.concat(chunks);
    assert.match(download.suggestedFilename(), /^simopt-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.xlsx$/);
    const summary = readWorkbook(report).get("Summary");
    const figure = (label) => Number(valueBeside(summary, label));
    assert.equal(figure("Current bill"), Number(s.current_cost), "report: current bill");
    assert.equal(figure("Optimized bill"), Number(s.optimized_cost), "report: optimized bill");
    assert.equal(figure("Savings"), Number(s.savings), "report: savings");
    assert.equal(figure("Lower bound"), Number(s.lower_bound), "report: lower bound");
    assert.equal(figure("SIMs"), s.sims, "report: SIMs");
    assert.equal(figure("SIMs changing plan"), s.changes, "report: changes");
    assert.ok(report.equals(cli.xlsx), "the service's report is simopt optimize --xlsx's, byte for byte");
    step("the service's report, downloaded through the page, holds the session's totals (and is the CLI's workbook)");

    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(250);
      const name = `handoff-completed-${viewport.width}.png`;
      await page.locator("#handoff").screenshot({ path: join(SHOTS, name) });
      shots.push(name);
    }
    await page.setViewportSize(DESKTOP);

    // 409: a session of the period starts through the API just before the page's request.
    let running = null;
    await page.route("**/api/accounts/*/sessions", async (route) => {
      if (route.request().method() === "POST" && !running) {
        running = await api(server.base, `/api/accounts/${account.id}/sessions`, { token, method: "POST" });
      }
      await route.continue();
    });
    await page.getByLabel("Account", { exact: true }).selectOption(account.id);
    assert.match(await page.locator("#account-notes-lede").textContent(), /^The account bills like this page\./);
    await page.getByRole("button", { name: "Upload and start session" }).click();
    await page.waitForFunction(() => /already running/.test(document.querySelector("#session-moment")?.textContent ?? ""));
    assert.equal(running.status, 201, JSON.stringify(running.body));
    assert.equal(await page.locator("#session-step").getAttribute("data-session"), running.body.id, "the page follows the running session");
    await waitCompleted(page, running.body.id);
    assert.equal(await page.locator("#session-step").getAttribute("data-state"), "completed");
    const second = (await api(server.base, `/api/sessions/${running.body.id}`, { token })).body;
    const again = await comparison(page);
    assert.equal(again.optimized.service, second.summary.optimized_cost);
    assert.equal(again.optimized.moment, second.summary.optimized_cost);
    step("a second hand-off while a session runs: 409, the page follows that session to completion");

    // The token: never in the console; gone after a reload unless remembered for the tab.
    assert.ok(!consoleText.some((t) => t.includes(token)), "the token never reaches the console");
    // The panel is under the results: show them again after each reload.
    const optimizeSample = async () => {
      await page.getByRole("button", { name: "Load sample fleet" }).click();
      await page.getByText("Sample fleet loaded: 5,000 SIMs").waitFor();
      await page.getByRole("button", { name: "Optimize", exact: true }).click();
      await page.getByText(/^Optimized 5,000 SIMs in/).waitFor();
    };
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    assert.equal(await page.locator("#service-token").inputValue(), "", "not kept without asking");
    await optimizeSample();
    await page.getByLabel("Token", { exact: true }).fill(token);
    await page.getByLabel("Remember the token for this tab").check();
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    assert.equal(await page.locator("#service-token").inputValue(), token, "remembered for the tab");
    assert.equal(await page.locator("#remember-token").isChecked(), true);
    await optimizeSample();
    await page.getByLabel("Remember the token for this tab").uncheck();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, "unticking forgets it");
    assert.deepEqual(problems, [], "no page errors");
    step("the token stays out of the console and is kept for the tab only when asked");
    console.log(`        screenshots: ${shots.map((n) => join(SHOTS, n)).join(", ")}`);
  } catch (error) {
    failed = true;
    console.log(`  FAIL  ${error.stack ?? error.message}`);
    if (server) console.log(`---- wrangler dev output (last 40 lines) ----\n${server.log.join("").split("\n").slice(-40).join("\n")}`);
  } finally {
    await stop();
  }
  console.log(failed ? "handoff e2e: FAIL" : "handoff e2e: PASS");
  process.exit(failed ? 1 : 0);
}

main();
