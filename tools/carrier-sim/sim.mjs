#!/usr/bin/env node
// carrier-sim: a local stand-in for a Cisco IoT Control Center REST API (/rws/api/v1), for tests
// and the demo. A test fixture: production code never depends on it. No dependencies.
//
//   node tools/carrier-sim/sim.mjs [--port 0] [--devices 1000] [--seed 1] [--user sim]
//        [--key sim-key] [--latency-ms 0] [--error-rate 0] [--rate-429 0] [--retry-after 1]
//        [--lost-answer-rate 0] [--changes-per-minute 0] [--page-size 50]
//
// Listens on 127.0.0.1 only and prints `carrier-sim listening on 127.0.0.1:<port>` once ready
// (port 0: any free port). Fault injection (--error-rate: answers 500; --rate-429: answers 429
// with Retry-After; --lost-answer-rate: a rate plan change is applied but answered 500, as when
// an answer is lost) applies to API calls, never to the control endpoints:
//
//   GET  /_sim/devices   every device (the simulator's own truth, for comparisons)
//   GET  /_sim/changes   every rate plan change applied, in order (to prove exactly-once)
//   GET  /_sim/stats     request counts by status
//   POST /_sim/config    {"errorRate", "rate429", "retryAfter", "latencyMs", "changesPerMinute",
//                         "lostAnswerRate"}
//   POST /_sim/touch     {"count": n} or {"iccids": [...]}: modify devices now (new usage)
//   POST /_sim/set-plan  {"iccid", "ratePlan"}: move a device without counting a change
//
// --changes-per-minute n: more than n rate plan changes in any 60 s answer 429 with the
// Retry-After that frees a slot.

import http from 'node:http';

const args = parseArgs(process.argv.slice(2));
const config = {
  port: int(args.port, 0),
  devices: int(args.devices, 1000),
  seed: int(args.seed, 1),
  user: args.user ?? 'sim',
  key: args.key ?? 'sim-key',
  latencyMs: num(args['latency-ms'], 0),
  errorRate: num(args['error-rate'], 0),
  rate429: num(args['rate-429'], 0),
  retryAfter: int(args['retry-after'], 1),
  changesPerMinute: int(args['changes-per-minute'], 0),
  lostAnswerRate: num(args['lost-answer-rate'], 0),
  pageSize: int(args['page-size'], 50),
};

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) die(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}
function int(v, d) { if (v === undefined) return d; const n = Number.parseInt(v, 10); if (!Number.isFinite(n) || n < 0) die(`not a whole number: ${v}`); return n; }
function num(v, d) { if (v === undefined) return d; const n = Number(v); if (!Number.isFinite(n) || n < 0) die(`not a number: ${v}`); return n; }
function die(msg) { process.stderr.write(`carrier-sim: ${msg}\n`); process.exit(2); }

// mulberry32: seeded, so a fleet is the same every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(config.seed);
const faults = rng(config.seed ^ 0x5eed);

const COMM_PLANS = {
  'CP Tracker': ['Tracker 1MB', 'Tracker 5MB', 'Tracker Pool 10MB'],
  'CP Meter': ['Meter 500KB', 'Meter 2MB'],
  'CP Camera': ['Camera 100MB', 'Camera 500MB', 'Camera 1GB'],
  'CP Gateway': ['Gateway 1GB', 'Gateway 5GB', 'Gateway Pool 10GB'],
};
const PLAN_DETAILS = {
  'Tracker 1MB': ['Individual', '1.00', '1'], 'Tracker 5MB': ['Individual', '2.50', '5'],
  'Tracker Pool 10MB': ['Shared', '3.00', '10'], 'Meter 500KB': ['Individual', '0.60', '0.5'],
  'Meter 2MB': ['Individual', '1.10', '2'], 'Camera 100MB': ['Individual', '6.00', '100'],
  'Camera 500MB': ['Individual', '14.00', '500'], 'Camera 1GB': ['Individual', '22.00', '1024'],
  'Gateway 1GB': ['Individual', '20.00', '1024'], 'Gateway 5GB': ['Individual', '55.00', '5120'],
  'Gateway Pool 10GB': ['Shared', '90.00', '10240'],
};
const PLANS = new Set(Object.keys(PLAN_DETAILS));
const COMM_NAMES = Object.keys(COMM_PLANS);
const MB = 1048576;
const DAY = 86400000;
const BASE_MODIFIED = Date.UTC(2025, 0, 1);
const BASE_ACTIVATED = Date.UTC(2024, 0, 1);

function pick(list) { return list[Math.floor(random() * list.length)]; }

const devices = new Map(); // iccid -> device
for (let i = 0; i < config.devices; i++) {
  const iccid = `89012600${String(i).padStart(11, '0')}`;
  const comm = pick(COMM_NAMES);
  const plan = pick(COMM_PLANS[comm]);
  const r = random();
  const status = r < 0.9 ? 'ACTIVATED' : r < 0.95 ? 'DEACTIVATED' : r < 0.98 ? 'TEST_READY' : 'RETIRED';
  const scale = comm === 'CP Camera' ? 400 : comm === 'CP Gateway' ? 6000 : comm === 'CP Meter' ? 2 : 6;
  const usage = status === 'TEST_READY' ? 0 : Math.floor(random() * random() * scale * MB);
  devices.set(iccid, {
    iccid,
    msisdn: status === 'TEST_READY' ? null : `1${String(5550000000 + i * 7).padStart(10, '0')}`,
    status,
    ratePlan: plan,
    communicationPlan: comm,
    dateActivated: status === 'TEST_READY' ? null : BASE_ACTIVATED + Math.floor(random() * 900 * DAY),
    dateModified: BASE_MODIFIED + Math.floor(random() * 180 * DAY),
    ctdDataUsage: usage,
    ctdSMSUsage: Math.floor(random() * 30),
  });
}
// The search order: modification date ascending, then ICCID (stable pages).
let order = [...devices.values()].sort(byModified);
function byModified(a, b) { return a.dateModified - b.dateModified || (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0); }
function touch(device, now) {
  device.dateModified = Math.max(now, order.length ? order[order.length - 1].dateModified : now);
  const at = order.indexOf(device);
  if (at >= 0) order.splice(at, 1);
  order.push(device);
}

const changes = [];
const changeTimes = [];
const stats = { requests: 0, byStatus: {} };

function ccDate(ms) {
  if (ms === null || ms === undefined) return null;
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '+0000');
}
function summary(d) { return { iccid: d.iccid, status: d.status, ratePlan: d.ratePlan, communicationPlan: d.communicationPlan }; }
// The fields both device answers (details, usage) open with.
function identity(d) {
  return {
    iccid: d.iccid, imsi: `90116${d.iccid.slice(-10)}`, msisdn: d.msisdn, imei: null, status: d.status,
    ratePlan: d.ratePlan, communicationPlan: d.communicationPlan,
  };
}
function details(d) {
  return {
    ...identity(d), customer: null, endConsumerId: null,
    dateActivated: ccDate(d.dateActivated), dateAdded: ccDate(BASE_ACTIVATED), dateUpdated: ccDate(d.dateModified),
    dateShipped: ccDate(BASE_ACTIVATED), accountId: '100020620', fixedIPAddress: null, deviceID: null, modemID: null,
  };
}
function usage(d) {
  return {
    ...identity(d), ctdDataUsage: d.ctdDataUsage, ctdSMSUsage: d.ctdSMSUsage, ctdVoiceUsage: 0,
    ctdSessionCount: 3, overageLimitReached: false, overageLimitOverride: 'DEFAULT',
  };
}

function send(res, status, body, headers = {}) {
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
function error(res, status, code, message, headers) { send(res, status, { errorCode: code, errorMessage: message }, headers); }

function authorized(req) {
  const expected = 'Basic ' + Buffer.from(`${config.user}:${config.key}`).toString('base64');
  return req.headers.authorization === expected;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function control(req, res, path) {
  if (req.method === 'GET' && path === '/_sim/devices') return send(res, 200, [...devices.values()].sort((a, b) => (a.iccid < b.iccid ? -1 : 1)));
  if (req.method === 'GET' && path === '/_sim/changes') return send(res, 200, changes);
  if (req.method === 'GET' && path === '/_sim/stats') return send(res, 200, { ...stats, changes: changes.length, devices: devices.size });
  let body;
  try { body = JSON.parse((await readBody(req)) || '{}'); } catch { return error(res, 400, 'SIM', 'the body is not JSON'); }
  if (req.method === 'POST' && path === '/_sim/config') {
    for (const k of ['errorRate', 'rate429', 'retryAfter', 'latencyMs', 'changesPerMinute', 'lostAnswerRate']) {
      if (body[k] !== undefined) config[k] = Number(body[k]);
    }
    return send(res, 200, config);
  }
  if (req.method === 'POST' && path === '/_sim/touch') {
    const now = Date.now();
    let targets;
    if (Array.isArray(body.iccids)) targets = body.iccids.map((i) => devices.get(i)).filter(Boolean);
    else {
      const all = [...devices.values()];
      const pickFrom = rng(Number(body.seed ?? 99));
      const set = new Set();
      while (set.size < Math.min(Number(body.count ?? 1), all.length)) set.add(all[Math.floor(pickFrom() * all.length)]);
      targets = [...set];
    }
    for (const d of targets) {
      d.ctdDataUsage += 1000 + Math.floor(random() * MB);
      d.ctdSMSUsage += 1;
      touch(d, now);
    }
    return send(res, 200, targets.map((d) => d.iccid));
  }
  if (req.method === 'POST' && path === '/_sim/set-plan') {
    const d = devices.get(body.iccid);
    if (!d) return error(res, 404, 'SIM', `no device ${body.iccid}`);
    d.ratePlan = body.ratePlan;
    return send(res, 200, summary(d));
  }
  return error(res, 404, 'SIM', `no control endpoint ${req.method} ${path}`);
}

async function api(req, res, url) {
  stats.requests++;
  if (!authorized(req)) return error(res, 401, '10000001', 'Authentication failed.');
  const roll = faults();
  if (roll < config.rate429) return error(res, 429, '10000029', 'Too many requests.', { 'Retry-After': String(config.retryAfter) });
  if (roll < config.rate429 + config.errorRate) return error(res, 500, '10000000', 'Internal error (injected).');
  const path = url.pathname;
  const m = path.match(/^\/rws\/api\/v1\/devices(?:\/([^/]+))?(\/ctdUsages)?$/);
  if (req.method === 'GET' && path === '/rws/api/v1/rateplans') {
    const plans = [...PLANS].map((name) => ({ name, type: PLAN_DETAILS[name][0], subscriptionCharge: PLAN_DETAILS[name][1], includedData: PLAN_DETAILS[name][2] }));
    return send(res, 200, { pageNumber: 1, ratePlans: plans, lastPage: true });
  }
  if (!m) return error(res, 404, '10000024', `Resource not found: ${path}`);
  const iccid = m[1] ? decodeURIComponent(m[1]) : null;
  if (req.method === 'GET' && !iccid) {
    const sinceText = url.searchParams.get('modifiedSince');
    const since = sinceText === null ? 0 : Date.parse(sinceText);
    if (Number.isNaN(since)) return error(res, 400, '10000002', `Invalid modifiedSince: ${sinceText}`);
    const pageSize = Math.min(Number(url.searchParams.get('pageSize') ?? 50), config.pageSize);
    const pageNumber = Number(url.searchParams.get('pageNumber') ?? 1);
    if (!(pageSize >= 1) || !(pageNumber >= 1)) return error(res, 400, '10000002', 'Invalid paging.');
    let lo = 0, hi = order.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (order[mid].dateModified < since) lo = mid + 1; else hi = mid; }
    const from = lo + (pageNumber - 1) * pageSize;
    const page = order.slice(from, from + pageSize).map(summary);
    return send(res, 200, { pageNumber, devices: page, lastPage: from + pageSize >= order.length });
  }
  const device = iccid ? devices.get(iccid) : null;
  if (!device) return error(res, 404, '10000024', 'Resource not found - Invalid ICCID.');
  if (req.method === 'GET' && m[2]) return send(res, 200, usage(device));
  if (req.method === 'GET') return send(res, 200, details(device));
  if (req.method === 'PUT' && !m[2]) {
    let body;
    try { body = JSON.parse(await readBody(req)); } catch { return error(res, 400, '10000002', 'The body is not JSON.'); }
    if (typeof body.ratePlan !== 'string' || !PLANS.has(body.ratePlan)) return error(res, 400, '10000017', 'Invalid rate plan.');
    const now = Date.now();
    if (config.changesPerMinute > 0) {
      while (changeTimes.length && changeTimes[0] <= now - 60000) changeTimes.shift();
      if (changeTimes.length >= config.changesPerMinute) {
        const wait = Math.max(1, Math.ceil((changeTimes[0] + 60000 - now) / 1000));
        return error(res, 429, '10000029', 'Rate plan change limit reached.', { 'Retry-After': String(wait) });
      }
      changeTimes.push(now);
    }
    const effective = body.effectiveDate ? Date.parse(body.effectiveDate) : null;
    changes.push({ iccid, from: device.ratePlan, to: body.ratePlan, at: now, effectiveDate: effective });
    if (effective === null || effective <= now) {
      device.ratePlan = body.ratePlan;
      touch(device, now);
    }
    if (faults() < config.lostAnswerRate) return error(res, 500, '10000000', 'Internal error (injected after the change was applied).');
    return send(res, 200, { iccid });
  }
  return error(res, 405, '10000003', `Method ${req.method} not allowed.`);
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname.startsWith('/_sim/')) return await control(req, res, url.pathname);
    if (config.latencyMs > 0) await new Promise((r) => setTimeout(r, config.latencyMs));
    await api(req, res, url);
  } catch (e) {
    error(res, 500, 'SIM', `simulator failure: ${e && e.message}`);
  }
});
server.keepAliveTimeout = 60000;
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`carrier-sim listening on 127.0.0.1:${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
