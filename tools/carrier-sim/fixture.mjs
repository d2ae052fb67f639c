// The simulator as tests and the demo use it: its rate plans as an account's plans and
// eligibility files, and a simulator started on a free port of 127.0.0.1 (stopped by its
// process id). A test fixture, like the simulator: production code never imports it.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SIM = join(dirname(fileURLToPath(import.meta.url)), "sim.mjs");

// The simulator's rate plans (tools/carrier-sim/sim.mjs), as the account's plans: plan_id is
// the carrier's rate plan name, so synced SIMs and pushed changes name the same plans.
export const PLANS = `plan_id,name,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate
Tracker 1MB,Tracker 1MB,1.00,1,0.80,1,false,,0.02
Tracker 5MB,Tracker 5MB,2.50,5,0.40,1,false,,0.02
Tracker Pool 10MB,Tracker Pool 10MB,3.00,10,0.30,1,true,POOL-T,0.02
Meter 500KB,Meter 500KB,0.60,0.5,1.00,1,false,,0.02
Meter 2MB,Meter 2MB,1.10,2,0.50,1,false,,0.02
Camera 100MB,Camera 100MB,6.00,100,0.08,1,false,,0.02
Camera 500MB,Camera 500MB,14.00,500,0.05,1,false,,0.02
Camera 1GB,Camera 1GB,22.00,1024,0.03,1,false,,0.02
Gateway 1GB,Gateway 1GB,20.00,1024,0.02,1,false,,0.02
Gateway 5GB,Gateway 5GB,55.00,5120,0.01,1,false,,0.02
Gateway Pool 10GB,Gateway Pool 10GB,90.00,10240,0.01,1,true,POOL-G,0.02
`;
export const ELIGIBILITY = `comm_plan,plan_id
${[
  ["CP Tracker", ["Tracker 1MB", "Tracker 5MB", "Tracker Pool 10MB"]],
  ["CP Meter", ["Meter 500KB", "Meter 2MB"]],
  ["CP Camera", ["Camera 100MB", "Camera 500MB", "Camera 1GB"]],
  ["CP Gateway", ["Gateway 1GB", "Gateway 5GB", "Gateway Pool 10GB"]],
]
  .flatMap(([cp, plans]) => plans.map((p) => `${cp},${p}`))
  .join("\n")}
`;

/** tools/carrier-sim on a free port of 127.0.0.1, stopped by its process id. */
export async function startSim(args) {
  const child = spawn(process.execPath, [SIM, "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (t) => {
      out += t;
      const m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`carrier-sim exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const control = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return res.json();
  };
  return { child, port, base, control, stop: () => child.kill("SIGTERM") };
}
