// The two charts: each plan's cost before and after (HTML bars, so they reflow to any width),
// and the usage histogram of one communication plan's SIMs with the break-even points of its
// plans (SVG drawn at the container's width). Numbers drawn come from the engine's decimal text
// (labels print the text itself); bar lengths are the only doubles.

import { cheapestByUsage, type Segment, type Terms } from "./envelope.js";
import { formatCurrency, groupThousands } from "./format.js";
import type { PlanCatalogue, PlanComparison } from "./protocol.js";

const SVG = "http://www.w3.org/2000/svg";

/** The colours of the cheapest-plan bands under the histogram's axis (the legend uses them too). */
export const BAND_COLORS = ["#c9dbfa", "#c4ead6", "#fbdcaa", "#e0cdf8", "#f7c6cc", "#bfe8ef"];

/** Bars of each plan's total before and after, for the plans with SIMs either way. */
export function drawPlanChart(root: HTMLElement, lines: PlanComparison[]): void {
  const shown = lines.filter((l) => l.before.simCount > 0 || l.after.simCount > 0);
  const max = Math.max(1e-9, ...shown.flatMap((l) => [Number(l.before.total), Number(l.after.total)]));
  const rows = shown.map((line) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.setAttribute("role", "listitem");
    const label = document.createElement("div");
    label.className = "bar-label";
    label.textContent = line.plan;
    label.title = line.name;
    const bars = document.createElement("div");
    bars.className = "bar-pair";
    for (const [side, cls] of [[line.before, "before"], [line.after, "after"]] as const) {
      const bar = document.createElement("div");
      bar.className = `bar ${cls}`;
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = `${(Number(side.total) / max) * 100}%`;
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = `${formatCurrency(roundCents(side.total))} · ${groupThousands(String(side.simCount))}`;
      bar.append(fill, value);
      bars.append(bar);
    }
    row.setAttribute(
      "aria-label",
      `${line.plan}: ${formatCurrency(line.before.total)} for ${line.before.simCount} SIMs now, ` +
        `${formatCurrency(line.after.total)} for ${line.after.simCount} SIMs after`,
    );
    row.append(label, bars);
    return row;
  });
  root.replaceChildren(...rows);
}

function roundCents(text: string): string {
  const [int, frac = ""] = text.split(".");
  return `${int}.${(frac + "00").slice(0, 2)}`;
}

export interface Histogram {
  /** Break-even usages (MB) with the plan cheapest above each. */
  breakEvens: { mb: number; plan: string }[];
  segments: (Segment & { code: string })[];
  zero: number;
  shown: number;
}

/** Terms of a catalogue plan as numbers, for the break-even geometry. */
export function termsOf(catalogue: PlanCatalogue, index: number): Terms {
  const p = catalogue.plans[index];
  return {
    charge: Number(p.monthlyCharge),
    includedMb: Number(p.includedMb),
    rate: p.overageRate === null ? null : Number(p.overageRate),
    blockMb: p.overageBlockMb === null ? null : Number(p.overageBlockMb),
  };
}

/**
 * Draws the histogram of `usageMb` (log scale) into `root`, with the break-even lines of the
 * plans `eligible` (catalogue indices); answers what it drew, for the legend.
 */
export function drawHistogram(
  root: HTMLElement,
  usageMb: Float64Array,
  catalogue: PlanCatalogue,
  eligible: number[],
): Histogram {
  const width = Math.max(300, root.clientWidth || 600);
  const height = width < 500 ? 220 : 250;
  const pad = { left: 44, right: 14, top: 50, bottom: 46 };
  let zero = 0;
  let lo = Infinity;
  let hi = 0;
  for (const mb of usageMb) {
    if (mb <= 0) zero++;
    else {
      lo = Math.min(lo, mb);
      hi = Math.max(hi, mb);
    }
  }
  const terms = eligible.map((i) => termsOf(catalogue, i));
  const segments = cheapestByUsage(terms, Math.max(hi, ...terms.map((t) => t.includedMb)) * 1.5 || 1).map((s) => ({
    ...s,
    code: catalogue.plans[eligible[s.plan]].plan,
  }));
  const breakEvens = segments.slice(1).map((s) => ({ mb: s.fromMb, plan: s.code }));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("aria-hidden", "true");
  if (!(hi > 0)) {
    root.replaceChildren(svg);
    return { breakEvens, segments, zero, shown: 0 };
  }
  const minExp = Math.floor(Math.log10(Math.max(lo, 1e-3)));
  const maxExp = Math.max(minExp + 1, Math.ceil(Math.log10(hi)));
  const perDecade = width < 500 ? 5 : 8;
  const bins = new Array<number>((maxExp - minExp) * perDecade).fill(0);
  for (const mb of usageMb) {
    if (mb <= 0) continue;
    const x = (Math.log10(Math.max(mb, 10 ** minExp)) - minExp) * perDecade;
    bins[Math.min(bins.length - 1, Math.floor(x))]++;
  }
  const peak = Math.max(1, ...bins);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const xOf = (mb: number) => pad.left + ((Math.log10(mb) - minExp) / (maxExp - minExp)) * plotW;
  const yOf = (count: number) => pad.top + plotH - (count / peak) * plotH;
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  // Cheapest-plan bands along the axis.
  segments.forEach((s, k) => {
    const x0 = Math.max(pad.left, s.fromMb > 0 ? xOf(Math.max(s.fromMb, 10 ** minExp)) : pad.left);
    const x1 = Math.min(pad.left + plotW, xOf(Math.max(Math.min(s.toMb, 10 ** maxExp), 10 ** minExp)));
    if (x1 - x0 < 1) return;
    add("rect", { x: x0, y: pad.top + plotH + 22, width: x1 - x0, height: 8, fill: BAND_COLORS[k % BAND_COLORS.length] });
  });
  // Bars.
  const binW = plotW / bins.length;
  bins.forEach((count, b) => {
    if (count === 0) return;
    add("rect", { x: pad.left + b * binW + 1, y: yOf(count), width: Math.max(1, binW - 2), height: pad.top + plotH - yOf(count), fill: "#1f5fd1", opacity: 0.75 });
  });
  // Axes.
  add("line", { x1: pad.left, y1: pad.top + plotH, x2: pad.left + plotW, y2: pad.top + plotH, stroke: "#98a2b3" });
  // Every decade ticked; labelled as often as they fit.
  const step = Math.ceil(64 / (plotW / (maxExp - minExp)));
  for (let e = minExp; e <= maxExp; e++) {
    const x = xOf(10 ** e);
    add("line", { x1: x, y1: pad.top + plotH, x2: x, y2: pad.top + plotH + 4, stroke: "#98a2b3" });
    if ((e - minExp) % step === 0) {
      const anchor = e === minExp ? "start" : e === maxExp ? "end" : "middle";
      add("text", { x, y: pad.top + plotH + 16, "text-anchor": anchor, class: "axis" }, mbLabel(10 ** e));
    }
  }
  add("text", { x: pad.left - 6, y: pad.top + 4, "text-anchor": "end", class: "axis" }, groupThousands(String(peak)));
  add("text", { x: pad.left - 6, y: pad.top + plotH, "text-anchor": "end", class: "axis" }, "0");
  // Break-even lines, labelled with their usage (the legend names the plans); labels that would
  // touch the one before go a row lower.
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  for (const b of breakEvens) {
    if (b.mb < 10 ** minExp || b.mb > 10 ** maxExp) continue;
    const x = xOf(b.mb);
    const text = mbLabel(b.mb);
    const w = text.length * 7 + 6;
    const anchorEnd = x + w > width - 2;
    const left = anchorEnd ? x - w : x;
    const row = rowEnds.findIndex((end) => left > end + 4);
    const r = row < 0 ? 0 : row;
    rowEnds[r] = left + w;
    add("line", { x1: x, y1: pad.top - 24 + r * 12, x2: x, y2: pad.top + plotH, stroke: "#b42318", "stroke-dasharray": "4 3", "stroke-width": 1.5 });
    add("text", { x: anchorEnd ? x - 3 : x + 3, y: pad.top - 26 + r * 12, class: "be", "text-anchor": anchorEnd ? "end" : "start" }, text);
  }
  root.replaceChildren(svg);
  return { breakEvens, segments, zero, shown: usageMb.length - zero };
}

/** 0.001 → "1 KB"-free labels in MB/GB: 0.1 → "0.1 MB", 1000 → "1 GB", 12.04 → "12 MB". */
export function mbLabel(mb: number): string {
  if (mb >= 1000) return `${trim(mb / 1000)} GB`;
  return `${trim(mb)} MB`;
}

function trim(x: number): string {
  if (x >= 100) return String(Math.round(x));
  if (x >= 10) return String(Math.round(x * 10) / 10);
  return String(Number(x.toPrecision(2)));
}
