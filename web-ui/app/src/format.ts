// Display formatting of the engine's exact numbers. Money and data sizes arrive as decimal text
// ("1234.50", "16.762500762939453125") or as integer micros / bytes held in doubles (exact below
// 2^53); both are only ever re-written as strings here: no floating-point arithmetic rounds an
// amount.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

interface Parts {
  negative: boolean;
  int: string;
  frac: string;
}

/** Splits decimal text into sign, integer digits and fraction digits. */
function parts(text: string): Parts {
  const match = DECIMAL.exec(String(text).trim());
  if (!match) throw new TypeError(`not a decimal: ${text}`);
  return { negative: match[1] === "-", int: match[2], frac: match[3] ?? "" };
}

/** "1234567" → "1,234,567". */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Money text as given, with thousands separators: "1234.50" → "1,234.50". */
export function formatAmount(text: string): string {
  return formatCurrency(text, "");
}

/** Money text with the currency sign: "1234.50" → "$1,234.50", "-3.00" → "−$3.00". */
export function formatCurrency(text: string, symbol = "$"): string {
  const { negative, int, frac } = parts(text);
  return `${negative ? "−" : ""}${symbol}${groupThousands(int)}${frac ? `.${frac}` : ""}`;
}

/**
 * Rounds decimal text to `places` decimals, half away from zero, exactly (BigInt on the digits):
 * "16.765" → "16.77".
 */
export function roundDecimal(text: string, places: number): string {
  const { negative, int, frac } = parts(text);
  const kept = (frac + "0".repeat(places)).slice(0, places);
  let scaled = BigInt(int + kept);
  if ((frac[places] ?? "0") >= "5") scaled += 1n;
  let digits = scaled.toString().padStart(places + 1, "0");
  const head = digits.slice(0, digits.length - places);
  const tail = digits.slice(digits.length - places);
  digits = places > 0 ? `${head}.${tail}` : head;
  return negative && scaled !== 0n ? `-${digits}` : digits;
}

/** A data size in MB for display: two decimals, grouped: "2180.4349" → "2,180.43". */
export function formatMb(text: string): string {
  return formatAmount(roundDecimal(text, 2));
}

/** Bytes (an integer) as MB with two decimals, exactly: 12845056 → "12.25". */
export function bytesToMb(bytes: number): string {
  return roundDecimal(exactQuotient(bytes, 1_048_576), 2);
}

/** The exact decimal expansion of `n / 2^k` (`den` a power of two), as text. */
function exactQuotient(n: number, den: number): string {
  const negative = n < 0;
  const abs = Math.abs(n);
  const int = Math.floor(abs / den);
  let rest = abs - int * den;
  let frac = "";
  // den is a power of two: the expansion ends after log2(den) digits.
  while (rest > 0 && frac.length < 24) {
    rest *= 10;
    const digit = Math.floor(rest / den);
    frac += String(digit);
    rest -= digit * den;
  }
  return `${negative ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

/**
 * Integer micros (1/1,000,000 of the currency unit) as decimal text with at least two and at most
 * six decimals, as the engine writes money: 2700000 → "2.70", 2500 → "0.0025".
 */
export function microsToDecimal(micros: number, scale = 1_000_000): string {
  if (!Number.isSafeInteger(micros)) throw new RangeError(`not an exact amount: ${micros}`);
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const int = Math.floor(abs / scale);
  const places = String(scale).length - 1;
  let frac = String(abs - int * scale).padStart(places, "0");
  while (frac.length > 2 && frac.endsWith("0")) frac = frac.slice(0, -1);
  return `${negative && abs !== 0 ? "-" : ""}${int}${places > 0 ? `.${frac}` : ""}`;
}

/** Decimal text to integer micros, exactly ("2.70" → 2700000); null for anything else. */
export function decimalToMicros(text: string): number | null {
  const match = DECIMAL.exec(String(text).trim());
  if (!match || (match[3] ?? "").length > 6) return null;
  const value = Number(match[2]) * 1_000_000 + Number((match[3] ?? "").padEnd(6, "0"));
  if (!Number.isSafeInteger(value)) return null;
  return match[1] === "-" ? -value : value;
}

/** A fraction as a percentage with two decimals: 0.0123 → "1.23 %"; tiny but positive → "< 0.01 %". */
export function formatPercent(fraction: number): string {
  if (fraction > 0 && fraction < 0.00005) return "< 0.01 %";
  return `${(fraction * 100).toFixed(2)} %`;
}

/** "2026-10-22T00:00:00-04:00" → "2026-10-22 00:00" (the local time the engine wrote). */
export function formatLocal(instant: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(instant);
  if (!match) return instant;
  const seconds = match[3] && match[3] !== ":00" ? match[3] : "";
  return `${match[1]} ${match[2]}${seconds}`;
}

/** "3 SIMs" / "1 SIM". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${groupThousands(String(count))} ${count === 1 ? one : many}`;
}

/** Milliseconds for people: 850 → "0.85 s", 12345 → "12.3 s". */
export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}
