#!/usr/bin/env bash
# Container numbers for BENCHMARKS.md ("Containers"): per workload, the
# syscalls a profile recorded through Docker allows against Docker's
# default profile (and through podman); and the wall time of `syscage record -- runc run …`
# (eBPF counter and audit recorders) against the plain `runc run …` for a
# syscall-heavy workload (busybox dd, bs=1: two syscalls per byte), side by
# side in one run (tools/container-record-cost.sh).
# Run as root from the repository: tools/container-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p syscage-cli
S=$PWD/target/release/syscage
W=$(mktemp -d /tmp/syscage-bench-XXXXXX)
export XDG_CACHE_HOME=$W/cache PATH=/usr/bin:/usr/sbin:$PATH
cleanup() {
  [ -f "$W/d/pid" ] && kill "$(cat "$W/d/pid")" 2>/dev/null && sleep 3
  rm -rf "$W"
}
trap cleanup EXIT

# The root filesystem: busybox-static and Debian's python3 (libraries via ldd).
R=$W/rootfs
mkdir -p "$R"/{bin,tmp,proc,dev,sys,etc}
cp /bin/busybox "$R/bin/"
for a in sh echo ls mkdir cat ping seq sort head tr dd; do ln -s busybox "$R/bin/$a"; done
copy() { mkdir -p "$R$(dirname "$1")"; cp -L "$1" "$R$1"; }
copy /usr/bin/python3
for l in $(ldd /usr/bin/python3 | grep -o '/[^ ]*'); do copy "$l"; done
for f in $(/usr/bin/python3 -S -c 'import os, threading, sys
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f: print(f)'); do copy "$f"; done

# Docker: syscalls allowed per workload.
mkdir -p "$W/d"
dockerd --data-root "$W/d/data" --exec-root "$W/d/exec" --pidfile "$W/d/pid" \
  -H "unix://$W/d/sock" --storage-driver vfs --iptables=false --bridge=none \
  --containerd-namespace syscage-bench --containerd-plugins-namespace syscage-bench-p \
  >"$W/d/log" 2>&1 &
export DOCKER_HOST=unix://$W/d/sock
until docker version >/dev/null 2>&1; do sleep 0.5; done
tar -C "$R" -c . | docker import - bench:1 >/dev/null
default=$($S compile crates/syscage/profiles/default.json -f json 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(len({n for e in d["syscalls"] if e["action"]=="SCMP_ACT_ALLOW" for n in e["names"]}))')
count() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len({n for e in d["syscalls"] if e["action"]=="SCMP_ACT_ALLOW" for n in e["names"]}))' "$1"; }
echo "| workload | recorded through Docker | of which only the runtime's | Docker's default profile |"
echo "| --- | ---: | ---: | ---: |"
run_one() {
  local name=$1; shift
  $S record -o "$W/$name.json" -- docker run --rm --network none bench:1 "$@" >/dev/null 2>&1
  local rt
  rt=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len({n for e in d["syscalls"] if "runtime" in (e.get("comment") or "") for n in e["names"]}))' "$W/$name.json")
  echo "| $name | $(count "$W/$name.json") | $rt | $default |"
}
run_one shell /bin/sh -c 'mkdir -p /tmp/d/e && echo x > /tmp/d/e/f && ls /tmp/d && cat /tmp/d/e/f'
run_one ping /bin/ping -c1 127.0.0.1
run_one pipeline /bin/sh -c "seq 1 200 | sort -rn | head -3"
run_one python /usr/bin/python3 -S -B -c 'import os; print(sum(range(10)))'
run_one threads /usr/bin/python3 -S -B -c 'import threading; t = threading.Thread(target=print); t.start(); t.join()'

# podman (its default OCI runtime, crun on Debian): the same workloads,
# with a private vfs store and rlimits this process may set (podman's
# default raises RLIMIT_NOFILE/NPROC, which needs CAP_SYS_RESOURCE).
if command -v podman >/dev/null 2>&1; then
  mkdir -p "$W/p"
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=1000:1000"]\n' \
    "$(ulimit -Hn)" "$(ulimit -Hn)" >"$W/p/containers.conf"
  export CONTAINERS_CONF=$W/p/containers.conf
  P=(podman --root "$W/p/store" --runroot "$W/p/run" --storage-driver vfs)
  tar -C "$R" -c . >"$W/p/image.tar"
  "${P[@]}" import "$W/p/image.tar" bench:1 >/dev/null 2>&1
  echo
  echo "| workload | recorded through podman | of which only the runtime's |"
  echo "| --- | ---: | ---: |"
  prun_one() {
    local name=$1; shift
    $S record -o "$W/p-$name.json" -- "${P[@]}" run --rm --network none "$@" >/dev/null 2>&1
    local rt
    rt=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len({n for e in d["syscalls"] if "runtime" in (e.get("comment") or "") for n in e["names"]}))' "$W/p-$name.json")
    echo "| $name | $(count "$W/p-$name.json") | $rt |"
  }
  prun_one shell bench:1 /bin/sh -c 'mkdir -p /tmp/d/e && echo x > /tmp/d/e/f && ls /tmp/d && cat /tmp/d/e/f'
  prun_one ping --cap-add NET_RAW bench:1 /bin/ping -c1 127.0.0.1
  prun_one pipeline bench:1 /bin/sh -c "seq 1 200 | sort -rn | head -3"
  prun_one python bench:1 /usr/bin/python3 -S -B -c 'import os; print(sum(range(10)))'
  prun_one threads bench:1 /usr/bin/python3 -S -B -c 'import threading; t = threading.Thread(target=print); t.start(); t.join()'
  "${P[@]}" rm -af >/dev/null 2>&1 || true
  "${P[@]}" system reset -f >/dev/null 2>&1 || true
fi

# Recording cost for syscall-heavy workloads, with each recorder, under
# runc and Docker (the daemon above).
echo
DOCKER_IMAGE=bench:1 tools/container-record-cost.sh

# A typical container: the shell workload under Docker, the three runs
# interleaved round by round (RUNS rounds, default 5), median of each.
echo
echo "| run (docker, shell workload) | wall time, median of ${RUNS:-5} rounds |"
echo "| --- | ---: |"
sh_cmd='mkdir -p /tmp/d/e && echo x > /tmp/d/e/f && ls /tmp/d && cat /tmp/d/e/f'
python3 - "${RUNS:-5}" "$S" "$W/sh.json" "$sh_cmd" <<'PY'
import os, statistics, subprocess, sys, time
runs, s, out, sh = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
docker = ["docker", "run", "--rm", "--network", "none", "bench:1", "/bin/sh", "-c", sh]
rows = [
    ("docker run", docker, {}),
    ("syscage record -- docker run, eBPF counter", [s, "record", "-o", out, "--"] + docker, {"SYSCAGE_CONTAINER_RECORDER": "ebpf"}),
    ("syscage record -- docker run, audit records", [s, "record", "-o", out, "--"] + docker, {"SYSCAGE_CONTAINER_RECORDER": "audit"}),
]
times = [[] for _ in rows]
for _ in range(runs):
    for i, (_, cmd, env) in enumerate(rows):
        t = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        times[i].append(time.monotonic() - t)
for (label, _, _), ts in zip(rows, times):
    print(f"| {label} | {statistics.median(ts):.2f} s |")
PY
