#!/usr/bin/env bash
# Analysis numbers for BENCHMARKS.md ("Analysis"): wall time of
# `syscage explain`, `syscage decompile` and `syscage disasm` (release
# build) on every filter of testdata/filters/, side by side in one run with
# seccomp-tools' `disasm` and `emu` (pure Ruby) on the same files, each
# given a timeout. Prints a Markdown table, largest filters first.
#
# Run from the repository: tools/analysis-bench.sh [FILTER…]
#   ST_DIR      a seccomp-tools checkout (bin/ and lib/), outside this repo
#   ST_RUBYLIB  extra load path for Ruby (e.g. a stub for its optional C
#               extension `seccomp-tools/ptrace`, which disasm and emu do not
#               use)
#   RUNS        runs per command; the median is printed (5)
#   TIMEOUT     seconds before a command is stopped (60)
#   BASE        another syscage binary (e.g. a build of an earlier commit):
#               its explain and decompile get two more columns, measured
#               in the same run, right after this build's on each filter
#   CLOCK       wall (default): elapsed time; cpu: the process's CPU time
#               (perf stat's task-clock, so it needs perf), which depends
#               less on what else the machine runs
# seccomp-tools is never copied into this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p syscage-cli
S=$PWD/target/release/syscage
RUNS=${RUNS:-5}
TIMEOUT=${TIMEOUT:-60}
ST_DIR=${ST_DIR:-}
BASE=${BASE:-}
CLOCK=${CLOCK:-wall}
tfile=$(mktemp)
trap 'rm -f "$tfile"' EXIT
ruby_args=()
[ -n "${ST_RUBYLIB:-}" ] && ruby_args+=(-I "$ST_RUBYLIB")

# Median wall time in seconds of RUNS runs of "$@" (output discarded), or
# ">TIMEOUT s" / "exit N" when a run does not finish or fails.
median() {
  local times=() t0 t1 rc
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    rc=0
    if [ "$CLOCK" = cpu ]; then
      timeout "$TIMEOUT" perf stat -x, -e task-clock -o "$tfile" "$@" >/dev/null 2>&1 || rc=$?
    else
      timeout "$TIMEOUT" "$@" >/dev/null 2>&1 || rc=$?
    fi
    t1=$(date +%s.%N)
    if [ "$rc" = 124 ]; then echo ">${TIMEOUT} s"; return; fi
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then echo "exit $rc"; return; fi
    if [ "$CLOCK" = cpu ]; then
      times+=("$(awk -F, '$3 ~ /^task-clock/ {print $1 / 1000}' "$tfile")")
    else
      times+=("$(echo "$t1 - $t0" | bc)")
    fi
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f s\n", a[int((NR+1)/2)]}'
}

if [ $# -gt 0 ]; then files=("$@"); else
  mapfile -t files < <(ls -S testdata/filters/*.bpf)
fi
head="| filter | insns | explain | decompile | disasm"
rule="|---|---|---|---|---"
if [ -n "$BASE" ]; then
  head="$head | explain (BASE) | decompile (BASE)"
  rule="$rule|---|---"
fi
echo "$head | seccomp-tools disasm | seccomp-tools emu |"
echo "$rule|---|---|"
for f in "${files[@]}"; do
  insns=$(($(stat -c %s "$f") / 8))
  row="| $(basename "$f") | $insns | $(median "$S" explain "$f") | $(median "$S" decompile "$f") | $(median "$S" disasm "$f")"
  if [ -n "$BASE" ]; then
    row="$row | $(median "$BASE" explain "$f") | $(median "$BASE" decompile "$f")"
  fi
  if [ -n "$ST_DIR" ]; then
    st=(ruby "${ruby_args[@]}" -I "$ST_DIR/lib" "$ST_DIR/bin/seccomp-tools")
    # emu: syscall 0 with zero arguments (seccomp-tools' default arch, amd64).
    row="$row | $(median "${st[@]}" disasm "$f") | $(median "${st[@]}" emu -q "$f" 0)"
  else
    row="$row | – | –"
  fi
  echo "$row |"
done
