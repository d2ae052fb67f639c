// The fleet manager's savings preview: reads the files (picked, dropped or the sample fleet),
// runs the optimizer in its Web Worker with a progress bar and Cancel, and shows the savings,
// the gap to the lower bound, the charts, the per-plan and per-SIM tables, the what-if runs and
// the downloads. Nothing is sent anywhere: the engine is the simopt core compiled to WebAssembly.

import "./style.css";
import { BAND_COLORS, drawHistogram, drawPlanChart, mbLabel } from "./charts.js";
import { Engine, EngineError } from "./engine.js";
import {
  decimalToMicros, formatAmount, formatCurrency, formatLocal, formatPercent, formatSeconds, groupThousands, microsToDecimal,
  plural,
} from "./format.js";
import type {
  CostFilesInput, CostSettingsInput, Diagnostic, FailureInfo, OptimizeOptionsInput, RunResult,
} from "./protocol.js";
import { HandoffPanel } from "./handoff.js";
import { VirtualTable } from "./simtable.js";
import { parseFlatToml } from "./toml.js";
import type { SortKey, ViewQuery } from "./view.js";
import { editEligibility, editPlans, isEmpty, type NewPlan, type PlanEdit, type Scenario, WhatIfError } from "./whatif.js";

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
};

const engine = new Engine();
const form = $<HTMLFormElement>("#fleet-form");
const status = $("#status");
const inputs = {
  sims: $<HTMLInputElement>("#sims-file"),
  plans: $<HTMLInputElement>("#plans-file"),
  eligibility: $<HTMLInputElement>("#eligibility-file"),
};
type Kind = keyof typeof inputs;

// ---- state ---------------------------------------------------------------------------------

export interface Run {
  run: RunResult;
  /** The exact files the run read (xlsx as its CSV text, a what-if's edited files). */
  files: CostFilesInput;
  /** Its options (what-if locks and minimum saving). */
  options: OptimizeOptionsInput;
  /** The settings it ran with. */
  settings: CostSettingsInput;
  /** What the run changed against the files, in words ("" for the files as they are). */
  scenario: string;
  /** The files the run was made from (a what-if compares only with runs of the same files). */
  filesKey: string;
}

let current: Run | null = null;
let previous: Run | null = null;
/** The plan terms of the last run of the files as they are: the what-if table's starting point. */
let baseline: RunResult | null = null;
let cancelRun: (() => void) | null = null;
let viewSeq = 0;

// ---- status --------------------------------------------------------------------------------

function say(text: string, kind: "" | "busy" | "done" | "problem" = ""): void {
  status.textContent = text;
  status.className = `status ${kind}`.trim();
}

// ---- files ---------------------------------------------------------------------------------

/** Which file a dropped file is, from its header row (or its name, for JSON). */
async function sniff(file: File): Promise<Kind | null> {
  const name = file.name.toLowerCase();
  if (!name.endsWith(".csv") && !name.endsWith(".txt")) {
    if (name.includes("elig")) return "eligibility";
    if (name.includes("plan")) return "plans";
    if (name.includes("sim")) return "sims";
    return null;
  }
  const head = (await file.slice(0, 4096).text()).split(/\r?\n/, 1)[0].toLowerCase();
  const columns = head.split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
  if (columns.includes("iccid")) return "sims";
  if (columns.includes("monthly_charge") || columns.includes("included_mb")) return "plans";
  if (columns.includes("comm_plan") && columns.includes("plan_id")) return "eligibility";
  return null;
}

function setFile(kind: Kind, file: File): void {
  const transfer = new DataTransfer();
  transfer.items.add(file);
  inputs[kind].files = transfer.files;
  inputs[kind].dispatchEvent(new Event("change", { bubbles: true }));
}

const dropZone = $("#drop-zone");
for (const type of ["dragenter", "dragover"]) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropZone.addEventListener(type, () => dropZone.classList.remove("dragging"));
}
dropZone.addEventListener("drop", async (event) => {
  event.preventDefault();
  const files = [...(event.dataTransfer?.files ?? [])];
  const placed: string[] = [];
  const unknown: string[] = [];
  for (const file of files) {
    const kind = await sniff(file);
    if (kind) {
      setFile(kind, file);
      placed.push(`${file.name} as the ${kind === "sims" ? "SIMs" : kind} file`);
    } else unknown.push(file.name);
  }
  if (unknown.length > 0) {
    say(`Could not tell which file ${unknown.join(", ")} is: choose it with the SIMs, Plans or Eligibility picker.`, "problem");
  } else if (placed.length > 0) say(`Added ${placed.join("; ")}.`);
});

const isSheet = (name: string): boolean => /\.xlsx$/i.test(name);

/** A chosen file as the engine reads it: CSV and JSON as bytes, an .xlsx workbook's first sheet
 * as CSV text (converted by the engine, so its errors name the sheet's rows and cells). */
async function readInput(kind: Kind): Promise<{ name: string; bytes: Uint8Array } | { name: string; text: string } | null> {
  const file = inputs[kind].files?.[0];
  if (!file) return null;
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isSheet(file.name)) return { name: file.name, text: await engine.sheetToCsv(file.name, bytes) };
  return { name: file.name, bytes };
}

/** A file's text (what-if edits work on text). */
function textOf(file: { bytes: Uint8Array } | { text: string }): string {
  return "text" in file ? file.text : new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
}

function filesKey(): string {
  return (Object.keys(inputs) as Kind[])
    .map((k) => {
      const f = inputs[k].files?.[0];
      return f ? `${f.name}:${f.size}:${f.lastModified}` : "-";
    })
    .join("|");
}

for (const input of Object.values(inputs)) {
  input.addEventListener("change", () => {
    baseline = null;
  });
}

// The sample fleet, served next to the page (samples/fleet/ of the repository).
$("#load-sample").addEventListener("click", async () => {
  const button = $<HTMLButtonElement>("#load-sample");
  button.disabled = true;
  say("Loading the sample fleet…", "busy");
  try {
    const base = new URL("samples/fleet/", document.baseURI);
    const fetchText = async (name: string) => {
      const response = await fetch(new URL(name, base));
      if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
      return response.text();
    };
    const [sims, plans, eligibility, account] = await Promise.all(
      ["sims.csv", "plans.csv", "eligibility.csv", "account.toml"].map(fetchText),
    );
    const now = Date.now();
    const file = (text: string, name: string) => new File([text], name, { type: "text/csv", lastModified: now });
    setFile("sims", file(sims, "sims.csv"));
    setFile("plans", file(plans, "plans.csv"));
    setFile("eligibility", file(eligibility, "eligibility.csv"));
    applySettings(parseFlatToml(account));
    const count = sims.trim().split("\n").length - 1;
    say(`Sample fleet loaded: ${plural(count, "SIM")}. Press Optimize.`, "done");
    $("#optimize").focus();
  } catch (error) {
    say(`The sample fleet could not be loaded (${(error as Error).message}).`, "problem");
  } finally {
    button.disabled = false;
  }
});

function applySettings(s: Record<string, string | number | boolean>): void {
  const set = (id: string, value: unknown) => {
    if (value !== undefined) $<HTMLInputElement>(id).value = String(value);
  };
  set("#period-end", s.period_end);
  set("#time-zone", s.time_zone);
  set("#as-of", s.as_of);
  set("#charge-type", s.charge_type);
  set("#margin", s.margin_pct);
  set("#account-name", s.account_name);
  const on = (value: unknown) => value === true || value === "on";
  if (s.projection !== undefined) $<HTMLInputElement>("#projection").checked = on(s.projection);
  if (s.proration !== undefined) $<HTMLInputElement>("#proration").checked = on(s.proration);
}

/** "Now" for the engine: RFC 3339 in UTC (the engine converts it to the account's zone). */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function settingsFromForm(): CostSettingsInput {
  const value = (id: string) => $<HTMLInputElement>(id).value.trim();
  return {
    asOf: value("#as-of") || now(),
    periodEnd: value("#period-end") || null,
    timeZone: value("#time-zone") || null,
    chargeType: value("#charge-type"),
    marginPct: value("#margin") || null,
    projection: $<HTMLInputElement>("#projection").checked ? "on" : "off",
    proration: $<HTMLInputElement>("#proration").checked ? "on" : "off",
    accountName: value("#account-name") || null,
  };
}

// ---- running -------------------------------------------------------------------------------

const progressCard = $("#progress-card");
const progressBar = $<HTMLProgressElement>("#progress");

function busy(on: boolean): void {
  for (const id of ["#optimize", "#rerun", "#load-sample", "#download-report", "#download-changes", "#send-run"]) {
    $<HTMLButtonElement>(id).disabled = on;
  }
  progressCard.hidden = !on;
}

async function optimize(scenario: Scenario | null): Promise<void> {
  const missing = (["sims", "plans"] as Kind[]).filter((k) => !inputs[k].files?.length);
  if (missing.length > 0) {
    say(`Choose the ${missing.map((k) => (k === "sims" ? "SIMs" : "plans")).join(" and ")} file first, or load the sample fleet.`, "problem");
    inputs[missing[0]].focus();
    return;
  }
  let read: Awaited<ReturnType<typeof readInput>>[];
  try {
    read = await Promise.all((["sims", "plans", "eligibility"] as Kind[]).map(readInput));
  } catch (error) {
    if (error instanceof EngineError) showFailure(error.info);
    else showFailure({ name: "Error", message: (error as Error).message });
    return;
  }
  const [sims, plans, eligibility] = read;
  if (!sims || !plans) return;
  const files: CostFilesInput = { sims, plans, eligibility };
  const options: OptimizeOptionsInput = {};
  const words: string[] = [];
  try {
    if (scenario) {
      const minSaving = $<HTMLInputElement>("#min-saving").value.trim();
      if (minSaving !== "") {
        options.minSaving = minSaving;
        words.push(`minimum saving ${minSaving} per change`);
      }
      const locks = $<HTMLTextAreaElement>("#lock-iccids").value.split(/[\s,;]+/).filter(Boolean);
      if (locks.length > 0) {
        options.lockIccids = locks;
        words.push(`${plural(locks.length, "SIM")} locked`);
      }
      if (!isEmpty(scenario)) {
        if (/\.json$/i.test(plans.name)) {
          throw new WhatIfError("Plan changes need the plans file as CSV.");
        }
        files.plans = { name: `${plans.name} (what-if)`, text: editPlans(textOf(plans), scenario) };
        if (eligibility && scenario.added.length > 0) {
          files.eligibility = {
            name: `${eligibility.name} (what-if)`,
            text: editEligibility(textOf(eligibility), scenario) ?? "",
          };
        }
        words.push(...describe(scenario));
      }
    }
  } catch (error) {
    showFailure({ name: (error as Error).name, message: (error as Error).message });
    return;
  }
  const settings = settingsFromForm();
  const t0 = performance.now();
  busy(true);
  $("#errors").hidden = true;
  progressBar.value = 0;
  $("#progress-count").textContent = "";
  $("#progress-phase").textContent = "reading the files";
  $("#progress-best").textContent = "—";
  $("#progress-gap").textContent = "not yet known";
  say(scenario ? "Re-running with the what-if changes…" : "Optimizing…", "busy");
  $("#cancel").focus();
  const { promise, cancel } = engine.run(files, settings, options, (progress, _slices, elapsed) => {
    progressBar.value = progress.done;
    $("#progress-phase").textContent = progress.phase;
    $("#progress-best").textContent = formatCurrency(progress.bestCost);
    $("#progress-gap").textContent = progress.gap === null ? "not yet known" : formatPercent(progress.gap);
    $("#progress-elapsed").textContent = formatSeconds(elapsed);
  });
  cancelRun = cancel;
  const outcome = await promise;
  cancelRun = null;
  busy(false);
  if (outcome.kind === "cancelled") {
    say("Cancelled. Nothing was changed; press Optimize to start again.");
    (current ? $("#results-heading") : $("#optimize")).focus();
    return;
  }
  if (outcome.kind === "failed") {
    showFailure(outcome.error);
    return;
  }
  const key = filesKey();
  previous = current && current.filesKey === key ? current : null;
  current = { run: outcome.run, files, options, settings, scenario: words.join("; "), filesKey: key };
  if (!scenario || !baseline) {
    baseline = outcome.run;
    buildWhatIf(outcome.run);
  }
  await showResults(current, previous);
  handoff.runChanged(current);
  const seconds = formatSeconds(performance.now() - t0);
  say(`Optimized ${plural(outcome.run.table.count, "SIM")} in ${seconds}.`, "done");
  $("#results-heading").focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void optimize(null);
});
$("#rerun").addEventListener("click", () => {
  let scenario: Scenario;
  try {
    scenario = scenarioFromForm();
  } catch (error) {
    showFailure({ name: "WhatIfError", message: (error as Error).message });
    return;
  }
  void optimize(scenario);
});
$("#cancel").addEventListener("click", () => {
  cancelRun?.();
  $("#progress-phase").textContent = "cancelling";
});

// ---- failures ------------------------------------------------------------------------------

function cell(text: string, numeric = false): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "num";
  return td;
}

export function showDiagnostics(table: HTMLTableElement, diagnostics: Diagnostic[]): void {
  const body = table.tBodies[0];
  const labels = [...table.tHead!.rows[0].cells].map((th) => th.textContent ?? "");
  body.replaceChildren(
    ...diagnostics.map((d) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(d.file),
        cell(d.row == null ? "—" : String(d.row), true),
        cell(d.column ?? "—"),
        cell(d.message),
        cell(d.hint),
      );
      [...tr.cells].forEach((c, i) => (c.dataset.label = labels[i]));
      return tr;
    }),
  );
}

function showFailure(error: FailureInfo): void {
  const found = (error.diagnostics ?? []).filter((d) => d.severity === "error");
  const table = $<HTMLTableElement>("#errors-table");
  if (error.name === "InputError" && found.length > 0) {
    const count = error.errorCount ?? found.length;
    $("#errors-heading").textContent = "The files have errors";
    $("#errors-summary").textContent =
      `${plural(count, "error")} found${count > found.length ? ` (first ${found.length} shown)` : ""}. ` +
      `Nothing was optimized: fix ${count === 1 ? "it" : "them"} in your files and try again.`;
    showDiagnostics(table, found);
    table.closest(".table-wrap")!.removeAttribute("hidden");
  } else {
    $("#errors-heading").textContent =
      error.name === "WhatIfError" || error.name === "ArgumentError" ? "The what-if changes cannot be run" : "Something went wrong";
    $("#errors-summary").textContent = error.message;
    table.tBodies[0].replaceChildren();
    table.closest(".table-wrap")!.setAttribute("hidden", "");
  }
  $("#errors").hidden = false;
  say(error.name === "InputError" ? "The files have errors: see the table below." : error.message, "problem");
  $("#errors-heading").focus();
}

// ---- results -------------------------------------------------------------------------------

const simTable = new VirtualTable($("#sim-table"), () => void refreshView());

function moneyDiff(a: string, b: string): string {
  const x = decimalToMicros(a);
  const y = decimalToMicros(b);
  return x === null || y === null ? "—" : microsToDecimal(y - x);
}

function signed(text: string): string {
  return text.startsWith("-") ? formatCurrency(text) : `+${formatCurrency(text)}`;
}

async function showResults(run: Run, before: Run | null): Promise<void> {
  const r = run.run.result;
  const { period, table } = run.run;
  $("#headline-savings").textContent = formatCurrency(r.savings);
  $("#current-cost").textContent = formatCurrency(r.currentCost);
  $("#current-cost").dataset.exact = r.currentCost;
  $("#optimized-cost").textContent = formatCurrency(r.optimizedCost);
  $("#optimized-cost").dataset.exact = r.optimizedCost;
  $("#savings").textContent = formatCurrency(r.savings);
  $("#savings").dataset.exact = r.savings;
  const current = Number(r.currentCost);
  $("#savings-note").textContent = current > 0 ? `${formatPercent(Number(r.savings) / current)} of the current bill` : "";
  $("#current-note").textContent = plural(table.count, "SIM");
  $("#changes-note").textContent =
    `${plural(r.changes, "SIM")} change${r.changes === 1 ? "s" : ""} plan` + (r.lockedSims > 0 ? ` · ${r.lockedSims} locked` : "");
  $("#gap").textContent = r.gap === null ? "—" : formatPercent(r.gap);
  $("#gap").dataset.exact = r.gap === null ? "" : String(r.gap);
  $("#bound-note").textContent = r.lowerBound === null
    ? "no bound from this method"
    : `no assignment costs less than ${formatCurrency(r.lowerBound)}`;
  const t = run.run.timings;
  $("#run-facts").textContent =
    `Billing period ${formatLocal(period.start)} → ${formatLocal(period.end)} (${period.timeZone}), ` +
    `usage as of ${formatLocal(period.asOf)}${period.closed ? " (final)" : ", projected to the period end"}. ` +
    `Optimized in ${formatSeconds(t.loadMs + t.optimizeMs)}` +
    (run.scenario ? ` · what-if: ${run.scenario}` : "") + ".";

  showComparison(run, before);
  showPlanTable(run.run);
  showWarnings(run.run);
  // Visible before the charts are drawn: the histogram is drawn at its container's width.
  $("#results").hidden = false;
  drawPlanChart($("#plan-chart"), run.run.planLines);
  fillHistogramChoice(run.run);
  drawUsage();
  await refreshView();
}

function showComparison(run: Run, before: Run | null): void {
  const section = $("#comparison");
  if (!before) {
    section.hidden = true;
    return;
  }
  const [a, b] = [before.run.result, run.run.result];
  const gap = (g: number | null) => (g === null ? "—" : formatPercent(g));
  const rows: [string, string, string, string][] = [
    ["Current cost", formatCurrency(a.currentCost), formatCurrency(b.currentCost), signed(moneyDiff(a.currentCost, b.currentCost))],
    ["Optimized cost", formatCurrency(a.optimizedCost), formatCurrency(b.optimizedCost), signed(moneyDiff(a.optimizedCost, b.optimizedCost))],
    ["Savings", formatCurrency(a.savings), formatCurrency(b.savings), signed(moneyDiff(a.savings, b.savings))],
    ["SIMs changing plan", String(a.changes), String(b.changes), `${b.changes - a.changes >= 0 ? "+" : ""}${b.changes - a.changes}`],
    ["Gap to lower bound", gap(a.gap), gap(b.gap), ""],
  ];
  $("#comparison-table tbody").replaceChildren(
    ...rows.map(([label, ...values]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      tr.append(th, ...values.map((v) => cell(v, true)));
      return tr;
    }),
  );
  $("#comparison-scenario").textContent =
    `Previous: ${before.scenario || "the files as they are"}. This run: ${run.scenario || "the files as they are"}.`;
  section.hidden = false;
}

function showPlanTable(run: RunResult): void {
  const table = $<HTMLTableElement>("#plans-table");
  const labels = [...table.tHead!.rows[0].cells].map((th) => th.textContent ?? "");
  const rows = run.planLines
    .filter((l) => l.before.simCount > 0 || l.after.simCount > 0)
    .map((l) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = l.plan;
      const name = cell(l.name);
      if (l.pool) {
        const tag = document.createElement("span");
        tag.className = "pool-tag";
        tag.textContent = l.pool;
        tag.title = `Shares the allowance of pool ${l.pool}`;
        name.append(" ", tag);
      }
      const change = moneyDiff(l.before.total, l.after.total);
      tr.append(
        th, name,
        cell(groupThousands(String(l.before.simCount)), true), cell(groupThousands(String(l.after.simCount)), true),
        cell(formatAmount(l.before.total), true), cell(formatAmount(l.after.total), true),
        cell(change === "—" ? change : signed(change).replace("$", ""), true),
      );
      tr.dataset.plan = l.plan;
      [...tr.cells].forEach((c, i) => (c.dataset.label = labels[i]));
      return tr;
    });
  table.tBodies[0].replaceChildren(...rows);
  const r = run.result;
  const foot = document.createElement("tr");
  const th = document.createElement("th");
  th.scope = "row";
  th.colSpan = 2;
  th.textContent = "Total";
  foot.append(
    th,
    cell(groupThousands(String(run.table.count)), true), cell(groupThousands(String(run.table.count)), true),
    cell(formatAmount(r.currentCost), true), cell(formatAmount(r.optimizedCost), true),
    cell(signed(moneyDiff(r.currentCost, r.optimizedCost)).replace("$", ""), true),
  );
  [...foot.cells].forEach((c, i) => (c.dataset.label = i === 0 ? "" : labels[i + 1]));
  table.tFoot!.replaceChildren(foot);
}

function showWarnings(run: RunResult): void {
  const section = $("#warnings");
  showDiagnostics($<HTMLTableElement>("#warnings-table"), run.warnings);
  const hidden = run.warningCount - run.warnings.length;
  $("#warnings-heading").textContent =
    plural(run.warningCount, "warning") + (hidden > 0 ? ` (first ${run.warnings.length} shown)` : "");
  section.hidden = run.warnings.length === 0;
}

// ---- histogram -----------------------------------------------------------------------------

const commSelect = $<HTMLSelectElement>("#histogram-comm");

function fillHistogramChoice(run: RunResult): void {
  const keep = commSelect.value;
  const comms = run.catalogue.commPlans
    .map((c, index) => ({ ...c, index }))
    .filter((c) => c.sims > 0)
    .sort((a, b) => b.sims - a.sims);
  commSelect.replaceChildren(
    ...comms.map((c) => {
      const option = document.createElement("option");
      option.value = String(c.index);
      option.textContent = `${c.name} (${plural(c.sims, "SIM")})`;
      return option;
    }),
  );
  if ([...commSelect.options].some((o) => o.value === keep)) commSelect.value = keep;
  commSelect.closest(".field")!.toggleAttribute("hidden", comms.length === 0);
}

function drawUsage(): void {
  if (!current) return;
  const run = current.run;
  const { table, catalogue } = run;
  const chosen = commSelect.value === "" ? null : Number(commSelect.value);
  let usage: Float64Array;
  let eligible: number[];
  if (chosen === null) {
    usage = table.usageBytes.map((b) => b / 1_048_576);
    eligible = catalogue.plans.map((_, i) => i).filter((i) => !catalogue.plans[i].retired && !catalogue.plans[i].excluded);
  } else {
    let n = 0;
    for (let i = 0; i < table.count; i++) if (table.commPlan[i] === chosen) n++;
    usage = new Float64Array(n);
    n = 0;
    for (let i = 0; i < table.count; i++) if (table.commPlan[i] === chosen) usage[n++] = table.usageBytes[i] / 1_048_576;
    eligible = catalogue.commPlans[chosen].plans;
  }
  const drawn = drawHistogram($("#histogram"), usage, catalogue, eligible);
  $("#histogram").setAttribute(
    "aria-label",
    `Usage histogram of ${plural(usage.length, "SIM")}, log scale, with ${plural(drawn.breakEvens.length, "break-even point")}`,
  );
  $("#histogram-caption").textContent =
    `SIMs by usage as billed (log scale)${drawn.zero > 0 ? `; ${plural(drawn.zero, "SIM")} with no usage not drawn` : ""}. ` +
    "Dashed lines: the break-even usages where another plan becomes the cheapest for one SIM (pooled plans as if alone); the bands below the axis and the list say which.";
  $("#break-evens").replaceChildren(
    ...drawn.segments.map((s, k) => {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = BAND_COLORS[k % BAND_COLORS.length];
      const range = `${s.fromMb === 0 ? "0" : mbLabel(s.fromMb)} – ${mbLabel(s.toMb)}`;
      const code = document.createElement("strong");
      code.textContent = s.code;
      li.append(swatch, code, ` ${range}`);
      return li;
    }),
  );
}

commSelect.addEventListener("change", drawUsage);
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(drawUsage, 150);
});

// ---- per-SIM table -------------------------------------------------------------------------

const search = $<HTMLInputElement>("#sim-search");
const changedOnly = $<HTMLInputElement>("#changed-only");

function query(): ViewQuery {
  return { search: search.value, changedOnly: changedOnly.checked, sort: simTable.sort as SortKey, descending: simTable.descending };
}

async function refreshView(): Promise<void> {
  if (!current) return;
  const seq = ++viewSeq;
  const table = current.run.table;
  try {
    const rows = await engine.view(query());
    if (seq !== viewSeq || !current || current.run.table !== table) return;
    simTable.show(table, rows);
    $("#sims-count").textContent = rows.length === table.count
      ? plural(table.count, "SIM")
      : `${plural(rows.length, "SIM")} of ${plural(table.count, "SIM").replace(/ SIMs?$/, "")}`;
  } catch (error) {
    if (error instanceof EngineError) say(error.message, "problem");
    else throw error;
  }
}

let searchTimer = 0;
search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => void refreshView(), 150);
});
changedOnly.addEventListener("change", () => void refreshView());

// ---- what-if -------------------------------------------------------------------------------

const EDIT_FIELDS = [
  ["monthlyCharge", "Monthly charge"],
  ["includedMb", "Included MB"],
  ["overageRate", "Overage rate"],
  ["overageBlockMb", "Overage block MB"],
] as const;

function buildWhatIf(run: RunResult): void {
  const plans = run.catalogue.plans;
  const plansFile = inputs.plans.files?.[0]?.name ?? "";
  const editable = !/\.json$/i.test(plansFile);
  $("#whatif-note").hidden = editable;
  $("#whatif-note").textContent = editable ? "" : "Plan changes need the plans file as CSV; locks and the minimum saving work with any file.";
  $("#whatif-plans tbody").replaceChildren(
    ...plans.map((p) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = p.plan;
      tr.append(th);
      for (const [key, label] of EDIT_FIELDS) {
        const td = document.createElement("td");
        td.className = "num";
        const input = document.createElement("input");
        input.type = "text";
        input.inputMode = "decimal";
        input.value = p[key] ?? "";
        input.dataset.original = p[key] ?? "";
        input.dataset.plan = p.plan;
        input.dataset.key = key;
        input.disabled = !editable;
        input.setAttribute("aria-label", `${label} of ${p.plan}`);
        input.addEventListener("input", () => input.classList.toggle("edited", input.value.trim() !== input.dataset.original));
        td.append(input);
        tr.append(td);
      }
      return tr;
    }),
  );
  const types = [...new Set(plans.map((p) => p.planType).filter(Boolean))];
  $<HTMLInputElement>("#new-plan-type").value = types.length === 1 ? (types[0] ?? "") : "";
  $("#new-plan-comm-list").replaceChildren(
    ...run.catalogue.commPlans.map((c) => {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = c.name;
      box.checked = true;
      label.append(box, ` ${c.name}`);
      return label;
    }),
  );
  $("#new-plan-comm").hidden = run.catalogue.commPlans.length === 0 || !inputs.eligibility.files?.length;
  $("#add-plan").hidden = !editable;
}

function scenarioFromForm(): Scenario {
  const edits = new Map<string, PlanEdit>();
  for (const input of document.querySelectorAll<HTMLInputElement>("#whatif-plans input")) {
    if (input.value.trim() === input.dataset.original) continue;
    const plan = input.dataset.plan!;
    const edit = edits.get(plan) ?? { plan };
    edit[input.dataset.key as (typeof EDIT_FIELDS)[number][0]] = input.value.trim();
    edits.set(plan, edit);
  }
  const added: NewPlan[] = [];
  const value = (id: string) => $<HTMLInputElement>(id).value.trim();
  if (value("#new-plan-id") !== "") {
    added.push({
      plan: value("#new-plan-id"),
      name: value("#new-plan-name"),
      monthlyCharge: value("#new-plan-charge"),
      includedMb: value("#new-plan-included"),
      overageRate: value("#new-plan-rate"),
      overageBlockMb: value("#new-plan-block"),
      smsRate: value("#new-plan-sms"),
      planType: value("#new-plan-type"),
      commPlans: [...document.querySelectorAll<HTMLInputElement>("#new-plan-comm-list input:checked")].map((b) => b.value),
    });
  }
  return { edits: [...edits.values()], added };
}

function describe(scenario: Scenario): string[] {
  const out = scenario.edits.map((e) => {
    const parts = EDIT_FIELDS.filter(([k]) => e[k] !== undefined).map(([k, label]) => `${label.toLowerCase()} ${e[k] || "none"}`);
    return `${e.plan} ${parts.join(", ")}`;
  });
  for (const p of scenario.added) out.push(`new plan ${p.plan} at ${p.monthlyCharge} with ${p.includedMb} MB`);
  return out;
}

$("#reset-whatif").addEventListener("click", () => {
  if (baseline) buildWhatIf(baseline);
  for (const id of ["#new-plan-id", "#new-plan-name", "#new-plan-charge", "#new-plan-included", "#new-plan-rate", "#lock-iccids", "#min-saving"]) {
    $<HTMLInputElement>(id).value = "";
  }
});

// ---- downloads -----------------------------------------------------------------------------

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

$("#download-report").addEventListener("click", async () => {
  say("Writing the Excel report…", "busy");
  try {
    const bytes = await engine.xlsx();
    const type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    download(new Blob([new Uint8Array(bytes)], { type }), "simopt-report.xlsx");
    say("Excel report downloaded.", "done");
  } catch (error) {
    say((error as Error).message, "problem");
  }
});

$("#download-changes").addEventListener("click", async () => {
  try {
    const text = await engine.changes();
    download(new Blob([text], { type: "text/csv" }), "simopt-changes.csv");
    say("Changes downloaded.", "done");
  } catch (error) {
    say((error as Error).message, "problem");
  }
});

// ---- defaults ------------------------------------------------------------------------------

$<HTMLInputElement>("#time-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
if (typeof intl.supportedValuesOf === "function") {
  const zones = new Set(["UTC", ...intl.supportedValuesOf("timeZone")]);
  $("#time-zones").replaceChildren(...[...zones].map((zone) => Object.assign(document.createElement("option"), { value: zone })));
}
const handoff = new HandoffPanel({
  engine,
  showDiagnostics,
  pageSettings: () => ({
    timeZone: $<HTMLInputElement>("#time-zone").value.trim(),
    periodEnd: $<HTMLInputElement>("#period-end").value.trim(),
    chargeType: $<HTMLSelectElement>("#charge-type").value,
    projection: $<HTMLInputElement>("#projection").checked,
    proration: $<HTMLInputElement>("#proration").checked,
    marginPct: $<HTMLInputElement>("#margin").value.trim(),
  }),
  accountName: () => $<HTMLInputElement>("#account-name").value.trim(),
  download,
});
document.documentElement.dataset.ready = "true";
