// The hand-off to the simopt service: with its URL and a tenant's token, choose or create an
// account, upload the exact files of the run shown (a what-if's edited files when that is the
// run shown), start a session, follow it, and compare its figures with the preview — both the
// preview as run, and this page's engine re-run on the session's own moment and settings
// (the service reads usage "as of now" with the account's settings, so only that run can agree
// with it to the cent). The token lives in this object (or sessionStorage when the user asks)
// and only ever goes into an Authorization header.

import type { Engine } from "./engine.js";
import { EngineError } from "./engine.js";
import { formatCurrency, formatLocal, formatPercent, groupThousands, plural } from "./format.js";
import type { CostFilesInput, CostSettingsInput, Diagnostic, OptimizeResult, BillingPeriodInfo } from "./protocol.js";
import {
  type Account, type Figures, type PageSettings, type Session, ServiceClient, ServiceError, type UploadKind,
  figureDifferences, figuresOfSession, finished, newAccountFrom, periodEndDayHour, sessionSettings, settingsDifferences,
} from "./service.js";

/** The run the page shows (main.ts's `Run`, the parts the hand-off needs). */
export interface SentRun {
  run: { result: OptimizeResult; period: BillingPeriodInfo; table: { count: number } };
  files: CostFilesInput;
  options: { lockIccids?: string[] | null; minSaving?: string | null };
  settings: CostSettingsInput;
  scenario: string;
}

export interface HandoffDeps {
  engine: Engine;
  showDiagnostics: (table: HTMLTableElement, diagnostics: Diagnostic[]) => void;
  pageSettings: () => PageSettings;
  accountName: () => string;
  download: (blob: Blob, name: string) => void;
}

const TOKEN_KEY = "simopt.service-token";
const POLL_MS = 1000;

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
};

const KINDS: UploadKind[] = ["plans", "eligibility", "sims"];

function figuresOfPreview(result: OptimizeResult, sims: number): Figures {
  return {
    currentCost: result.currentCost, optimizedCost: result.optimizedCost, savings: result.savings,
    lowerBound: result.lowerBound, changes: result.changes, sims,
  };
}

/** A run's file as the upload's body: its exact text or bytes. */
function bodyOf(file: NonNullable<CostFilesInput["eligibility"]>): string | Uint8Array {
  if (typeof file.text === "string") return file.text;
  return file.bytes instanceof Uint8Array ? file.bytes : new Uint8Array(file.bytes!);
}

export class HandoffPanel {
  private current: SentRun | null = null;
  private accounts: Account[] = [];
  private client: ServiceClient | null = null;
  private following = 0;
  private readonly url = $<HTMLInputElement>("#service-url");
  private readonly token = $<HTMLInputElement>("#service-token");
  private readonly remember = $<HTMLInputElement>("#remember-token");
  private readonly choice = $<HTMLSelectElement>("#account-choice");
  private readonly send = $<HTMLButtonElement>("#send-run");

  constructor(private readonly deps: HandoffDeps) {
    this.url.value = /^https?:$/.test(location.protocol) ? location.origin : "";
    const kept = sessionStorage.getItem(TOKEN_KEY);
    if (kept) {
      this.token.value = kept;
      this.remember.checked = true;
    }
    this.remember.addEventListener("change", () => this.keepToken());
    this.token.addEventListener("input", () => this.keepToken());
    $("#connect").addEventListener("click", () => void this.connect());
    this.choice.addEventListener("change", () => this.showAccountNotes());
    for (const id of ["#new-account-tz", "#new-account-day"]) $(id).addEventListener("input", () => this.showAccountNotes());
    this.send.addEventListener("click", () => void this.handOff());
    this.send.disabled = true;
    this.describeRun();
  }

  /** A new run is shown: it is what "Upload and start session" sends from now on. */
  runChanged(run: SentRun): void {
    this.current = run;
    this.describeRun();
    if (!$("#account-step").hidden) this.showAccountNotes();
  }

  private keepToken(): void {
    if (this.remember.checked && this.token.value) sessionStorage.setItem(TOKEN_KEY, this.token.value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  private say(text: string, kind: "" | "busy" | "done" | "problem" = ""): void {
    const status = $("#handoff-status");
    status.textContent = text;
    status.className = `status ${kind}`.trim();
  }

  /** Which run is sent, and what of it the service cannot take. */
  private unsendable(): string | null {
    if (!this.current) return "Optimize first: the hand-off sends the files of the run shown.";
    const json = Object.values(this.current.files).filter((f) => f && /\.json$/i.test(f.name)).map((f) => f!.name);
    if (json.length > 0) {
      return `The service takes CSV files; ${json.join(", ")} ${json.length === 1 ? "is" : "are"} JSON. Choose the CSV (or .xlsx) export instead.`;
    }
    return null;
  }

  private describeRun(): void {
    const line = $("#handoff-run");
    const problem = this.unsendable();
    this.send.disabled = problem !== null || this.client === null;
    if (!this.current) {
      line.textContent = problem ?? "";
      return;
    }
    const { files, options, scenario } = this.current;
    const names = [files.plans, files.eligibility, files.sims].filter(Boolean).map((f) => f!.name);
    const what = scenario ? `the what-if run shown above (${scenario})` : "the run shown above (the files as they are)";
    let text = `Sends ${what}: ${names.join(", ")}.`;
    if (options.lockIccids?.length || options.minSaving) {
      text += " Its locks and minimum saving are not sent: the service has no such settings and its session optimizes every SIM.";
    }
    if (!files.eligibility) text += " Without an eligibility file every plan is allowed for every SIM.";
    if (problem) text += ` ${problem}`;
    line.textContent = text;
    line.classList.toggle("problem", problem !== null);
  }

  private showError(error: unknown): void {
    const box = $("#handoff-errors");
    const table = $<HTMLTableElement>("#handoff-errors-table");
    const wrap = table.closest(".table-wrap")!;
    let heading = "The service did not accept this";
    let summary: string;
    let diagnostics: Diagnostic[] = [];
    if (error instanceof ServiceError) {
      summary = error.message;
      if (error.status === 401) heading = "The token was refused";
      else if (error.status === 422) {
        heading = "The service found errors in the files";
        diagnostics = error.diagnostics.filter((d) => d.severity === "error") as Diagnostic[];
        summary += " The service names the files plans.csv, eligibility.csv and sims.csv, whatever they are called here.";
      } else if (error.fields.length > 0) {
        heading = "The account's settings were refused";
        summary += ` ${error.fields.map((f) => `${f.field}: ${f.message} (${f.hint})`).join("; ")}`;
      } else if (error.status === 0) heading = "The service could not be reached";
    } else if (error instanceof EngineError) {
      heading = "This page could not re-run the preview at the service's moment";
      summary = error.message;
      diagnostics = (error.info.diagnostics ?? []).filter((d) => d.severity === "error");
    } else {
      summary = (error as Error).message;
    }
    $("#handoff-errors-heading").textContent = heading;
    $("#handoff-errors-summary").textContent = summary;
    this.deps.showDiagnostics(table, diagnostics);
    wrap.toggleAttribute("hidden", diagnostics.length === 0);
    box.hidden = false;
    this.say(heading, "problem");
    $("#handoff-errors-heading").focus();
  }

  private clearError(): void {
    $("#handoff-errors").hidden = true;
  }

  private newClient(): ServiceClient | null {
    const base = this.url.value.trim();
    const token = this.token.value.trim();
    if (!/^https?:\/\/[^/]/.test(base)) {
      this.showError(new Error("Give the service's URL, e.g. https://simopt.example.com (the page's own address when the service serves it)."));
      this.url.focus();
      return null;
    }
    if (!token) {
      this.showError(new Error("Give your tenant's token: the service answers nothing without it."));
      this.token.focus();
      return null;
    }
    return new ServiceClient(base, token);
  }

  private async connect(): Promise<void> {
    this.clearError();
    const client = this.newClient();
    if (!client) return;
    this.say(`Connecting to ${client.base}…`, "busy");
    try {
      this.accounts = await client.accounts();
    } catch (error) {
      this.client = null;
      this.describeRun();
      this.showError(error);
      return;
    }
    this.client = client;
    this.fillAccounts(this.accounts[0]?.id ?? "");
    const page = this.deps.pageSettings();
    const { day, hour } = periodEndDayHour(page.periodEnd);
    $<HTMLInputElement>("#new-account-name").value = this.deps.accountName() || "Fleet preview";
    $<HTMLInputElement>("#new-account-tz").value = page.timeZone || "UTC";
    $<HTMLInputElement>("#new-account-day").value = String(day);
    $("#new-account-hour").textContent = String(hour);
    $("#account-step").hidden = false;
    this.describeRun();
    this.showAccountNotes();
    this.say(`Connected: ${plural(this.accounts.length, "account")}.`, "done");
    this.choice.focus();
  }

  private fillAccounts(selected: string): void {
    const options = this.accounts.map((a) =>
      Object.assign(document.createElement("option"), {
        value: a.id,
        textContent: `${a.name} (${a.time_zone}, period ends on day ${a.period_end_day})`,
      }),
    );
    options.push(Object.assign(document.createElement("option"), { value: "", textContent: "New account…" }));
    this.choice.replaceChildren(...options);
    this.choice.value = selected;
  }

  /** The new account's settings: the page's, with the name, zone and day given here. */
  private newAccountSettings() {
    const page = this.deps.pageSettings();
    const settings = newAccountFrom(page, $<HTMLInputElement>("#new-account-name").value.trim());
    settings.time_zone = $<HTMLInputElement>("#new-account-tz").value.trim() || settings.time_zone;
    const day = Number($<HTMLInputElement>("#new-account-day").value);
    if (Number.isInteger(day)) settings.period_end_day = day;
    return settings;
  }

  private showAccountNotes(): void {
    const chosen = this.accounts.find((a) => a.id === this.choice.value) ?? null;
    for (const field of document.querySelectorAll<HTMLElement>("[data-new-account]")) field.hidden = chosen !== null;
    const page = this.deps.pageSettings();
    const account: Account = chosen ?? {
      id: "", ...this.newAccountSettings(), start_hour: 0, currency_decimals: 2, current_period_end: null,
    };
    const differences = settingsDifferences(account, page);
    const notes: string[] = [];
    const period = this.current?.run.period;
    const moment = period
      ? `This preview read the usage as of ${formatLocal(period.asOf)} for the period ending ${formatLocal(period.end)} (${period.timeZone}).`
      : "";
    $("#account-notes-lede").textContent = differences.length > 0
      ? `The account's settings differ from this page's, so the service's figures will differ from the preview's: ${moment}`
      : `The account bills like this page. The service reads the usage as of the moment its session starts (its clock) for the billing period running then${account.current_period_end ? `, ending ${formatLocal(account.current_period_end)} (${account.time_zone})` : ""}. ${moment}`;
    notes.push(...differences);
    notes.push("To compare like with like, this page re-runs its preview on the session's moment and the account's settings once the session starts.");
    $("#account-differences").replaceChildren(...notes.map((n) => Object.assign(document.createElement("li"), { textContent: n })));
    $("#account-notes").hidden = false;
  }

  private async handOff(): Promise<void> {
    this.clearError();
    const problem = this.unsendable();
    if (problem) {
      this.showError(new Error(problem));
      return;
    }
    const client = this.newClient();
    if (!client || !this.current) return;
    const sent = this.current;
    this.send.disabled = true;
    try {
      let account = this.accounts.find((a) => a.id === this.choice.value) ?? null;
      if (!account) {
        this.say("Creating the account…", "busy");
        account = await client.createAccount(this.newAccountSettings());
        this.accounts.push(account);
        this.fillAccounts(account.id);
        this.showAccountNotes();
      }
      if (!sent.files.eligibility && (await client.uploadedKinds(account.id)).has("eligibility")) {
        // This run allows every plan: the account's earlier eligibility file must not apply.
        this.say(`Removing ${account.name}'s eligibility file: this run has none (every plan allowed)…`, "busy");
        await client.removeEligibility(account.id);
      }
      const files = KINDS.map((kind) => [kind, sent.files[kind]] as const).filter(([, f]) => f);
      for (const [i, [kind, file]] of files.entries()) {
        this.say(`Uploading ${file!.name} as the account's ${kind} file (${i + 1} of ${files.length})…`, "busy");
        await client.upload(account.id, kind, bodyOf(file!));
      }
      this.say("Starting the session…", "busy");
      const { session, running } = await client.start(account.id);
      await this.follow(client, account, session, running, sent);
    } catch (error) {
      this.showError(error);
    } finally {
      this.send.disabled = this.unsendable() !== null;
    }
  }

  private showProgress(session: Session): void {
    const step = $("#session-step");
    step.hidden = false;
    step.dataset.session = session.id;
    step.dataset.state = session.state;
    $<HTMLProgressElement>("#session-progress").value = session.state === "completed" ? 100 : session.progress.percent;
    $("#session-state").textContent = session.state === "failed" ? `failed: ${session.reason ?? "no reason given"}` : session.state;
    $("#session-phase").textContent = session.progress.phase;
    $("#session-percent").textContent = `${Math.round(session.state === "completed" ? 100 : session.progress.percent)} %`;
    $("#session-gap").textContent = session.progress.gap === null ? "not yet known" : formatPercent(session.progress.gap);
  }

  private async follow(client: ServiceClient, account: Account, first: Session, running: boolean, sent: SentRun): Promise<void> {
    const token = ++this.following;
    const reportButton = $<HTMLButtonElement>("#download-service-report");
    reportButton.disabled = true;
    this.showProgress(first);
    const period = sent.run.period;
    const moment =
      `The service reads the usage as of ${first.as_of} (when the session started, by its clock) for the period ending ` +
      `${formatLocal(first.period_end)} (${account.time_zone}); this preview read it as of ${formatLocal(period.asOf)} for the period ending ` +
      `${formatLocal(period.end)} (${period.timeZone}). The middle column is this page's engine on the session's moment and the account's settings.`;
    $("#session-moment").textContent = running
      ? `A session of this account's billing period was already running (started ${first.created_at}): following it. ` +
        `It runs on the files that were current when it started, which may not be the ones just sent. ${moment}`
      : moment;
    const preview = figuresOfPreview(sent.run.result, sent.run.table.count);
    let atMoment: Figures | null = null;
    let service: Figures | null = null;
    let atMomentError: unknown = null;
    const render = () => this.renderComparison(preview, atMoment, service, sent, first, running);
    render();
    this.say(running ? "A session was already running: following it." : "Session started: following it.", "busy");
    const sameMoment = this.deps.engine
      .summary(sent.files, sessionSettings(account, first) as unknown as CostSettingsInput)
      .then((r) => {
        atMoment = figuresOfPreview(r.result, sent.run.table.count);
        if (token === this.following) render();
      })
      .catch((error) => (atMomentError = error));

    let session = first;
    let misses = 0;
    while (!finished(session)) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (token !== this.following) return;
      try {
        session = await client.session(first.id);
        misses = 0;
      } catch (error) {
        if (error instanceof ServiceError && error.status !== 0) throw error;
        if (++misses >= 10) throw error;
        this.say(`The service did not answer (${(error as Error).message}); trying again…`, "problem");
        continue;
      }
      this.showProgress(session);
      this.say(`Session ${session.state}: ${session.progress.phase}.`, "busy");
    }
    await sameMoment;
    if (token !== this.following) return;
    if (session.state === "failed") {
      this.showError(new Error(`The service's session failed: ${session.reason ?? "no reason given"}.`));
      return;
    }
    service = figuresOfSession(session);
    render();
    if (atMomentError) this.showError(atMomentError);
    const report = session.report;
    if (report) {
      reportButton.disabled = false;
      reportButton.onclick = async () => {
        this.say("Downloading the service's report…", "busy");
        try {
          const { bytes, name } = await client.report(report);
          this.deps.download(new Blob([new Uint8Array(bytes)], { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }), name);
          this.say(`The service's report downloaded (${name}).`, "done");
        } catch (error) {
          this.showError(error);
        }
      };
    }
    this.say(`Session completed: ${service ? `savings ${formatCurrency(service.savings)}` : "no summary"}.`, "done");
  }

  private renderComparison(preview: Figures, atMoment: Figures | null, service: Figures | null, sent: SentRun, session: Session, running: boolean): void {
    const money = (f: Figures | null, key: "currentCost" | "optimizedCost" | "savings" | "lowerBound") => {
      const v = f?.[key];
      return { text: v == null ? (f ? "—" : "…") : formatCurrency(v), exact: v ?? "" };
    };
    const count = (f: Figures | null, key: "changes" | "sims") => ({ text: f ? groupThousands(String(f[key])) : "…", exact: f ? String(f[key]) : "" });
    const rows: [string, string, (f: Figures | null) => { text: string; exact: string }][] = [
      ["Current cost", "current", (f) => money(f, "currentCost")],
      ["Optimized cost", "optimized", (f) => money(f, "optimizedCost")],
      ["Savings", "savings", (f) => money(f, "savings")],
      ["Lower bound", "bound", (f) => money(f, "lowerBound")],
      ["SIMs changing plan", "changes", (f) => count(f, "changes")],
      ["SIMs", "sims", (f) => count(f, "sims")],
    ];
    $("#session-compare tbody").replaceChildren(
      ...rows.map(([label, key, value]) => {
        const tr = document.createElement("tr");
        tr.dataset.row = key;
        const th = Object.assign(document.createElement("th"), { scope: "row", textContent: label });
        tr.append(th);
        for (const [column, f] of [["preview", preview], ["moment", atMoment], ["service", service]] as const) {
          const { text, exact } = value(f);
          const td = Object.assign(document.createElement("td"), { className: "num", textContent: text });
          td.dataset.column = column;
          td.dataset.exact = exact;
          td.dataset.label = column === "preview" ? "This preview" : column === "moment" ? "At the service's moment" : "Service session";
          tr.append(td);
        }
        return tr;
      }),
    );
    const verdict = $("#session-verdict");
    verdict.className = "verdict";
    if (!service || !atMoment) {
      verdict.textContent = service ? "Re-running the preview at the session's moment…" : "Waiting for the session to finish…";
      delete verdict.dataset.agree; // no verdict yet (an earlier session's must not stand for this one's)
      return;
    }
    const differences = figureDifferences(atMoment, service);
    const samePreview = figureDifferences(preview, service).length === 0;
    const moved = sent.settings.asOf !== session.as_of;
    if (differences.length === 0) {
      verdict.textContent =
        `The service's result equals this page's engine on the same files, moment and settings: optimized cost ${formatCurrency(service.optimizedCost)}.` +
        (samePreview ? " It also equals the preview as run." : moved
          ? " The preview as run differs because it read the usage at another moment or with other settings (see above)."
          : " The preview as run differs because its settings are not the account's (see above).");
      verdict.classList.add("good");
    } else {
      verdict.textContent =
        `The service's result differs from this page's engine at the same moment: ${differences.join("; ")}.` +
        (running ? " The session was already running on earlier files." : " Please report this: the same files and settings should give the same bill.");
      verdict.classList.add("problem");
    }
    verdict.dataset.agree = String(differences.length === 0);
  }
}
