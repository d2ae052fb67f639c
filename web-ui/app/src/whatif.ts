// What-if scenarios as edits of the input files: a plan's price, allowance or overage changed,
// a hypothetical plan added (and allowed for the communication plans chosen). The edited files
// go to the engine like any other, so it validates them and its errors name the edited file's
// row and column.

import { parseCsv, toCsv } from "./csv.js";

/** New terms for an existing plan; a field left out keeps the file's value. */
export interface PlanEdit {
  plan: string;
  monthlyCharge?: string;
  includedMb?: string;
  overageRate?: string;
  overageBlockMb?: string;
}

/** A plan that is not in the file. */
export interface NewPlan {
  plan: string;
  name: string;
  monthlyCharge: string;
  includedMb: string;
  /** Empty: no overage (unlimited or hard-capped). */
  overageRate: string;
  overageBlockMb: string;
  planType: string;
  smsRate: string;
  /** The communication plans whose SIMs may move to it (used when there is an eligibility file). */
  commPlans: string[];
}

export interface Scenario {
  edits: PlanEdit[];
  added: NewPlan[];
}

/** A scenario the files cannot take, in words for the page. */
export class WhatIfError extends Error {
  override name = "WhatIfError";
}

const EDITED: Record<keyof Omit<PlanEdit, "plan">, string> = {
  monthlyCharge: "monthly_charge",
  includedMb: "included_mb",
  overageRate: "overage_rate",
  overageBlockMb: "overage_block_mb",
};

/** Whether the scenario changes anything. */
export function isEmpty(scenario: Scenario): boolean {
  return scenario.added.length === 0 && scenario.edits.every((e) => Object.keys(e).length === 1);
}

/** The plans CSV with the scenario applied. */
export function editPlans(plansCsv: string, scenario: Scenario): string {
  const rows = parseCsv(plansCsv).filter((row) => row.some((field) => field.trim() !== ""));
  if (rows.length === 0) throw new WhatIfError("The plans file is empty.");
  const header = rows[0].map((name) => name.trim().toLowerCase());
  const column = (name: string): number => {
    let index = header.indexOf(name);
    if (index < 0) {
      header.push(name);
      rows[0].push(name);
      for (const row of rows.slice(1)) row.push("");
      index = header.length - 1;
    }
    return index;
  };
  const id = header.indexOf("plan_id");
  if (id < 0) throw new WhatIfError("The plans file has no plan_id column.");
  const width = header.length;
  for (const row of rows) while (row.length < width) row.push("");
  const byCode = new Map(rows.slice(1).map((row) => [row[id].trim(), row]));

  for (const edit of scenario.edits) {
    const row = byCode.get(edit.plan);
    if (!row) throw new WhatIfError(`Plan ${edit.plan} is not in the plans file.`);
    for (const [key, name] of Object.entries(EDITED) as [keyof typeof EDITED, string][]) {
      const value = edit[key];
      if (value !== undefined) row[column(name)] = value.trim();
    }
  }
  for (const plan of scenario.added) {
    const code = plan.plan.trim();
    if (code === "") throw new WhatIfError("Give the hypothetical plan a plan ID.");
    if (byCode.has(code)) throw new WhatIfError(`Plan ${code} is already in the plans file: choose another plan ID.`);
    const fields: Record<string, string> = {
      plan_id: code,
      name: plan.name.trim() || code,
      monthly_charge: plan.monthlyCharge.trim(),
      included_mb: plan.includedMb.trim(),
      overage_rate: plan.overageRate.trim(),
      overage_block_mb: plan.overageRate.trim() === "" ? "" : plan.overageBlockMb.trim() || "1",
      pooled: "false",
      sms_rate: plan.smsRate.trim(),
      plan_type: plan.planType.trim(),
    };
    for (const name of Object.keys(fields)) column(name);
    const row = header.map((name) => fields[name] ?? "");
    rows.push(row);
    byCode.set(code, row);
  }
  return toCsv(rows);
}

/**
 * The eligibility CSV with each hypothetical plan allowed for its communication plans; null when
 * there is no eligibility file (every plan is then allowed for every SIM).
 */
export function editEligibility(eligibilityCsv: string | null, scenario: Scenario): string | null {
  if (eligibilityCsv === null) return null;
  const rows = parseCsv(eligibilityCsv).filter((row) => row.some((field) => field.trim() !== ""));
  if (rows.length === 0) throw new WhatIfError("The eligibility file is empty.");
  const header = rows[0].map((name) => name.trim().toLowerCase());
  const comm = header.indexOf("comm_plan");
  const plan = header.indexOf("plan_id");
  if (comm < 0 || plan < 0) throw new WhatIfError("The eligibility file needs comm_plan and plan_id columns.");
  for (const added of scenario.added) {
    if (added.commPlans.length === 0) {
      throw new WhatIfError(`Choose at least one communication plan that may use ${added.plan}.`);
    }
    for (const name of added.commPlans) {
      const row = new Array<string>(header.length).fill("");
      row[comm] = name;
      row[plan] = added.plan.trim();
      rows.push(row);
    }
  }
  return toCsv(rows);
}
