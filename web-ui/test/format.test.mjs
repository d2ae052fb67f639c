// The page's formatting of exact decimal text (web-ui/app/format.js): string operations only.
//   node --test web-ui/test/format.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatAmount, formatCurrency, formatLocal, formatMb, groupThousands, plural, roundDecimal,
} from "../app/format.js";

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

test("MB round half away from zero on the digits, not through a double", () => {
  assert.equal(roundDecimal("16.762500762939453125", 2), "16.76");
  assert.equal(roundDecimal("1.005", 2), "1.01"); // 1.005 as a double rounds down
  assert.equal(roundDecimal("9.995", 2), "10.00");
  assert.equal(roundDecimal("0", 2), "0.00");
  assert.equal(roundDecimal("-0.004", 2), "0.00");
  assert.equal(roundDecimal("2.5", 0), "3");
  assert.equal(formatMb("2179.6649999"), "2,179.66");
  assert.equal(formatMb("1114.9285717010498046875"), "1,114.93");
});

test("bad input is refused, not guessed", () => {
  assert.throws(() => formatAmount("1e3"), TypeError);
  assert.throws(() => formatAmount("12,50"), TypeError);
});

test("instants show the local time the engine wrote", () => {
  assert.equal(formatLocal("2026-10-22T00:00:00-04:00"), "2026-10-22 00:00");
  assert.equal(formatLocal("2026-11-20T12:00:30-05:00"), "2026-11-20 12:00:30");
  assert.equal(plural(1, "SIM"), "1 SIM");
  assert.equal(plural(1200, "SIM"), "1,200 SIMs");
});
