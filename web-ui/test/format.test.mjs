// The page's formatting of exact numbers (web-ui/app/src/format.ts, compiled by scripts/test-web
// into $WEB_UNIT): string and integer operations only.
//   scripts/test-web (or: tsc -p web-ui/tsconfig.unit.json && WEB_UNIT=target/web-unit node --test web-ui/test/format.test.mjs)
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const unit = (name) => import(pathToFileURL(`${process.env.WEB_UNIT ?? "target/web-unit"}/${name}`).href);
const {
  bytesToMb, decimalToMicros, formatAmount, formatCurrency, formatLocal, formatMb, formatPercent, groupThousands,
  microsToDecimal, plural, roundDecimal,
} = await unit("format.js");

test("money keeps every decimal the engine wrote and groups thousands", () => {
  assert.equal(formatCurrency("175.41"), "$175.41");
  assert.equal(formatCurrency("1234567.5000"), "$1,234,567.5000");
  assert.equal(formatCurrency("-3.00"), "−$3.00");
  assert.equal(formatAmount("0.0025"), "0.0025");
  assert.equal(formatAmount("999.99"), "999.99");
  assert.equal(groupThousands("1000"), "1,000");
});

test("amounts beyond double precision stay exact", () => {
  assert.equal(formatCurrency("90071992547409930.01"), "$90,071,992,547,409,930.01");
});

test("decimal text rounds half away from zero, exactly", () => {
  assert.equal(roundDecimal("16.765", 2), "16.77");
  assert.equal(roundDecimal("16.764999", 2), "16.76");
  assert.equal(roundDecimal("-0.004", 2), "0.00");
  assert.equal(roundDecimal("-2.5", 0), "-3");
  assert.equal(formatMb("2180.4349"), "2,180.43");
});

test("micros are written as the engine writes money: 2 to 6 decimals", () => {
  assert.equal(microsToDecimal(2_700_000), "2.70");
  assert.equal(microsToDecimal(2_500), "0.0025");
  assert.equal(microsToDecimal(-1_234_567_890), "-1234.56789");
  assert.equal(microsToDecimal(0), "0.00");
  assert.equal(microsToDecimal(123), "0.000123");
  assert.throws(() => microsToDecimal(0.5), RangeError);
  assert.equal(decimalToMicros("2.70"), 2_700_000);
  assert.equal(decimalToMicros("-0.000001"), -1);
  assert.equal(decimalToMicros("1.0000001"), null, "more than six decimals");
  assert.equal(decimalToMicros("abc"), null);
});

test("bytes become MB exactly, rounded half up to cents of a MB", () => {
  assert.equal(bytesToMb(12_845_056), "12.25");
  assert.equal(bytesToMb(3_905_946), "3.73");
  // 0.005 MB exactly (5242.88 bytes is not whole; 0.125 MB is): 131072 bytes = 0.125 → 0.13.
  assert.equal(bytesToMb(131_072), "0.13");
  assert.equal(bytesToMb(0), "0.00");
});

test("percentages, local times and counts", () => {
  assert.equal(formatPercent(0.031965210722372364), "3.20 %");
  assert.equal(formatPercent(0.00001), "< 0.01 %");
  assert.equal(formatPercent(0), "0.00 %");
  assert.equal(formatLocal("2026-10-22T00:00:00-04:00"), "2026-10-22 00:00");
  assert.equal(formatLocal("2026-10-22T00:00:30-04:00"), "2026-10-22 00:00:30");
  assert.equal(plural(1, "SIM"), "1 SIM");
  assert.equal(plural(200000, "SIM"), "200,000 SIMs");
});
