// Which plan is cheapest for one SIM at each usage, and where that changes (the break-even
// points drawn on the usage histogram). Each plan is the line the engine's explanations use:
// its monthly charge up to its allowance, then its overage rate per MB (rate / block); a plan
// without overage stays flat. SMS and proration are left out (they shift every plan alike for
// one SIM) and so is pooling (a pooled plan is drawn as if the SIM were alone in its pool).
// Display geometry in doubles: no amount shown anywhere is computed here.

export interface Terms {
  /** Monthly charge, currency units. */
  charge: number;
  includedMb: number;
  /** Price of one overage block; null: no overage. */
  rate: number | null;
  blockMb: number | null;
}

/** Usage from `fromMb` to `toMb` where plan `plan` (an index into the terms) is cheapest. */
export interface Segment {
  fromMb: number;
  toMb: number;
  plan: number;
}

/** What one SIM pays on `t` at `mb` of usage (the engine's linear explanation curve). */
export function costAt(t: Terms, mb: number): number {
  const slope = t.rate === null || !t.blockMb ? 0 : t.rate / t.blockMb;
  return t.charge + slope * Math.max(0, mb - t.includedMb);
}

function slopeOf(t: Terms): number {
  return t.rate === null || !t.blockMb ? 0 : t.rate / t.blockMb;
}

/** The usages where two plans may swap places: allowances and the crossings of their pieces. */
function candidates(terms: Terms[], maxMb: number): number[] {
  const points = new Set<number>([0, maxMb]);
  for (const t of terms) if (t.includedMb < maxMb) points.add(t.includedMb);
  for (let a = 0; a < terms.length; a++) {
    for (let b = a + 1; b < terms.length; b++) {
      const [p, q] = [terms[a], terms[b]];
      // On each piece both are lines c + s·u; solve for the crossing.
      const bounds = [0, Math.min(p.includedMb, q.includedMb), Math.max(p.includedMb, q.includedMb), Infinity];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const lo = bounds[i];
        const hi = bounds[i + 1];
        if (!(hi > lo)) continue;
        const at = lo + (Number.isFinite(hi) ? (hi - lo) / 2 : 1);
        const sp = at > p.includedMb ? slopeOf(p) : 0;
        const sq = at > q.includedMb ? slopeOf(q) : 0;
        if (sp === sq) continue;
        const root = lo + (costAt(q, lo) - costAt(p, lo)) / (sp - sq);
        if (root > lo && root < hi && root < maxMb) points.add(root);
      }
    }
  }
  return [...points].filter((x) => x >= 0 && x <= maxMb).sort((x, y) => x - y);
}

/** The cheapest plan over [0, maxMb], as segments in usage order (ties: the earlier plan). */
export function cheapestByUsage(terms: Terms[], maxMb: number): Segment[] {
  if (terms.length === 0 || !(maxMb > 0)) return [];
  const points = candidates(terms, maxMb);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [lo, hi] = [points[i], points[i + 1]];
    if (!(hi > lo)) continue;
    const mid = (lo + hi) / 2;
    let best = 0;
    for (let p = 1; p < terms.length; p++) {
      if (costAt(terms[p], mid) < costAt(terms[best], mid) - 1e-12) best = p;
    }
    const last = segments[segments.length - 1];
    if (last && last.plan === best) last.toMb = hi;
    else segments.push({ fromMb: lo, toMb: hi, plan: best });
  }
  return segments;
}
