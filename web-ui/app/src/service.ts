// The simopt service's API as the hand-off uses it (edge-worker/: accounts, uploads, sessions,
// reports), and the pure rules of the hand-off: which account settings differ from the page's,
// the core settings a session runs with, and whether a session's figures equal the preview's.
// No DOM here, so Node's unit tests cover it. The token is only ever put in the Authorization
// header: never in a URL, a message or the console.

/** An account as `GET /api/accounts` answers it. */
export interface Account {
  id: string;
  name: string;
  time_zone: string;
  period_end_day: number;
  period_end_hour: number;
  start_hour: number;
  proration: boolean;
  charge_type: string;
  projection: boolean;
  margin_pct: string;
  currency_decimals: number;
  current_period_end: string | null;
}

/** The settings a new account is made with (`POST /api/accounts`). */
export interface NewAccount {
  name: string;
  time_zone: string;
  period_end_day: number;
  period_end_hour: number;
  proration: boolean;
  charge_type: string;
  projection: boolean;
  margin_pct: string;
}

/** `SessionView` (edge-worker/src/session.rs). */
export interface Session {
  id: string;
  account_id: string;
  period_end: string;
  as_of: string;
  state: "created" | "optimizing" | "reporting" | "notifying" | "completed" | "failed";
  reason: string | null;
  progress: { phase: string; percent: number; best_cost: string | null; lower_bound: string | null; gap: number | null };
  summary: {
    current_cost: string; optimized_cost: string; savings: string; lower_bound: string | null; gap: number | null;
    changes: number; sims: number;
  } | null;
  report: string | null;
  created_at: string;
}

/** A diagnostic of the service (the core's shape). */
export interface ServiceDiagnostic {
  severity: string;
  code: string;
  file: string;
  row?: number;
  column?: string;
  message: string;
  hint: string;
}

/** A failed request: the HTTP status and what the service said. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly diagnostics: ServiceDiagnostic[] = [],
    readonly fields: { field: string; message: string; hint: string }[] = [],
    readonly session: Session | null = null,
  ) {
    super(message);
    this.name = "ServiceError";
  }
}

export type UploadKind = "plans" | "eligibility" | "sims";

/** The page's settings, as the hand-off compares them with an account's. */
export interface PageSettings {
  timeZone: string;
  /** Local `YYYY-MM-DDTHH:MM`, or "" for the end of the month. */
  periodEnd: string;
  chargeType: string;
  projection: boolean;
  proration: boolean;
  marginPct: string;
}

/** What the service says for a status without a useful body, and what to do. */
export function explainStatus(status: number, base: string): string {
  if (status === 401) return "The service refused the token (401). Check it: a tenant's token comes from POST /api/admin/tenants.";
  if (status === 404) return `${base} answered 404: is this the simopt service's address, and the account yours?`;
  return `The service answered ${status}.`;
}

export class ServiceClient {
  readonly base: string;

  constructor(base: string, private readonly token: string) {
    this.base = base.replace(/\/+$/, "");
  }

  private async call(method: string, path: string, body?: { json?: unknown; csv?: string | Uint8Array }): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: BodyInit | undefined;
    if (body?.json !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body?.csv !== undefined) {
      headers["content-type"] = "text/csv";
      payload = body.csv as BodyInit;
    }
    try {
      return await fetch(`${this.base}${path}`, { method, headers, body: payload, cache: "no-store" });
    } catch (error) {
      throw new ServiceError(
        0, "network",
        `Could not reach a simopt service at ${this.base} (${(error as Error).message}). Check the address; ` +
          "a service on another origin than this page must allow it (CORS).",
      );
    }
  }

  private async json<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = null;
    }
    if (response.ok && body) return body as T;
    if (!body) {
      throw new ServiceError(response.status, "not-json",
        response.ok ? `${this.base} did not answer like a simopt service (not JSON).` : explainStatus(response.status, this.base));
    }
    const message = typeof body.message === "string" ? body.message : explainStatus(response.status, this.base);
    throw new ServiceError(
      response.status,
      typeof body.error === "string" ? body.error : "error",
      response.status === 401 ? `${explainStatus(401, this.base)} (${message})` : message,
      Array.isArray(body.items) ? (body.items as ServiceDiagnostic[]) : [],
      Array.isArray(body.fields) ? (body.fields as ServiceError["fields"]) : [],
      (body.session as Session | undefined) ?? null,
    );
  }

  async accounts(): Promise<Account[]> {
    const body = await this.json<{ accounts: Account[] }>(await this.call("GET", "/api/accounts"));
    return body.accounts;
  }

  async createAccount(settings: NewAccount): Promise<Account> {
    return this.json<Account>(await this.call("POST", "/api/accounts", { json: settings }));
  }

  async account(id: string): Promise<Account> {
    return this.json<Account>(await this.call("GET", `/api/accounts/${encodeURIComponent(id)}`));
  }

  /** The kinds of file the account holds now (its current, not removed, files). */
  async uploadedKinds(id: string): Promise<Set<string>> {
    const body = await this.json<{ uploads: { kind: string; current?: boolean; removed?: boolean }[] }>(
      await this.call("GET", `/api/accounts/${encodeURIComponent(id)}/uploads`),
    );
    return new Set(body.uploads.filter((u) => u.current !== false && !u.removed).map((u) => u.kind));
  }

  /** Takes the account's eligibility file away: every plan allowed from now on. */
  async removeEligibility(id: string): Promise<void> {
    await this.json(await this.call("DELETE", `/api/accounts/${encodeURIComponent(id)}/eligibility`));
  }

  async upload(id: string, kind: UploadKind, csv: string | Uint8Array): Promise<void> {
    await this.json(await this.call("PUT", `/api/accounts/${encodeURIComponent(id)}/${kind}`, { csv }));
  }

  /** Starts a session: the new one (`running: false`), or the one already running (409). */
  async start(id: string): Promise<{ session: Session; running: boolean }> {
    const response = await this.call("POST", `/api/accounts/${encodeURIComponent(id)}/sessions`);
    try {
      return { session: await this.json<Session>(response), running: false };
    } catch (error) {
      if (error instanceof ServiceError && error.status === 409 && error.code === "already-running" && error.session) {
        return { session: error.session, running: true };
      }
      throw error;
    }
  }

  async session(id: string): Promise<Session> {
    return this.json<Session>(await this.call("GET", `/api/sessions/${encodeURIComponent(id)}`));
  }

  /** The session's Excel report and the file name the service gives it. */
  async report(path: string): Promise<{ bytes: Uint8Array; name: string }> {
    if (!path.startsWith("/api/")) throw new ServiceError(0, "bad-path", `unexpected report path ${path}`);
    const response = await this.call("GET", path);
    if (!response.ok) await this.json(response); // throws with the service's message
    const disposition = response.headers.get("content-disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "simopt-service-report.xlsx";
    return { bytes: new Uint8Array(await response.arrayBuffer()), name };
  }
}

/** The day and hour of a local period end (`YYYY-MM-DDTHH:MM`); "" is the end of the month. */
export function periodEndDayHour(periodEnd: string): { day: number; hour: number } {
  const m = /^\d{4}-\d{2}-(\d{2})T(\d{2})/.exec(periodEnd);
  if (!m) return { day: 1, hour: 0 };
  return { day: Number(m[1]), hour: Number(m[2]) };
}

/** Settings of a new account that bill like the page's. */
export function newAccountFrom(page: PageSettings, name: string): NewAccount {
  const { day, hour } = periodEndDayHour(page.periodEnd);
  return {
    name,
    time_zone: page.timeZone || "UTC",
    period_end_day: day,
    period_end_hour: hour,
    proration: page.proration,
    charge_type: page.chargeType,
    projection: page.projection,
    margin_pct: page.marginPct || "1",
  };
}

const sameDecimal = (a: string, b: string): boolean => {
  const n = (t: string) => t.trim().replace(/^(-?)0+(?=\d)/, "$1").replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  return n(a) === n(b);
};

/** Where an account's settings differ from the page's, in words (empty: none). */
export function settingsDifferences(account: Account, page: PageSettings): string[] {
  const out: string[] = [];
  const { day, hour } = periodEndDayHour(page.periodEnd);
  const zone = page.timeZone || "UTC";
  if (account.time_zone !== zone) out.push(`time zone: the account's is ${account.time_zone}, this page's ${zone}`);
  if (account.period_end_day !== day || account.period_end_hour !== hour) {
    const pageEnd = page.periodEnd ? `day ${day} at ${hour}:00 (${page.periodEnd})` : "the end of the month (day 1 at 0:00)";
    out.push(`billing period end: the account's is day ${account.period_end_day} at ${account.period_end_hour}:00, this page's ${pageEnd}`);
  }
  if (account.charge_type !== page.chargeType) out.push(`charges billed: the account's ${account.charge_type}, this page's ${page.chargeType}`);
  if (account.projection !== page.projection) out.push(`projection: the account's is ${account.projection ? "on" : "off"}, this page's ${page.projection ? "on" : "off"}`);
  if (account.proration !== page.proration) out.push(`proration: the account's is ${account.proration ? "on" : "off"}, this page's ${page.proration ? "on" : "off"}`);
  if (!sameDecimal(account.margin_pct, page.marginPct || "1")) out.push(`projection margin: the account's is ${account.margin_pct} %, this page's ${page.marginPct || "1"} %`);
  if (account.currency_decimals !== 2) out.push(`currency decimals: the account's is ${account.currency_decimals}, this page's 2`);
  return out;
}

/** The core's settings a session of `account` ran with (as `core_input` in accounts.rs). */
export function sessionSettings(account: Account, session: Session): Record<string, string> {
  return {
    asOf: session.as_of,
    periodEnd: session.period_end,
    timeZone: account.time_zone,
    proration: account.proration ? "on" : "off",
    chargeType: account.charge_type,
    projection: account.projection ? "on" : "off",
    marginPct: account.margin_pct,
    currencyDecimals: String(account.currency_decimals),
    accountName: account.name,
  };
}

/** The figures compared between the preview and a session. */
export interface Figures {
  currentCost: string;
  optimizedCost: string;
  savings: string;
  lowerBound: string | null;
  changes: number;
  sims: number;
}

export function figuresOfSession(session: Session): Figures | null {
  const s = session.summary;
  if (!s) return null;
  return {
    currentCost: s.current_cost, optimizedCost: s.optimized_cost, savings: s.savings,
    lowerBound: s.lower_bound, changes: s.changes, sims: s.sims,
  };
}

/** The figures that differ between two results (empty: they agree exactly). */
export function figureDifferences(a: Figures, b: Figures): string[] {
  const out: string[] = [];
  const money = (label: string, x: string | null, y: string | null) => {
    if (x === null || y === null ? x !== y : !sameDecimal(x, y)) out.push(`${label} ${x ?? "—"} ≠ ${y ?? "—"}`);
  };
  money("current cost", a.currentCost, b.currentCost);
  money("optimized cost", a.optimizedCost, b.optimizedCost);
  money("savings", a.savings, b.savings);
  money("lower bound", a.lowerBound, b.lowerBound);
  if (a.changes !== b.changes) out.push(`SIMs changing plan ${a.changes} ≠ ${b.changes}`);
  if (a.sims !== b.sims) out.push(`SIMs ${a.sims} ≠ ${b.sims}`);
  return out;
}

/** Whether a session has finished (its report written, or failed). */
export const finished = (s: Session): boolean => s.state === "completed" || s.state === "failed";
