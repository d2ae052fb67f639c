// The per-SIM table's view: which SIMs match the search and the filter, in which order. Works on
// the columns of `OptimizeJob.simTable()` without building an object per SIM, so a million SIMs
// sort in well under a second (it runs in the Web Worker, off the page's thread).

export type SortKey = "file" | "iccid" | "usage" | "currentPlan" | "plan" | "currentCost" | "cost" | "saving";

export interface ViewQuery {
  search: string;
  changedOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

/** The columns the view reads (a subset of `SimTable`, with the ICCIDs split). */
export interface ViewColumns {
  count: number;
  iccidList: string[];
  plans: string[];
  reasons: string[];
  usageBytes: Float64Array;
  currentPlan: Uint32Array;
  plan: Uint32Array;
  currentCost: Float64Array;
  cost: Float64Array;
  reason: Uint32Array;
}

/**
 * The positions (in file order) of the SIMs that match, sorted. The search matches an ICCID
 * that contains it, a SIM whose plan now or after is a plan code that contains it, or a SIM
 * whose explanation contains it (all case-insensitive).
 */
export function computeView(t: ViewColumns, q: ViewQuery): Uint32Array {
  const needle = q.search.trim().toLowerCase();
  const planHit = t.plans.map((code) => needle !== "" && code.toLowerCase().includes(needle));
  const reasonHit = t.reasons.map((why) => needle !== "" && why.toLowerCase().includes(needle));
  let out = new Uint32Array(t.count);
  let n = 0;
  for (let i = 0; i < t.count; i++) {
    if (q.changedOnly && t.plan[i] === t.currentPlan[i]) continue;
    if (
      needle !== "" &&
      !planHit[t.currentPlan[i]] &&
      !planHit[t.plan[i]] &&
      !reasonHit[t.reason[i]] &&
      !t.iccidList[i].toLowerCase().includes(needle)
    ) {
      continue;
    }
    out[n++] = i;
  }
  out = out.slice(0, n);
  return sortView(t, out, q.sort, q.descending);
}

function sortView(t: ViewColumns, rows: Uint32Array, key: SortKey, descending: boolean): Uint32Array {
  const sign = descending ? -1 : 1;
  if (key === "file") return descending ? rows.reverse() : rows;
  if (key === "iccid") {
    const ids = t.iccidList;
    return rows.sort((a, b) => sign * (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0) || a - b);
  }
  let numeric: (i: number) => number;
  switch (key) {
    case "usage":
      numeric = (i) => t.usageBytes[i];
      break;
    case "currentCost":
      numeric = (i) => t.currentCost[i];
      break;
    case "cost":
      numeric = (i) => t.cost[i];
      break;
    case "saving":
      numeric = (i) => t.currentCost[i] - t.cost[i];
      break;
    case "currentPlan":
    case "plan": {
      const rank = planRanks(t.plans);
      const column = key === "plan" ? t.plan : t.currentPlan;
      numeric = (i) => rank[column[i]];
      break;
    }
  }
  // Keys copied into one array first: the comparator then reads two numbers.
  const keys = new Float64Array(t.count);
  for (const i of rows) keys[i] = numeric(i);
  return rows.sort((a, b) => sign * (keys[a] - keys[b]) || a - b);
}

/** Each plan's place in the alphabetical order of the codes. */
function planRanks(plans: string[]): Uint32Array {
  const order = plans.map((code, i) => [code, i] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = new Uint32Array(plans.length);
  order.forEach(([, i], r) => (rank[i] = r));
  return rank;
}
