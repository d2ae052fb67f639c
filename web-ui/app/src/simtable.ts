// The per-SIM table, virtualised: only the rows in view (and a few either side) exist in the DOM,
// so a million SIMs scroll as smoothly as ten. Browsers cap an element's height (about 33 million
// pixels in Chromium), so past a few hundred thousand rows the scroll range is scaled: the
// scrollbar maps onto the row positions proportionally.
//
// ARIA: a `table` with `aria-rowcount`, each rendered row with its `aria-rowindex`; the column
// headers are buttons that sort (their `aria-sort` says how). The scroller is focusable, so the
// arrow and page keys scroll it.

import { bytesToMb, formatAmount, microsToDecimal } from "./format.js";
import type { SimTable } from "./protocol.js";
import type { SortKey } from "./view.js";

interface Column {
  key: SortKey | null;
  label: string;
  numeric?: boolean;
  cell: (t: SimTable, i: number) => string;
  className?: string;
}

const saving = (t: SimTable, i: number) => t.currentCost[i] - t.cost[i];
const money = (t: SimTable, micros: number) => formatAmount(microsToDecimal(micros, t.moneyScale));

export const COLUMNS: Column[] = [
  { key: "iccid", label: "ICCID", cell: (t, i) => iccidOf(t, i), className: "c-iccid" },
  { key: "usage", label: "Usage MB", numeric: true, cell: (t, i) => formatAmount(bytesToMb(t.usageBytes[i])), className: "c-usage" },
  { key: "currentPlan", label: "Plan now", cell: (t, i) => t.plans[t.currentPlan[i]], className: "c-now" },
  { key: "plan", label: "New plan", cell: (t, i) => t.plans[t.plan[i]], className: "c-new" },
  { key: "currentCost", label: "Cost now", numeric: true, cell: (t, i) => money(t, t.currentCost[i]), className: "c-cost-now" },
  { key: "cost", label: "New cost", numeric: true, cell: (t, i) => money(t, t.cost[i]), className: "c-cost" },
  { key: "saving", label: "Saving", numeric: true, cell: (t, i) => money(t, saving(t, i)), className: "c-saving" },
  { key: null, label: "Why", cell: (t, i) => why(t, i), className: "c-why" },
  // Narrow screens show this line instead of the separate columns.
  {
    key: null,
    label: "Move",
    cell: (t, i) =>
      `${t.plans[t.currentPlan[i]]} → ${t.plans[t.plan[i]]} · ${formatAmount(bytesToMb(t.usageBytes[i]))} MB · ${why(t, i)}`,
    className: "c-move",
  },
];

function why(t: SimTable, i: number): string {
  return t.reasons[t.reason[i]] || (t.locked[i] ? "locked" : "stays");
}

let iccidCache: { table: SimTable; list: string[] } | null = null;
function iccidOf(t: SimTable, i: number): string {
  if (iccidCache?.table !== t) iccidCache = { table: t, list: t.iccids === "" ? [] : t.iccids.split("\n") };
  return iccidCache.list[i];
}

/** The largest scroll height used; beyond it the scroll range is scaled. */
const MAX_SCROLL_PX = 8_000_000;
const OVERSCAN = 6;

export class VirtualTable {
  private table: SimTable | null = null;
  private rows: Uint32Array = new Uint32Array(0);
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private readonly head: HTMLElement;
  private rowHeight = 36;
  private frame = 0;
  private readonly compact: MediaQueryList;
  sort: SortKey = "saving";
  descending = true;

  constructor(
    private readonly root: HTMLElement,
    private readonly onSort: (key: SortKey, descending: boolean) => void,
  ) {
    this.root.setAttribute("role", "table");
    this.head = element("div", "vt-head");
    this.head.setAttribute("role", "rowgroup");
    const headRow = element("div", "vt-row vt-header");
    headRow.setAttribute("role", "row");
    headRow.setAttribute("aria-rowindex", "1");
    for (const column of COLUMNS) {
      const cell = element("div", `vt-cell ${column.className ?? ""} ${column.numeric ? "num" : ""}`);
      cell.setAttribute("role", "columnheader");
      if (column.key) {
        const button = element("button", "vt-sort") as HTMLButtonElement;
        button.type = "button";
        button.textContent = column.label;
        button.dataset.key = column.key;
        button.addEventListener("click", () => {
          const key = column.key as SortKey;
          const descending = this.sort === key ? !this.descending : key === "saving" || key === "usage" || key.endsWith("ost");
          this.sort = key;
          this.descending = descending;
          this.paintSort();
          this.onSort(key, descending);
        });
        cell.append(button);
      } else cell.textContent = column.label;
      headRow.append(cell);
    }
    this.head.append(headRow);
    this.scroller = element("div", "vt-scroll");
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute("role", "rowgroup");
    this.scroller.setAttribute("aria-label", "SIMs (scroll with the arrow and page keys)");
    this.spacer = element("div", "vt-spacer");
    this.body = element("div", "vt-body");
    this.scroller.append(this.spacer, this.body);
    this.root.append(this.head, this.scroller);
    this.scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.compact = window.matchMedia("(max-width: 700px)");
    this.compact.addEventListener("change", () => this.layout());
    window.addEventListener("resize", () => this.schedule());
    this.layout();
    this.paintSort();
  }

  /** Shows `rows` (positions in `table`, in display order). */
  show(table: SimTable, rows: Uint32Array): void {
    this.table = table;
    this.rows = rows;
    this.root.setAttribute("aria-rowcount", String(rows.length + 1));
    this.layout();
    this.scroller.scrollTop = 0;
    this.render();
  }

  get rowCount(): number {
    return this.rows.length;
  }

  private layout(): void {
    this.rowHeight = this.compact.matches ? 66 : 36;
    this.root.classList.toggle("compact", this.compact.matches);
    this.spacer.style.height = `${Math.min(this.rows.length * this.rowHeight, MAX_SCROLL_PX)}px`;
    this.schedule();
  }

  private paintSort(): void {
    for (const button of this.head.querySelectorAll<HTMLButtonElement>("button.vt-sort")) {
      const active = button.dataset.key === this.sort;
      const cell = button.parentElement as HTMLElement;
      if (active) cell.setAttribute("aria-sort", this.descending ? "descending" : "ascending");
      else cell.removeAttribute("aria-sort");
      button.dataset.dir = active ? (this.descending ? "desc" : "asc") : "";
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const t = this.table;
    if (!t) return;
    const h = this.rowHeight;
    const n = this.rows.length;
    const viewport = this.scroller.clientHeight || 480;
    const total = n * h;
    const range = Math.min(total, MAX_SCROLL_PX);
    const top = this.scroller.scrollTop;
    // Where the viewport's top falls in the full (unscaled) list of rows.
    const position = total <= MAX_SCROLL_PX ? top : (top / Math.max(1, range - viewport)) * Math.max(0, total - viewport);
    const first = Math.max(0, Math.floor(position / h) - OVERSCAN);
    const last = Math.min(n, Math.ceil((position + viewport) / h) + OVERSCAN);
    const offset = top - (position - first * h);
    this.body.style.transform = `translateY(${offset}px)`;
    const fragment = document.createDocumentFragment();
    for (let r = first; r < last; r++) {
      const i = this.rows[r];
      const row = element("div", "vt-row");
      row.setAttribute("role", "row");
      row.setAttribute("aria-rowindex", String(r + 2));
      row.style.height = `${h}px`;
      const moved = t.plan[i] !== t.currentPlan[i];
      if (moved) row.classList.add("moved");
      for (const column of COLUMNS) {
        const cell = element("div", `vt-cell ${column.className ?? ""} ${column.numeric ? "num" : ""}`);
        cell.setAttribute("role", "cell");
        cell.dataset.label = column.label;
        cell.textContent = column.cell(t, i);
        cell.title = cell.textContent;
        row.append(cell);
      }
      fragment.append(row);
    }
    this.body.replaceChildren(fragment);
  }
}

function element(tag: string, className: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = className.trim().replace(/\s+/g, " ");
  return e;
}
