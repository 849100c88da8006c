#!/usr/bin/env bash
# Recorder benchmark: wall time of a syscall-heavy workload (tar + gzip +
# find + cat over many small files) run plain, under `syscage record`
# (default: a seccomp listener), under `syscage record --via ptrace`, and
# under `strace -f -c`, interleaved in one run so all see the same
# machine load. Prints the median of ROUNDS runs of each and the time each
# tracer adds.
#
# Usage: benches/record.sh [ROUNDS] [FILES]   (defaults 7 and 3000)
# Needs: a release build (`cargo build --release -p syscage-cli`), strace.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
FILES=${2:-3000}
SYSCAGE=${SYSCAGE:-target/release/syscage}
[ -x "$SYSCAGE" ] || { echo "build first: cargo build --release -p syscage-cli" >&2; exit 2; }
command -v strace >/dev/null || { echo "strace is needed (apt-get install strace)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATA=$WORK/data
mkdir -p "$DATA"
for d in $(seq 1 30); do
  mkdir -p "$DATA/d$d"
  for f in $(seq 1 $((FILES / 30))); do
    printf 'line %d of file %d in dir %d\n' $(seq 1 20) "$f" "$d" > "$DATA/d$d/f$f.txt"
  done
done

cat > "$WORK/workload.sh" <<WL
set -e
tar -cf - -C "$DATA" . | gzip -1 > "$WORK/a.tgz"
find "$DATA" -type f | wc -l > /dev/null
find "$DATA" -type f -exec cat {} + > /dev/null
gzip -dc "$WORK/a.tgz" | tar -tf - > /dev/null
WL

now() { date +%s%N; }
time_one() { # prints elapsed ms
  local t0 t1
  t0=$(now)
  "$@" > /dev/null 2>&1
  t1=$(now)
  echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$WORK/plain"; : > "$WORK/syscage"; : > "$WORK/ptrace"; : > "$WORK/strace"
time_one sh "$WORK/workload.sh" > /dev/null   # warm the page cache
for _ in $(seq 1 "$ROUNDS"); do
  time_one sh "$WORK/workload.sh" >> "$WORK/plain"
  time_one "$SYSCAGE" record -o "$WORK/profile.json" -- sh "$WORK/workload.sh" >> "$WORK/syscage"
  time_one "$SYSCAGE" record --via ptrace -o "$WORK/profile.json" -- sh "$WORK/workload.sh" >> "$WORK/ptrace"
  time_one strace -f -c -o "$WORK/strace.out" -- sh "$WORK/workload.sh" >> "$WORK/strace"
done
SYSCALLS=$("$SYSCAGE" record --summary -o /dev/null -- sh "$WORK/workload.sh" 2>&1 >/dev/null | awk '/total/ {print $1}')

P=$(median < "$WORK/plain"); S=$(median < "$WORK/syscage"); R=$(median < "$WORK/ptrace"); T=$(median < "$WORK/strace")
echo "workload: tar|gzip, find, find -exec cat, gzip -d|tar -t over $FILES files; $SYSCALLS syscalls; median of $ROUNDS"
printf '%-22s %8s %10s\n' "" "wall ms" "added"
printf '%-22s %8d %10s\n' "plain" "$P" "-"
printf '%-22s %8d %9d%%\n' "syscage record" "$S" $(( (S - P) * 100 / P ))
printf '%-22s %8d %9d%%\n' "  --via ptrace" "$R" $(( (R - P) * 100 / P ))
printf '%-22s %8d %9d%%\n' "strace -f -c" "$T" $(( (T - P) * 100 / P ))
if [ "$T" -gt "$P" ]; then
  echo "syscage's added time / strace's: $(( (S - P) * 100 / (T - P) ))% (target: at most 50%); with --via ptrace: $(( (R - P) * 100 / (T - P) ))%"
fi
