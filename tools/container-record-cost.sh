#!/usr/bin/env bash
# What recording a container costs (BENCHMARKS.md, "Containers"), side by
# side in one run, median of RUNS (default 5) wall times: a syscall-heavy
# runc container (busybox dd bs=1 count=100000: 200,000 syscalls) run
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
for a in sh true dd; do ln -s busybox "$R/bin/$a"; done
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
DD='["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"]'
COUNTING='{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_LOG"}]}'
bundle "$W/dd" "$DD"
bundle "$W/dd-counting" "$DD" "$COUNTING"
bundle "$W/true" '["/bin/true"]'
# Measure runc once, outside the timing (cached per runc version).
$S record --for runc -o "$W/true.json" -- /bin/true >/dev/null 2>&1

median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
t() { python3 -c 'import subprocess, sys, time; s = time.monotonic(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(f"{time.monotonic() - s:.3f}" if r.returncode == 0 else "failed")' "$@"; }
times() { for _ in $(seq "$RUNS"); do t "$@"; done | median; }
rec() { # RECORDER BUNDLE
  times env SYSCAGE_CONTAINER_RECORDER="$1" $S record -f oci -o "$W/p.json" -- runc --root "$W/state" run --bundle "$2" "cost-$1"
}
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(runc --version | head -1), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | busybox dd bs=1 count=100000 (200,000 syscalls) | busybox true |"
echo "| --- | ---: | ---: |"
echo "| runc run | $(times runc --root "$W/state" run --bundle "$W/dd" cost-plain) s | $(times runc --root "$W/state" run --bundle "$W/true" cost-plain) s |"
echo "| runc run, counting profile, no counter | $(times runc --root "$W/state" run --bundle "$W/dd-counting" cost-counting) s | |"
echo "| syscage record -- runc run, eBPF counter | $(rec ebpf "$W/dd") s | $(rec ebpf "$W/true") s |"
echo "| syscage record -- runc run, audit records | $(rec audit "$W/dd") s | $(rec audit "$W/true") s |"

# Docker, if DOCKER_IMAGE names an image with busybox's dd (the daemon is
# the one docker talks to: DOCKER_HOST).
if [ -n "${DOCKER_IMAGE:-}" ]; then
  D=(docker run --rm --network none "$DOCKER_IMAGE" /bin/dd if=/dev/zero of=/dev/null bs=1 count=100000)
  drec() { times env SYSCAGE_CONTAINER_RECORDER="$1" $S record -o "$W/p.json" -- "${D[@]}"; }
  echo
  echo "| run (Docker $(docker version --format '{{.Server.Version}}')) | busybox dd bs=1 count=100000 |"
  echo "| --- | ---: |"
  echo "| docker run | $(times "${D[@]}") s |"
  echo "| syscage record -- docker run, eBPF counter | $(drec ebpf) s |"
  echo "| syscage record -- docker run, audit records | $(drec audit) s |"
fi
