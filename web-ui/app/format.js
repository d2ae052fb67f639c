// Display formatting of the engine's exact decimal text. Money and data sizes arrive as decimal
// strings ("1234.50", "16.762500762939453125") and are only ever re-written as strings here:
// no floating-point arithmetic touches an amount.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Splits decimal text into sign, integer digits and fraction digits. */
function parts(text) {
  const match = DECIMAL.exec(String(text).trim());
  if (!match) throw new TypeError(`not a decimal: ${text}`);
  return { negative: match[1] === "-", int: match[2], frac: match[3] ?? "" };
}

/** "1234567" → "1,234,567". */
export function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Money text as given, with thousands separators: "1234.50" → "1,234.50". */
export function formatAmount(text) {
  return formatCurrency(text, "");
}

/** Money text with the currency sign: "1234.50" → "$1,234.50", "-3.00" → "−$3.00". */
export function formatCurrency(text, symbol = "$") {
  const { negative, int, frac } = parts(text);
  return `${negative ? "−" : ""}${symbol}${groupThousands(int)}${frac ? `.${frac}` : ""}`;
}

/**
 * Rounds decimal text to `places` decimals, half away from zero, exactly (BigInt on the digits):
 * "16.765" → "16.77".
 */
export function roundDecimal(text, places) {
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
export function formatMb(text) {
  return formatAmount(roundDecimal(text, 2));
}

/** "2026-10-22T00:00:00-04:00" → "2026-10-22 00:00" (the local time the engine wrote). */
export function formatLocal(instant) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(instant);
  if (!match) return instant;
  const seconds = match[3] && match[3] !== ":00" ? match[3] : "";
  return `${match[1]} ${match[2]}${seconds}`;
}

/** "3 SIMs" / "1 SIM". */
export function plural(count, one, many = `${one}s`) {
  return `${groupThousands(String(count))} ${count === 1 ? one : many}`;
}
