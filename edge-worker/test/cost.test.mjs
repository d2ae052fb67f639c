// POST /api/cost and the other routes, inside workerd, through the Worker's fetch handler.
//
// Every case folder of tests/fixtures/cases is sent in each request form the Worker takes, and
// the answer must be its cost.json byte for byte: the same document the command line writes.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

import { cases, csvRows, fixtureForm, fixtureJson, withSimRow } from "./fixtures.mjs";

const ORIGIN = "http://simopt.test";
const LIMIT = 64 * 1024 * 1024;

function call(path, init) {
  return exports.default.fetch(new Request(ORIGIN + path, init));
}

function postCost(body, headers) {
  return call("/api/cost", { method: "POST", body, headers });
}

function postJson(value) {
  return postCost(JSON.stringify(value), { "content-type": "application/json" });
}

/** Status, content type and parsed body of an answer that must be JSON. */
async function answer(response) {
  const text = await response.text();
  expect(response.headers.get("content-type")).toBe("application/json");
  return { status: response.status, text, body: JSON.parse(text) };
}

/** An answer that must be an error with this status and code. */
async function expectError(response, status, code) {
  const got = await answer(response);
  expect({ status: got.status, error: got.body.error }).toEqual({ status, error: code });
  expect(typeof got.body.message).toBe("string");
  return got.body;
}

describe("the fixture cases give their cost.json byte for byte", () => {
  const names = Object.keys(cases);
  it("finds the cases", () => {
    expect(names).toContain("basic");
    for (const name of names) expect(cases[name]["cost.json"], name).toBeTypeOf("string");
  });

  for (const name of names) {
    const fixture = cases[name];

    it(`${name}: multipart, settings as form fields`, async () => {
      const res = await postCost(fixtureForm(fixture));
      const { status, text } = await answer(res);
      expect(status).toBe(200);
      expect(text).toBe(fixture["cost.json"]);
    });

    it(`${name}: multipart, settings as a settings.json file`, async () => {
      const res = await postCost(fixtureForm(fixture, { settingsAsFile: true }));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(fixture["cost.json"]);
    });

    it(`${name}: JSON body with the files as text`, async () => {
      const res = await postJson(fixtureJson(fixture));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(fixture["cost.json"]);
    });
  }

  it("basic: JSON body with the files as arrays of row objects", async () => {
    const basic = cases.basic;
    const res = await postJson({
      sims: csvRows(basic["sims.csv"]),
      plans: csvRows(basic["plans.csv"]),
      eligibility: csvRows(basic["eligibility.csv"]),
      settings: JSON.parse(basic["settings.json"]),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(basic["cost.json"]);
  });

  it("json-input: JSON body with the parsed JSON files", async () => {
    const fixture = cases["json-input"];
    const res = await postJson({
      sims: JSON.parse(fixture["sims.json"]),
      plans: JSON.parse(fixture["plans.json"]),
      eligibility: JSON.parse(fixture["eligibility.json"]),
      settings: JSON.parse(fixture["settings.json"]),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(fixture["cost.json"]);
  });

  it("multipart accepts the files as plain text fields too", async () => {
    const basic = cases.basic;
    const form = new FormData();
    form.append("sims", basic["sims.csv"]);
    form.append("plans", basic["plans.csv"]);
    form.append("eligibility", basic["eligibility.csv"]);
    form.append("settings", basic["settings.json"]);
    const res = await postCost(form);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(basic["cost.json"]);
  });
});

describe("invalid input: 422 with the core's diagnostics", () => {
  const basic = cases.basic;

  it("a negative usage names file, row and column", async () => {
    // Row 3 of the sheet = the second SIM (the header is row 1).
    const sims = withSimRow(basic["sims.csv"], 3, { usage_mb: "-3" });
    const form = fixtureForm(basic, { sims: ["fleet-export.csv", sims] });
    const body = await expectError(await postCost(form), 422, "invalid-input");
    expect(body.items).toContainEqual(
      expect.objectContaining({
        severity: "error",
        code: "negative-amount",
        file: "fleet-export.csv",
        row: 3,
        column: "usage_mb",
      }),
    );
    expect(body.items.every((d) => typeof d.hint === "string")).toBe(true);
    expect(body.counts).toContainEqual(
      expect.objectContaining({ severity: "error", code: "negative-amount", count: 1 }),
    );
  });

  it("an unknown plan is reported on its row", async () => {
    const sims = withSimRow(basic["sims.csv"], 5, { current_plan: "NOPE" });
    const body = await expectError(
      await postJson({ ...fixtureJson(basic), sims }),
      422,
      "invalid-input",
    );
    expect(body.items).toContainEqual(
      expect.objectContaining({
        code: "unknown-plan",
        file: "sims.csv",
        row: 5,
        column: "current_plan",
      }),
    );
  });

  it("JSON rows are reported against sims.json", async () => {
    const rows = csvRows(basic["sims.csv"]);
    rows[1].usage_mb = "-3";
    const body = await expectError(
      await postJson({ ...fixtureJson(basic), sims: rows }),
      422,
      "invalid-input",
    );
    expect(body.items).toContainEqual(
      expect.objectContaining({ code: "negative-amount", file: "sims.json", column: "usage_mb" }),
    );
  });

  it("a bad setting is a diagnostic of the settings", async () => {
    const body = await expectError(
      await postJson({ ...fixtureJson(basic), settings: { time_zone: "Mars/Olympus" } }),
      422,
      "invalid-input",
    );
    expect(body.items).toContainEqual(
      expect.objectContaining({ code: "bad-setting", column: "time_zone" }),
    );
  });
});

describe("malformed requests: 400", () => {
  const basic = cases.basic;

  it("multipart without plans", async () => {
    const form = fixtureForm(basic);
    form.delete("plans");
    const body = await expectError(await postCost(form), 400, "missing-file");
    expect(body.message).toContain("plans");
  });

  it("JSON without sims", async () => {
    const { sims: _, ...rest } = fixtureJson(basic);
    const body = await expectError(await postJson(rest), 400, "missing-file");
    expect(body.message).toContain("sims");
  });

  it("a body that is not JSON", async () => {
    const res = await postCost("{sims:", { "content-type": "application/json" });
    await expectError(res, 400, "bad-json");
  });

  it("an empty JSON body", async () => {
    await expectError(await postCost("", { "content-type": "application/json" }), 400, "bad-json");
  });

  it("an unknown key in the JSON body", async () => {
    const body = await expectError(
      await postJson({ ...fixtureJson(basic), simz: "x" }),
      400,
      "bad-json",
    );
    expect(body.message).toContain("simz");
  });

  it("a file of the wrong JSON type", async () => {
    await expectError(await postJson({ ...fixtureJson(basic), plans: 42 }), 400, "bad-json");
  });

  it("an unknown settings key in JSON", async () => {
    const body = await expectError(
      await postJson({ ...fixtureJson(basic), settings: { colour: "red" } }),
      400,
      "bad-settings",
    );
    expect(body.message).toContain("colour");
  });

  it("an unknown form field", async () => {
    const form = fixtureForm(basic);
    form.append("colour", "red");
    const body = await expectError(await postCost(form), 400, "bad-settings");
    expect(body.message).toContain("colour");
  });

  it("a form field given twice", async () => {
    const form = fixtureForm(basic);
    form.append("sims", new File([basic["sims.csv"]], "again.csv"));
    await expectError(await postCost(form), 400, "bad-form");
  });

  it("a settings field that is not a JSON object", async () => {
    const form = fixtureForm(basic, { settingsAsFields: false });
    form.append("settings", "period_end=2026-11-22");
    await expectError(await postCost(form), 400, "bad-settings");
  });

  it("a broken multipart body", async () => {
    const res = await postCost("--nothing here--", {
      "content-type": "multipart/form-data; boundary=simopt",
    });
    await expectError(res, 400, "bad-form");
  });

  it("another content type: 415", async () => {
    const res = await postCost(basic["sims.csv"], { "content-type": "text/csv" });
    await expectError(res, 415, "unsupported-media-type");
  });
});

describe("upload limit: 413", () => {
  const basic = cases.basic;

  it("a declared body over the limit is refused before it is read", async () => {
    const big = "x".repeat(LIMIT + 1);
    const body = await expectError(
      await postCost(big, { "content-type": "application/json" }),
      413,
      "payload-too-large",
    );
    expect(body.message).toContain("64 MiB");
  });

  it("a multipart body over the limit", async () => {
    const form = fixtureForm(basic, { sims: ["huge.csv", "x".repeat(LIMIT)] });
    await expectError(await postCost(form), 413, "payload-too-large");
  });

  // The Worker stops reading and cancels the body: workerd logs "disconnected: read end of
  // pipe was aborted" for the test's still-writing stream. Expected.
  it("a streamed JSON body without a length is cut at the limit", async () => {
    const res = await postCost(chunks(65, 1024 * 1024), { "content-type": "application/json" });
    await expectError(res, 413, "payload-too-large");
  });

  it("a streamed multipart body without a length is counted", async () => {
    const boundary = "simopt-test-boundary";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="sims"; filename="huge.csv"\r\nContent-Type: text/csv\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const res = await postCost(chunks(65, 1024 * 1024, head, tail), {
      "content-type": `multipart/form-data; boundary=${boundary}`,
    });
    await expectError(res, 413, "payload-too-large");
  });
});

describe("routes", () => {
  it("GET /api/health", async () => {
    const res = await call("/api/health");
    const { status, text } = await answer(res);
    expect({ status, text }).toEqual({ status: 200, text: '{"status":"ok"}' });
  });

  for (const method of ["GET", "PUT", "DELETE"]) {
    it(`${method} /api/cost: 405`, async () => {
      const res = await call("/api/cost", { method });
      expect(res.headers.get("allow")).toBe("POST");
      await expectError(res, 405, "method-not-allowed");
    });
  }

  it("POST /api/health: 405", async () => {
    await expectError(await call("/api/health", { method: "POST" }), 405, "method-not-allowed");
  });

  it("unknown paths: 404 JSON", async () => {
    const body = await expectError(await call("/api/nothing"), 404, "not-found");
    expect(body.message).toContain("/api/nothing");
  });

  it("without as_of the run happens now", async () => {
    const before = Date.now();
    const { sims, plans } = fixtureJson(cases.basic);
    const res = await postJson({ sims, plans, settings: { time_zone: "UTC" } });
    const { status, body } = await answer(res);
    expect(status).toBe(200);
    const asOf = Date.parse(body.period.as_of);
    // workerd's clock only advances on I/O: allow a generous window.
    expect(Math.abs(asOf - before)).toBeLessThan(5 * 60 * 1000);
  });
});

/** A body stream of `count` chunks of `size` bytes, between `head` and `tail`. */
function chunks(count, size, head = "", tail = "") {
  const encoder = new TextEncoder();
  const chunk = new Uint8Array(size).fill(0x78);
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      if (head) controller.enqueue(encoder.encode(head));
    },
    pull(controller) {
      if (sent < count) {
        controller.enqueue(chunk.slice());
        sent += 1;
      } else {
        if (tail) controller.enqueue(encoder.encode(tail));
        controller.close();
      }
    },
  });
}

describe("the Excel report and the CSV export of the bill", () => {
  const basic = cases.basic;
  // The workbook the native command line wrote (tests/tests/xlsx.rs), as a data URL.
  const golden = Object.values(
    import.meta.glob("../../tests/fixtures/cases/basic/xlsx/cost.xlsx", {
      query: "?inline",
      import: "default",
      eager: true,
    }),
  )[0];
  const goldenBytes = Uint8Array.from(atob(golden.split(",")[1]), (c) => c.charCodeAt(0));
  const withAccount = () => {
    const form = fixtureForm(basic);
    form.append("account_name", "Acme Logistics");
    return form;
  };
  const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

  it("?format=xlsx answers the command line's workbook, byte for byte", async () => {
    const res = await call("/api/cost?format=xlsx", { method: "POST", body: withAccount() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(XLSX);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="simopt-cost.xlsx"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(goldenBytes.length);
    expect(bytes).toEqual(goldenBytes);
  });

  it("an Accept header of the xlsx type asks for it too", async () => {
    const res = await postCost(withAccount(), { accept: XLSX });
    expect(res.headers.get("content-type")).toBe(XLSX);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(goldenBytes);
  });

  it("?format=csv answers one row per SIM", async () => {
    const res = await call("/api/cost?format=csv", { method: "POST", body: fixtureForm(basic) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toMatch(/^iccid,msisdn,comm_plan,usage_mb,/);
    expect(lines.length).toBe(basic["sims.csv"].trim().split("\n").length);
  });

  it("an unknown format is a 400", async () => {
    const res = await call("/api/cost?format=pdf", { method: "POST", body: fixtureForm(basic) });
    await expectError(res, 400, "bad-format");
  });
});
