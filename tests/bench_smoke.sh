#!/usr/bin/env bash
# Runs every benchmark program once at a tiny size, so that a change which
# breaks one (its own checks: the trail verifies and holds exactly the events
# written, every decision and access package is produced) fails the tests.
# Prints TAP; asserts nothing about time.
#   tests/bench_smoke.sh BUILD_DIR
set -u
build=${1:?usage: tests/bench_smoke.sh BUILD_DIR}
dir=$(mktemp -d /var/tmp/custos-bench-smoke.XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0
check() {
  local name=$1
  shift
  n=$((n + 1))
  if "$@" >"$dir/out" 2>&1; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"
    sed 's/^/# /' "$dir/out" | tail -5
  fi
}
check "bench_writes: batched and single writes, trail verified with the exact event count" \
  "$build/bench/bench_writes" --items 300 --batch 100 --single 5 --subjects 5 --runs 1 --dir "$dir"
check "bench_verify: a trail of exactly 2,000 events verified and chained raw" \
  "$build/bench/bench_verify" --events 2000 --gen-batch 500 --subjects 5 --runs 1 --dir "$dir"
check "bench_policy: every purpose of the therapy profile decided" \
  "$build/bench/bench_policy" --checks 2000 --runs 1
check "bench_sar: access packages built for sampled subjects" \
  "$build/bench/bench_sar" --subjects 200 --events 1000 --samples 5 --gen-batch 500 --dir "$dir"
check "bench_outcomes: outcome measures of 2,000 episodes, the aggregate agrees with each" \
  "$build/bench/bench_outcomes" --episodes 2000 --runs 1
check "bench_heavy: normal reads beside a heavy subject read in full and written, no error" \
  "$(dirname "$0")/../scripts/bench-heavy.sh" "$build" 1 1 150
check "bench-pages: every staff console page a 200 under 100 KB, the patient page under wrk with no error" \
  "$(dirname "$0")/../scripts/bench-pages.sh" "$build" 1 2 1
echo "1..$n"
