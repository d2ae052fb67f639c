// The bill preview page: reads the chosen files as bytes, hands them with the settings to the
// cost worker (the simopt core in WebAssembly), and shows the bill, its warnings, or the errors
// found in the input. Nothing is sent anywhere.
import { formatAmount, formatCurrency, formatLocal, formatMb, plural } from "./format.js";

const $ = (selector) => document.querySelector(selector);

const form = $("#cost-form");
const button = $("#compute");
const status = $("#status");
const results = $("#results");
const errors = $("#errors");
const timeZone = $("#time-zone");

let lastJson = null;

// ---- the cost worker -----------------------------------------------------------------------

const worker = new Worker(new URL("./cost-worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;

worker.addEventListener("message", ({ data }) => {
  const settle = pending.get(data.id);
  if (settle) {
    pending.delete(data.id);
    settle(data);
  }
});
worker.addEventListener("error", (event) => {
  event.preventDefault();
  for (const [id, settle] of pending) {
    pending.delete(id);
    settle({ ok: false, error: { name: "LoadError", message: "The billing engine could not be loaded." } });
  }
});

/** Sends `message` to the worker under a new id; resolves with the worker's answer to it. */
function request(message, transfer = []) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ id, ...message }, transfer);
  });
}

function cost(files, settings) {
  const transfer = Object.values(files)
    .filter((file) => file?.bytes)
    .map((file) => file.bytes.buffer);
  return request({ files, settings }, transfer);
}

/** The Excel report of the last bill, built by the worker: { ok, result: Uint8Array }. */
function excelReport() {
  return request({ report: "xlsx" });
}

// ---- reading the form ----------------------------------------------------------------------

async function readFile(input) {
  const file = input.files?.[0];
  if (!file) return null;
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** "Now" for the engine: RFC 3339 in UTC (the engine converts it to the account's zone). */
function now() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function settingsFromForm() {
  const value = (id) => $(id).value.trim();
  return {
    asOf: value("#as-of") || now(),
    periodEnd: value("#period-end") || null,
    timeZone: value("#time-zone") || null,
    chargeType: value("#charge-type"),
    marginPct: value("#margin") || null,
    projection: $("#projection").checked ? "on" : "off",
    proration: $("#proration").checked ? "on" : "off",
    accountName: value("#account-name") || null,
  };
}

// ---- showing results -----------------------------------------------------------------------

function cell(text, { numeric = false, header = false, title } = {}) {
  const element = document.createElement(header ? "th" : "td");
  if (header) element.scope = "row";
  if (numeric) element.className = "num";
  if (title) element.title = title;
  element.textContent = text;
  return element;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function usageCell(mb) {
  const td = cell(formatMb(mb), { numeric: true, title: `${mb} MB exactly` });
  td.dataset.exact = mb;
  return td;
}

function showBill(result) {
  $("#total").textContent = formatCurrency(result.total);
  $("#total").dataset.exact = result.total;
  $("#sim-count").textContent = plural(result.simCount, "SIM");
  const p = result.period;
  $("#period").textContent =
    `${formatLocal(p.start)} → ${formatLocal(p.end)} (${p.timeZone}, ${plural(p.days, "day")})`;
  $("#as-of-shown").textContent = formatLocal(p.asOf);
  $("#usage-basis").textContent = p.closed
    ? "Final: the period has ended"
    : $("#projection").checked
      ? "Projected to the period end"
      : "As reported (not projected)";

  const body = $("#plans-table tbody");
  body.replaceChildren(
    ...result.plans.map((line) => {
      const tr = row(
        cell(line.plan, { header: true }),
        cell(line.name),
        cell(String(line.simCount), { numeric: true }),
        usageCell(line.usageMb),
        cell(formatAmount(line.base), { numeric: true }),
        cell(formatAmount(line.overage), { numeric: true }),
        cell(formatAmount(line.sms), { numeric: true }),
        cell(formatAmount(line.total), { numeric: true }),
      );
      tr.dataset.plan = line.plan;
      const name = Object.assign(document.createElement("span"), { className: "plan-name", textContent: line.name });
      tr.cells[1].replaceChildren(name);
      if (line.pool) {
        const tag = Object.assign(document.createElement("span"), { className: "pool-tag", textContent: line.pool });
        tag.title = `Shares the allowance of pool ${line.pool}`;
        tr.cells[1].append(" ", tag);
      }
      if (line.simCount === 0) tr.classList.add("empty");
      return tr;
    }),
  );
  const t = result.totals;
  const totalRow = row(
    cell("Total", { header: true }),
    cell(""),
    cell(String(t.simCount), { numeric: true }),
    usageCell(t.usageMb),
    cell(formatAmount(t.base), { numeric: true }),
    cell(formatAmount(t.overage), { numeric: true }),
    cell(formatAmount(t.sms), { numeric: true }),
    cell(formatAmount(t.total), { numeric: true }),
  );
  totalRow.cells[0].colSpan = 2;
  totalRow.cells[1].remove();
  totalRow.classList.add("total-row");
  $("#plans-table tfoot").replaceChildren(totalRow);
  labelTable($("#plans-table"));

  showDiagnostics($("#warnings"), $("#warnings-table tbody"), result.warnings);
  const hidden = result.warningCount - result.warnings.length;
  $("#warnings-heading").textContent =
    plural(result.warningCount, "warning") + (hidden > 0 ? ` (first ${result.warnings.length} shown)` : "");

  lastJson = result.json;
  errors.hidden = true;
  results.hidden = false;
  $("#results-heading").focus();
}

/**
 * Gives each cell its column's name (`data-label`, shown when narrow screens stack the rows as
 * cards) and explicit table roles (stacking with CSS would otherwise hide them from assistive
 * technology).
 */
function labelTable(table) {
  const labels = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
  table.setAttribute("role", "table");
  for (const section of [table.tHead, ...table.tBodies, table.tFoot]) section?.setAttribute("role", "rowgroup");
  for (const tr of table.rows) {
    tr.setAttribute("role", "row");
    let column = 0;
    for (const cell of tr.cells) {
      const inHead = tr.parentElement === table.tHead;
      cell.setAttribute("role", inHead ? "columnheader" : cell.tagName === "TH" ? "rowheader" : "cell");
      if (!inHead) cell.dataset.label = labels[column] ?? "";
      column += cell.colSpan;
    }
  }
}

function showDiagnostics(section, body, diagnostics) {
  body.replaceChildren(
    ...diagnostics.map((d) =>
      row(
        cell(d.file),
        cell(d.row == null ? "—" : String(d.row), { numeric: true }),
        cell(d.column ?? "—"),
        cell(d.message),
        cell(d.hint),
      ),
    ),
  );
  labelTable(body.closest("table"));
  section.hidden = diagnostics.length === 0;
}

function showErrors(error) {
  const diagnostics = error.diagnostics ?? [];
  const found = diagnostics.filter((d) => d.severity === "error");
  if (error.name === "InputError" && found.length > 0) {
    const count = error.errorCount ?? found.length;
    $("#errors-heading").textContent = "The files could not be billed";
    $("#errors-summary").textContent =
      `${plural(count, "error")} found${count > found.length ? ` (first ${found.length} shown)` : ""}. ` +
      `Nothing was computed: fix ${count === 1 ? "it" : "them"} in your files and compute again.`;
    showDiagnostics(errors, $("#errors-table tbody"), found);
  } else {
    $("#errors-heading").textContent = "Something went wrong";
    $("#errors-summary").textContent = error.message;
    $("#errors-table tbody").replaceChildren();
  }
  lastJson = null;
  results.hidden = true;
  errors.hidden = false;
  $("#errors-heading").focus();
}

// ---- events --------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const missing = [["#sims-file", "SIMs"], ["#plans-file", "plans"]]
    .filter(([id]) => !$(id).files?.length)
    .map(([, what]) => what);
  if (missing.length > 0) {
    status.textContent = `Choose the ${missing.join(" and ")} file first.`;
    status.className = "status problem";
    $(missing[0] === "SIMs" ? "#sims-file" : "#plans-file").focus();
    return;
  }
  button.disabled = true;
  status.className = "status busy";
  status.textContent = "Computing…";
  try {
    const [sims, plans, eligibility] = await Promise.all(
      ["#sims-file", "#plans-file", "#eligibility-file"].map((id) => readFile($(id))),
    );
    const answer = await cost({ sims, plans, eligibility }, settingsFromForm());
    if (answer.ok) {
      showBill(answer.result);
      status.className = "status done";
      status.textContent = `Computed the bill of ${plural(answer.result.simCount, "SIM")}.`;
    } else {
      showErrors(answer.error);
      status.className = "status problem";
      status.textContent = answer.error.name === "InputError"
        ? "The files have errors: see below."
        : answer.error.message;
    }
  } catch (error) {
    showErrors({ name: "Error", message: String(error?.message ?? error) });
    status.className = "status problem";
    status.textContent = "Something went wrong.";
  } finally {
    button.disabled = false;
  }
});

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

$("#download-json").addEventListener("click", () => {
  if (!lastJson) return;
  download(new Blob([lastJson], { type: "application/json" }), "simopt-cost.json");
});

$("#download-xlsx").addEventListener("click", async () => {
  if (!lastJson) return;
  const answer = await excelReport();
  if (answer.ok) {
    const type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    download(new Blob([answer.result], { type }), "simopt-cost.xlsx");
  } else {
    status.className = "status problem";
    status.textContent = answer.error.message;
  }
});

// ---- defaults ------------------------------------------------------------------------------

timeZone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
if (typeof Intl.supportedValuesOf === "function") {
  const zones = new Set(["UTC", ...Intl.supportedValuesOf("timeZone")]);
  $("#time-zones").replaceChildren(
    ...[...zones].map((zone) => Object.assign(document.createElement("option"), { value: zone })),
  );
}
document.documentElement.dataset.ready = "true";
