# shellcheck shell=bash
# Source me: what scripts/bench-cost, bench-xlsx and bench-wasm share — the settings they run
# `simopt` with on a generated fleet, and the measuring of one child process.

# fleet_args DIR: sets FLEET_ARGS to the fleet's files in DIR (from `simopt gen`) and the period,
# time zone and as-of of `simopt bench`.
fleet_args() {
  # shellcheck disable=SC2034  # read by the scripts that source this file
  FLEET_ARGS=(--sims "$1/sims.csv" --plans "$1/plans.csv" --eligibility "$1/eligibility.csv"
              --period-end 2026-11-22T00:00 --tz America/New_York --as-of 2026-11-20T12:00)
}

# measure LABEL COMMAND...: runs COMMAND (its standard output discarded) and prints
# "  LABEL  WALL s   peak MB MB"; fails, saying "LABEL: exit CODE", when the command fails.
measure() { _bench_measure line "$@"; }

# measure_raw COMMAND...: runs COMMAND, prints its standard output, then "WALL PEAK" (seconds,
# MB) as the last line; fails, with the command's stderr shown, when the command fails.
measure_raw() { _bench_measure raw "$1" "$@"; }

# _bench_measure line|raw LABEL COMMAND...: the wall time and the peak resident memory of the
# child process (its own, not this shell's).
_bench_measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
mode, label, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = mode == "raw"
t = time.perf_counter()
r = subprocess.run(cmd, stdout=subprocess.PIPE if raw else subprocess.DEVNULL, text=raw)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if raw:
    sys.stdout.write(r.stdout)
if r.returncode != 0:
    sys.exit(f"{label}: exit {r.returncode}")
if raw:
    print(f"{wall:.3f} {peak:.0f}")
else:
    print(f"  {label:<28} {wall:7.2f} s   peak {peak:6.0f} MB")
PY
}
