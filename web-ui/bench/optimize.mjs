#!/usr/bin/env node
// Benchmark of the optimizer compiled to wasm, in Node (20 or later; no npm dependencies).
// Loads the `--target web` module that scripts/build-web writes into web-ui/pkg/ (initSync
// with the .wasm bytes read from disk), reads sims.csv, plans.csv and eligibility.csv of a fleet
// folder (as `simopt gen` writes it), starts an OptimizeJob with the settings `simopt bench` uses,
// runs it in slices of `runSlice({ maxMillis })` until finished, and prints one line: SIMs,
// plans, wall seconds (load and optimize apart), slices, the longest slice, the optimized cost,
// the lower bound, the gap and peak memory. Exits 1 with a message on any error.
//
//   node web-ui/bench/optimize.mjs FLEET_DIR [--json OUT] [--slices OUT.tsv] [--slice-ms 50]
//        [--pkg DIR] [--period-end 2026-11-22T00:00] [--tz America/New_York]
//        [--as-of 2026-11-20T12:00]
//
// --json OUT writes the job's toJson() document (the same as `simopt optimize --json`);
// --slices OUT.tsv writes one row per slice (its number, milliseconds, the phase it started in
// and the one it ended in, progress.done), to see which phase a long slice belongs to.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const HERE = dirname(fileURLToPath(import.meta.url));
const USAGE =
  "usage: node web-ui/bench/optimize.mjs FLEET_DIR [--json OUT] [--slices OUT.tsv] [--slice-ms 50]\n" +
  "       [--pkg DIR] [--period-end YYYY-MM-DDTHH:MM] [--tz ZONE] [--as-of YYYY-MM-DDTHH:MM]";

class UsageError extends Error {}

function parseArgs(argv) {
  const args = {
    fleet: null,
    json: null,
    slices: null,
    sliceMs: 50,
    pkg: join(HERE, "..", "pkg"),
    periodEnd: "2026-11-22T00:00",
    timeZone: "America/New_York",
    asOf: "2026-11-20T12:00",
  };
  const valued = {
    "--json": "json",
    "--slices": "slices",
    "--slice-ms": "sliceMs",
    "--pkg": "pkg",
    "--period-end": "periodEnd",
    "--tz": "timeZone",
    "--as-of": "asOf",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (a in valued) {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      args[valued[a]] = argv[++i];
    } else if (a.startsWith("-")) {
      throw new UsageError(`unknown option ${a}`);
    } else if (args.fleet === null) {
      args.fleet = a;
    } else {
      throw new UsageError(`unexpected argument ${a}`);
    }
  }
  if (args.fleet === null) throw new UsageError("give the fleet folder");
  const ms = Number(args.sliceMs);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--slice-ms ${args.sliceMs} is not a positive number`);
  args.sliceMs = ms;
  return args;
}

/** Lines after the header (the generated CSV has no quoted line breaks). */
function dataRows(bytes) {
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) lines++;
  return Math.max(0, lines - 1);
}

/** An error thrown by the wasm API (an InputError's message already lists its diagnostics). */
function describe(error) {
  return `${error?.name ?? "Error"}: ${error?.message ?? String(error)}`;
}

const mb = (bytes) => (bytes / 1048576).toFixed(0);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();

  // The module, as the page loads it but from disk.
  const glue = join(args.pkg, "simopt_wasm.js");
  const wasmFile = join(args.pkg, "simopt_wasm_bg.wasm");
  for (const f of [glue, wasmFile]) {
    if (!existsSync(f)) throw new Error(`${f} is missing; run scripts/build-web first`);
  }
  const pkg = await import(pathToFileURL(resolve(glue)).href);
  const wasm = pkg.initSync({ module: readFileSync(wasmFile) });
  const { OptimizeJob } = pkg;
  const tInit = performance.now();

  // The files, as bytes (the page passes bytes too, so the core checks the encoding).
  const file = (name, required) => {
    const path = join(args.fleet, name);
    if (!existsSync(path)) {
      if (required) throw new Error(`${path} is missing (generate the fleet with \`simopt gen\`)`);
      return null;
    }
    return { name, bytes: readFileSync(path) };
  };
  const files = {
    sims: file("sims.csv", true),
    plans: file("plans.csv", true),
    eligibility: file("eligibility.csv", false),
  };
  const simRows = dataRows(files.sims.bytes);
  const planRows = dataRows(files.plans.bytes);
  const settings = { periodEnd: args.periodEnd, timeZone: args.timeZone, asOf: args.asOf };
  const tRead = performance.now();

  // Load: parse and validate the files, build the fleet (one blocking call, not sliced).
  const job = OptimizeJob.start(files, settings, { method: "default" });
  const tLoad = performance.now();

  // Optimize in slices.
  let slices = 0;
  let longest = 0;
  let longestPhase = "";
  let over = 0; // slices longer than twice their budget
  let phase = job.progress.phase;
  const log = args.slices === null ? null : ["slice\tms\tphase_start\tphase_end\tdone"];
  for (;;) {
    const s0 = performance.now();
    const slice = job.runSlice({ maxMillis: args.sliceMs });
    const took = performance.now() - s0;
    slices++;
    if (took > longest) {
      longest = took;
      longestPhase = phase === slice.progress.phase ? phase : `${phase} -> ${slice.progress.phase}`;
    }
    if (took > 2 * args.sliceMs) over++;
    log?.push([slices, took.toFixed(1), phase, slice.progress.phase, slice.progress.done.toFixed(4)].join("\t"));
    phase = slice.progress.phase;
    if (slice.finished) break;
  }
  const tOpt = performance.now();
  if (log !== null) writeFileSync(args.slices, log.join("\n") + "\n");

  const result = job.result();
  if (!result.complete) throw new Error("the job finished but its result is not complete");
  // Memory of the optimization itself, before the document (which grows both a lot).
  const rssOpt = process.resourceUsage().maxRSS * 1024;
  const wasmOpt = wasm.memory.buffer.byteLength;
  let tJson = tOpt;
  if (args.json !== null) {
    writeFileSync(args.json, job.toJson());
    tJson = performance.now();
  }
  const wasmBytes = wasm.memory.buffer.byteLength;
  job.free();

  const sec = (a, b) => ((b - a) / 1000).toFixed(2);
  const gap = result.gap === null ? "n/a" : `${(result.gap * 100).toFixed(3)} %`;
  const parts = [
    `wasm   ${simRows} SIMs ${planRows} plans`,
    `init ${sec(t0, tInit)} s`,
    `read ${sec(tInit, tRead)} s`,
    `load ${sec(tRead, tLoad)} s`,
    `optimize ${sec(tLoad, tOpt)} s`,
    ...(args.json !== null ? [`json ${sec(tOpt, tJson)} s`] : []),
    `slices ${slices} (${args.sliceMs} ms budget; longest ${longest.toFixed(0)} ms in ${longestPhase}; ${over} over 2x)`,
    `cost ${result.optimizedCost}`,
    `bound ${result.lowerBound ?? "n/a"}`,
    `gap ${gap}`,
    ...(args.json !== null
      ? [`peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} MB (${mb(rssOpt)} before json)`,
         `wasm memory ${mb(wasmBytes)} MB (${mb(wasmOpt)} before json)`]
      : [`peak RSS ${mb(rssOpt)} MB`, `wasm memory ${mb(wasmOpt)} MB`]),
  ];
  console.log(parts.join("  "));
}

main().catch((error) => {
  if (error instanceof UsageError) {
    console.error(`optimize.mjs: ${error.message}\n${USAGE}`);
  } else {
    console.error(`optimize.mjs: ${describe(error)}`);
  }
  process.exit(1);
});
