// The bill preview page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// a person picks the fixture files, computes the bill, and sees exactly the golden document's
// numbers; malformed files show the error table; warnings are listed. Screenshots at desktop
// and phone widths go to target/screenshots/.
//
//   node web-ui/test/page.e2e.mjs        (after scripts/build-web; scripts/test-web does both)
//
// Environment: CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default target/screenshots).
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./static-server.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIST = `${ROOT}web-ui/dist`;
const BASIC = `${ROOT}tests/fixtures/cases/basic`;
const INVALID = `${ROOT}tests/fixtures/invalid`;
const SHOTS = process.env.SCREENSHOTS ?? `${ROOT}target/screenshots`;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

// ---- independent expectations (not the page's own formatting code) -------------------------

const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const amount = (text) => {
  const [int, frac] = text.split(".");
  return `${group(int)}.${frac}`;
};

/** The golden cost document, plus the exact text of each plan's usage_mb (JSON numbers that
 * JSON.parse would round to doubles). */
async function golden() {
  const raw = await readFile(`${BASIC}/cost.json`, "utf8");
  const document = JSON.parse(raw);
  const plansText = raw.slice(raw.indexOf('"plans": ['), raw.indexOf('"pools": ['));
  const usage = [...plansText.matchAll(/"usage_mb": ([0-9.]+),/g)].map((m) => m[1]);
  assert.equal(usage.length, document.plans.length, "usage_mb per plan in cost.json");
  return { document, usage };
}

// ---- a minimal harness -----------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function newPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: "en-US", timezoneId: "America/New_York" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  return { context, page, problems };
}

async function open(page, url) {
  await page.goto(url);
  await page.locator('html[data-ready="true"]').waitFor();
}

/** Fills the form the way a person does: by the labels. */
async function fillForm(page, { sims, plans, eligibility }) {
  await page.getByLabel("SIMs file").setInputFiles(sims);
  await page.getByLabel("Plans file").setInputFiles(plans);
  if (eligibility) await page.getByLabel("Eligibility file (optional)").setInputFiles(eligibility);
  const settings = JSON.parse(await readFile(`${BASIC}/settings.json`, "utf8"));
  await page.getByLabel("Billing period end").fill(settings.period_end);
  await page.getByLabel("Time zone").fill(settings.time_zone);
  await page.getByText("Advanced settings").click();
  await page.getByLabel("As of").fill(settings.as_of);
  await page.getByLabel("Account name").fill("Acme Logistics");
}

async function shoot(page, name, viewport) {
  await page.setViewportSize(viewport);
  const path = `${SHOTS}/${name}-${viewport.width}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

const shots = [];

// ---- the cases -------------------------------------------------------------------------------

test("the fixture's bill matches the golden document, per plan and in total", async ({ browser, url }) => {
  const { document, usage } = await golden();
  const { context, page, problems } = await newPage(browser);
  try {
    await open(page, url);
    assert.equal(await page.getByLabel("Time zone").inputValue(), "America/New_York", "default zone is the browser's");
    await assert.doesNotReject(page.getByText("Your data never leaves this browser").waitFor());
    await fillForm(page, {
      sims: `${BASIC}/sims.csv`,
      plans: `${BASIC}/plans.csv`,
      eligibility: `${BASIC}/eligibility.csv`,
    });
    await page.getByRole("button", { name: "Compute bill" }).click();

    const heading = page.getByRole("heading", { level: 2, name: /^Current bill:/ });
    await heading.waitFor();
    assert.equal(await heading.textContent(), `Current bill: $${amount(document.current_cost)}`);
    assert.equal(await page.locator("#total").getAttribute("data-exact"), document.current_cost);
    assert.equal(await page.locator("#sim-count").textContent(), `${document.sim_count} SIMs`);
    assert.ok(await heading.evaluate((h) => h === document.activeElement), "focus moves to the result");

    const rows = page.locator("#plans-table tbody tr");
    assert.equal(await rows.count(), document.plans.length, "one row per plan");
    for (const [i, plan] of document.plans.entries()) {
      const row = rows.nth(i);
      const cells = await row.locator("th, td").allTextContents();
      assert.equal(cells[0], plan.plan, `plan ${i}`);
      assert.equal(await row.locator(".plan-name").textContent(), plan.name, `${plan.plan} name`);
      if (plan.pool) assert.equal(await row.locator(".pool-tag").textContent(), plan.pool, `${plan.plan} pool`);
      assert.equal(cells[2], String(plan.sim_count), `${plan.plan} SIMs`);
      assert.equal(await row.locator("td").nth(2).getAttribute("data-exact"), usage[i], `${plan.plan} usage`);
      assert.deepEqual(
        cells.slice(4),
        [plan.base, plan.overage, plan.sms, plan.total].map(amount),
        `${plan.plan} money`,
      );
    }
    const total = await page.locator("#plans-table tfoot tr").locator("th, td").allTextContents();
    const t = document.totals;
    assert.deepEqual(
      [total[0], total[1], ...total.slice(3)],
      ["Total", String(document.sim_count), ...[t.base, t.overage, t.sms, t.total].map(amount)],
      "totals row",
    );
    assert.equal(await page.locator("#warnings").isHidden(), true, "no warnings for the basic case");

    // The JSON download is the engine's document, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download JSON" }).click(),
    ]);
    const stream = await download.createReadStream();
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString("utf8"), await readFile(`${BASIC}/cost.json`, "utf8"));

    // The Excel download is the workbook the command line writes, byte for byte.
    const [excel] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download Excel" }).click(),
    ]);
    assert.equal(excel.suggestedFilename(), "simopt-cost.xlsx");
    const parts = [];
    for await (const chunk of await excel.createReadStream()) parts.push(chunk);
    assert.ok(
      Buffer.concat(parts).equals(await readFile(`${BASIC}/xlsx/cost.xlsx`)),
      "the page's workbook is the command line's",
    );

    shots.push(await shoot(page, "bill", DESKTOP), await shoot(page, "bill", PHONE));
    const detail = `${SHOTS}/bill-results-${PHONE.width}.png`;
    await page.locator("#results").screenshot({ path: detail });
    shots.push(detail);
    assert.deepEqual(problems, [], "no console errors or failed requests");
  } finally {
    await context.close();
  }
});

test("a malformed SIMs file shows the errors with file, row and column", async ({ browser, url }) => {
  const { context, page, problems } = await newPage(browser);
  try {
    await open(page, url);
    await fillForm(page, {
      sims: `${INVALID}/negative-usage/sims.csv`,
      plans: `${INVALID}/negative-usage/plans.csv`,
    });
    await page.getByRole("button", { name: "Compute bill" }).click();
    await page.getByRole("heading", { name: "The files could not be billed" }).waitFor();
    assert.equal(await page.locator("#results").isHidden(), true, "no bill is shown");
    const rows = page.locator("#errors-table tbody tr");
    assert.equal(await rows.count(), 1);
    const [file, row, column, message, hint] = await rows.first().locator("td").allTextContents();
    assert.deepEqual([file, row, column], ["sims.csv", "3", "usage_mb"]);
    assert.match(message, /usage_mb is -3, below zero/);
    assert.ok(hint.length > 0, "a hint is shown");
    assert.match(await page.locator("#errors-summary").textContent(), /^1 error found/);
    shots.push(await shoot(page, "errors", DESKTOP), await shoot(page, "errors", PHONE));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("warnings are listed next to the bill; the form works from the keyboard", async ({ browser, url }) => {
  const { context, page, problems } = await newPage(browser, PHONE);
  try {
    await open(page, url);
    const sims = (await readFile(`${BASIC}/sims.csv`, "utf8")).replace(",P100,active,2025-03-01,180,", ",P100,paused,2025-03-01,180,");
    await fillForm(page, {
      sims: { name: "fleet.csv", mimeType: "text/csv", buffer: Buffer.from(sims) },
      plans: `${BASIC}/plans.csv`,
    });
    // Submit with the keyboard: focus the button and press Enter.
    await page.getByRole("button", { name: "Compute bill" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: /^Current bill:/ }).waitFor();
    const warnings = page.locator("#warnings-table tbody tr");
    await page.locator("#warnings").waitFor();
    assert.ok((await warnings.count()) >= 1, "at least one warning");
    const cells = await warnings.first().locator("td").allTextContents();
    assert.deepEqual(cells.slice(0, 3), ["fleet.csv", "5", "status"]);
    assert.match(await page.locator("#warnings-heading").textContent(), /^\d+ warnings?/);
    shots.push(await shoot(page, "warnings", PHONE));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("left empty, the period ends with the month and the run is as of now", async ({ browser, url }) => {
  const { context, page, problems } = await newPage(browser);
  try {
    await open(page, url);
    await page.getByLabel("SIMs file").setInputFiles(`${BASIC}/sims.csv`);
    await page.getByLabel("Plans file").setInputFiles(`${BASIC}/plans.csv`);
    await page.getByLabel("Time zone").fill("UTC");
    const before = new Date();
    await page.getByRole("button", { name: "Compute bill" }).click();
    await page.getByRole("heading", { level: 2, name: /^Current bill: \$[\d,]+\.\d{2}$/ }).waitFor();
    const shown = await page.locator("#as-of-shown").textContent();
    const minute = (date) => date.toISOString().slice(0, 16).replace("T", " ");
    assert.ok([minute(before), minute(new Date())].includes(shown.slice(0, 16)), `as of ${shown}`);
    assert.match(await page.locator("#period").textContent(), /\(UTC, \d+ days\)$/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("without the required files the page asks for them", async ({ browser, url }) => {
  const { context, page, problems } = await newPage(browser);
  try {
    await open(page, url);
    await page.getByRole("button", { name: "Compute bill" }).click();
    assert.equal(await page.getByRole("status").textContent(), "Choose the SIMs and plans file first.");
    assert.ok(await page.getByLabel("SIMs file").evaluate((input) => input === document.activeElement));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// ---- run -------------------------------------------------------------------------------------

await mkdir(SHOTS, { recursive: true });
const server = await serve(DIST);
let browser;
let passed = 0;
let failed = 0;
const t0 = Date.now();
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  for (const { name, fn } of tests) {
    const started = Date.now();
    try {
      await fn({ browser, url: server.url });
      passed++;
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}\n     ${String(error?.stack ?? error).replaceAll("\n", "\n     ")}`);
    }
  }
} catch (error) {
  failed++;
  console.log(`FAIL setting up Chromium: ${error?.stack ?? error}`);
} finally {
  await browser?.close();
  await server.close();
}
for (const shot of shots) console.log(`screenshot: ${shot}`);
console.log(`page tests: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 && passed === tests.length ? 0 : 1);
