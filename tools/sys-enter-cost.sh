#!/usr/bin/env bash
# What the eBPF counter costs a filtered process per syscall
# (BENCHMARKS.md, "Containers"): busybox dd bs=1 count=500000 (1,000,000
# syscalls) under a seccomp filter (`syscage run --deny acct`), median of
# RUNS (default 7) wall times, side by side in one run: with nothing on
# sys_enter, with an empty program there (the tracepoint's own cost), and
# with syscage's counter (the tracepoint and the counting).
# Run as root from the repository: tools/sys-enter-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
cargo build --release -q -p syscage-cli
cargo build --release -q -p syscage-linux --example sys_enter_hold
python3 - "$RUNS" <<'PY'
import statistics, subprocess, sys, time
runs = int(sys.argv[1])
cmd = ["target/release/syscage", "run", "--deny", "acct", "--",
       "/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=500000"]
def median():
    ts = []
    for _ in range(runs):
        s = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)
def held(mode):
    if mode == "nothing":
        return median()
    p = subprocess.Popen(["target/release/examples/sys_enter_hold", mode, "600"],
                         stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            sys.exit(f"sys_enter_hold {mode} did not attach")
        return median()
    finally:
        p.kill()
        p.wait()
base = None
print("| on sys_enter | 1,000,000 filtered syscalls | per call, over nothing |")
print("| --- | ---: | ---: |")
for mode in ["nothing", "empty", "counter"]:
    t = held(mode)
    base = t if base is None else base
    # seconds over 1,000,000 calls: the difference in s is µs per call
    extra = "" if mode == "nothing" else f"{t - base:.3f} µs"
    print(f"| {mode} | {t:.3f} s | {extra} |")
PY
