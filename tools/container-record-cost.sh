#!/usr/bin/env bash
# What recording a container costs (BENCHMARKS.md, "Containers"), side by
# side in one run, median of RUNS (default 5) wall times, the runs
# interleaved (each round runs every configuration once, so a change in
# the machine's load falls on all of them alike): syscall-heavy runc
# containers (busybox dd bs=1 count=100000 and 500000: 200,000 and
# 1,000,000 syscalls) run
#   - plainly (`runc run`),
#   - under the counting profile with nobody counting (what the filter
#     itself costs),
#   - under `syscage record` with the eBPF counter (the default),
#   - under `syscage record` with the audit recorder
#     (SYSCAGE_CONTAINER_RECORDER=audit),
# and a trivial container (`true`) under both, what recording costs
# whatever the container does.
# Run as root from the repository: tools/container-record-cost.sh
# (DOCKER_IMAGE=IMAGE: Docker too, IMAGE holding busybox at /bin/dd)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release -q -p syscage-cli
S=$PWD/target/release/syscage
W=$(mktemp -d /tmp/syscage-cost-XXXXXX)
export XDG_CACHE_HOME=$W/cache PATH=/usr/bin:/usr/sbin:$PATH
trap 'rm -rf "$W"' EXIT

R=$W/rootfs
mkdir -p "$R"/{bin,tmp,proc,dev,sys,etc}
cp /bin/busybox "$R/bin/"
for a in sh true dd tar gzip find wc cat; do ln -s busybox "$R/bin/$a"; done
# The recorder benchmark's files (benches/record.sh): 30 directories of
# 100 small files.
for d in $(seq 1 30); do
  mkdir -p "$R/data/d$d"
  for f in $(seq 1 100); do
    printf 'line %d of file %d in dir %d\n' $(seq 1 20) "$f" "$d" > "$R/data/d$d/f$f.txt"
  done
done
bundle() { # DIR ARGS_JSON [SECCOMP_JSON]
  mkdir -p "$1"
  runc spec --bundle "$1"
  python3 - "$1/config.json" "$R" "$2" "${3:-}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": False}
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(sys.argv[3])
if sys.argv[4]:
    c["linux"]["seccomp"] = json.loads(sys.argv[4])
json.dump(c, open(sys.argv[1], "w"))
PY
}
# The workloads (columns): 200,000 and 1,000,000 of the cheapest
# syscalls; the recorder benchmark's workload (benches/record.sh: tar |
# gzip, find | wc, find -exec cat, gzip -d | tar -t over 3,000 small
# files); none.
WORKLOADS=(
  '["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"]'
  '["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=500000"]'
  '["/bin/sh", "-c", "set -e; tar -cf - -C /data . | gzip -1 > /tmp/a.tgz; find /data -type f | wc -l > /dev/null; find /data -type f -exec cat {} + > /dev/null; gzip -dc /tmp/a.tgz | tar -tf - > /dev/null"]'
  '["/bin/true"]'
)
COUNTING='{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_LOG"}]}'
for i in "${!WORKLOADS[@]}"; do
  bundle "$W/w$i" "${WORKLOADS[$i]}"
  bundle "$W/w$i-counting" "${WORKLOADS[$i]}" "$COUNTING"
done
# Measure runc once, outside the timing (cached per runc version).
$S record --for runc -o "$W/true.json" -- /bin/true >/dev/null 2>&1

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(runc --version | head -1), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Each row: a label, then a command per workload, as a JSON array per
# line ("-": not measured), timed round-robin by the Python below.
rows() {
  local rc="runc --root $W/state run --bundle" rec="$S record -f oci -o $W/p.json --"
  local a=() b=() c=() d=()
  for i in "${!WORKLOADS[@]}"; do
    a+=("\"$rc $W/w$i c-a$i\"")
    b+=("\"$rc $W/w$i-counting c-b$i\"")
    c+=("\"env SYSCAGE_CONTAINER_RECORDER=ebpf $rec $rc $W/w$i c-c$i\"")
    d+=("\"env SYSCAGE_CONTAINER_RECORDER=audit $rec $rc $W/w$i c-d$i\"")
  done
  local IFS=,
  echo "[\"runc run\", ${a[*]}]"
  echo "[\"runc run, counting profile, no counter\", ${b[*]}]"
  echo "[\"syscage record -- runc run, eBPF counter\", ${c[*]}]"
  # The audit recorder takes 11 µs a call: not on a million calls.
  echo "[\"syscage record -- runc run, audit records\", ${d[0]}, \"-\", ${d[2]}, ${d[3]}]"
  # Docker, if DOCKER_IMAGE names an image with busybox's dd (the daemon
  # is the one docker talks to: DOCKER_HOST).
  if [ -n "${DOCKER_IMAGE:-}" ]; then
    local dr="docker run --rm --network none $DOCKER_IMAGE /bin/dd if=/dev/zero of=/dev/null bs=1"
    local e=("\"$dr count=100000\"" "\"$dr count=500000\"" "\"-\"" "\"-\"")
    echo "[\"docker run\", ${e[*]}]"
    echo "[\"syscage record -- docker run, eBPF counter\", \"env SYSCAGE_CONTAINER_RECORDER=ebpf $S record -o $W/p.json -- $dr count=100000\", \"env SYSCAGE_CONTAINER_RECORDER=ebpf $S record -o $W/p.json -- $dr count=500000\", \"-\", \"-\"]"
    echo "[\"syscage record -- docker run, audit records\", \"env SYSCAGE_CONTAINER_RECORDER=audit $S record -o $W/p.json -- $dr count=100000\", \"-\", \"-\", \"-\"]"
  fi
}
rows | python3 -c '
import json, statistics, subprocess, sys, time
runs = int(sys.argv[1])
rows = [json.loads(l) for l in sys.stdin]
cells = [(r, c) for r in range(len(rows)) for c in range(1, len(rows[r])) if rows[r][c] != "-"]
times = {cell: [] for cell in cells}
for _ in range(runs):
    for r, c in cells:
        s = time.monotonic()
        ok = subprocess.run(rows[r][c].split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        times[(r, c)].append(time.monotonic() - s if ok else float("inf"))
def median(r, c):
    return statistics.median(times[(r, c)]) if (r, c) in times else None
def cell(r, c):
    m = median(r, c)
    if m is None:
        return ""
    if m == float("inf"):
        return "failed"
    # Against the plain run of the same runtime: the first row of its group.
    base = median(0 if r < 4 else 4, c)
    return f"{m:.3f} s" if r in (0, 4) or base is None else f"{m:.3f} s ({m / base:.2f}×)"
print("| run | busybox dd bs=1 count=100000 (200,000 syscalls) | dd count=500000 (1,000,000 syscalls) | tar, gzip, find, cat over 3,000 files | busybox true |")
print("| --- | ---: | ---: | ---: | ---: |")
for r, row in enumerate(rows):
    print("| " + row[0] + " | " + " | ".join(cell(r, c) for c in range(1, 5)) + " |")
' "$RUNS"
