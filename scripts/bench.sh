#!/usr/bin/env bash
# Runs the custos benchmarks with the parameters docs/benchmarks.md reports.
#   scripts/bench.sh BUILD_DIR        (make bench: BUILD_DIR=build, debugoptimized)
# bench_sar runs at SAR_SUBJECTS subjects and SAR_EVENTS audit events
# (default 100000 and 1000000, a few minutes). The issue's full size, which
# takes about half an hour to generate on the reference machine:
#   SAR_SUBJECTS=1000000 SAR_EVENTS=10000000 scripts/bench.sh build
# The temporary stores go under BENCH_DIR (default /var/tmp, the same disk as
# /work on the reference machine); each program removes its own directory.
# Figures only mean something from an optimised build: this script refuses a
# build configured with sanitizers or without optimisation.
set -euo pipefail
build=${1:?usage: scripts/bench.sh BUILD_DIR}
bench_dir=${BENCH_DIR:-/var/tmp}
for p in bench_writes bench_verify bench_policy bench_outcomes bench_sar; do
  if [ ! -x "$build/bench/$p" ]; then
    echo "bench: $build/bench/$p is missing; build first (ninja -C $build)" >&2
    exit 1
  fi
done
if command -v meson >/dev/null 2>&1; then
  opts=$(meson introspect --buildoptions "$build" 2>/dev/null || true)
  if [ -n "$opts" ]; then
    read -r opt san < <(python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o.get("optimization", "?"), o.get("b_sanitize") or "none")
' <<<"$opts" 2>/dev/null || echo "? ?")
    if [ "$opt" = "0" ] || { [ "$san" != "none" ] && [ "$san" != "?" ]; }; then
      echo "bench: $build is not an optimised build without sanitizers" \
           "(optimization=$opt, b_sanitize=$san); use --buildtype=debugoptimized" >&2
      exit 1
    fi
  fi
fi
echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
lscpu | sed -n 's/^Model name:[[:space:]]*/cpu: /p'
echo "nproc: $(nproc)"
free -h | awk '/^Mem:/ {print "memory: " $2}'
df -hT "$bench_dir" | awk 'NR == 2 {print "temp dir: '"$bench_dir"' on " $1 " (" $2 ")"}'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Busy CPU time of the whole machine (all processes), in seconds.
busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2+$3+$4+$7+$8)/hz}' /proc/stat; }
# CPU time used by this shell's finished children, in seconds (cutime + cstime).
children() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($16 + $17) / hz}' /proc/$$/stat; }
# Runs a benchmark and says how much CPU the rest of the machine used meanwhile:
# on a shared machine, figures taken while others are busy are not comparable.
run() {
  local t0 b0 c0 t1 b1 self
  t0=$(date +%s.%N)
  b0=$(busy)
  c0=$(children)
  "$@"
  t1=$(date +%s.%N)
  b1=$(busy)
  self=$(awk -v a="$c0" -v b="$(children)" 'BEGIN {print b - a}')
  awk -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v self="$self" 'BEGIN {
    o = b1 - b0 - self; if (o < 0) o = 0
    printf "process: %.1f s wall, %.1f cpu-s; rest of the machine meanwhile: %.1f cpu-s " \
           "(%.0f%% of one core)\n", t1 - t0, self, o, 100 * o / (t1 - t0) }'
}
echo
echo "== bench_writes"
run "$build/bench/bench_writes" --items 100000 --batch 1000 --single 1000 --subjects 100 \
  --value-bytes 100 --runs 3 --dir "$bench_dir"
echo
echo "== bench_verify"
run "$build/bench/bench_verify" --events 1000000 --gen-batch 10000 --subjects 100 \
  --value-bytes 100 --runs 5 --dir "$bench_dir"
echo
echo "== bench_policy"
run "$build/bench/bench_policy" --checks 20000000 --runs 5
echo
echo "== bench_outcomes"
run "$build/bench/bench_outcomes" --episodes 100000 --runs 5
echo
echo "== bench_sar"
run "$build/bench/bench_sar" --subjects "${SAR_SUBJECTS:-100000}" \
  --events "${SAR_EVENTS:-1000000}" --samples "${SAR_SAMPLES:-500}" --gen-batch 20000 \
  --dir "$bench_dir"
