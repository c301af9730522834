#!/usr/bin/env bash
# Runs every test of a build and ends with one line: "N passed, N failed".
#   tests/run.sh BUILD_DIR
# Every suite prints TAP ("ok N - name" / "not ok N - name"):
#   - unit tests:   BUILD_DIR/tests/test_*  (cmocka, CMOCKA_MESSAGE_OUTPUT=TAP)
#   - fuzz corpora: BUILD_DIR/fuzz/replay_NAME over fuzz/corpus/NAME/
#   - benchmarks:   tests/bench_smoke.sh, each benchmark program at a tiny size
#   - source:       scripts/check-source.py (conventions), and
#                   tests/source_check_test.py (it catches planted violations)
#   - release:      tests/release-builds.sh, compiling the binary as released
#                   (-O3, Debian's flags) with --werror in CUSTOS_RELEASE_BUILDS
#                   (default ROOT/build-release); nothing there is run
#   - install:      tests/install_test.py, `meson install` of BUILD_DIR into a
#                   temporary DESTDIR, and the manual page it made
#   - end to end:   tests/e2e/run.py, driving BUILD_DIR/custos
# A suite that exits non-zero without reporting a failing case counts as one
# failure, so a crash can never pass silently.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CUSTOS_SOURCE_ROOT=$root
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

passed=0
failed=0
suites=0

run_suite() {
  local name=$1
  shift
  local log="$logdir/${name////_}.log"
  suites=$((suites + 1))
  "$@" >"$log" 2>&1 </dev/null
  local rc=$?
  local p f
  p=$(grep -c '^ok ' "$log")
  f=$(grep -c '^not ok ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc" >>"$log"
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name ran no test" >>"$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-28s %4d passed, %d failed\n' "$name" "$p" "$f"
  if [ "$f" -ne 0 ]; then
    # Show each failure with the diagnostics that follow it.
    awk '/^not ok/{show=1; print "    " $0; next} /^ok /{show=0} show && /^#/{print "    " $0} /ERROR: (Address|Leak)Sanitizer|runtime error/{print "    " $0}' "$log" | head -60
  fi
}

for t in "$build"/tests/test_*; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  # test_pg needs a PostgreSQL server (CUSTOS_TEST_DATABASE): not run here.
  [ "$(basename "$t")" = test_pg ] && continue
  run_suite "unit/$(basename "$t")" "$t"
done

for r in "$build"/fuzz/replay_*; do
  [ -x "$r" ] && [ -f "$r" ] || continue
  name=${r##*/replay_}
  run_suite "fuzz/$name" "$r" "$root/fuzz/corpus/$name"
done

if [ -d "$build/bench" ]; then
  run_suite "bench/smoke" "$root/tests/bench_smoke.sh" "$build"
fi

run_suite "source/check" python3 "$root/scripts/check-source.py" "$root"
run_suite "source/planted" python3 "$root/tests/source_check_test.py"
run_suite "install/man" python3 "$root/tests/install_test.py" "$build"
run_suite "release/builds" "$root/tests/release-builds.sh" "${CUSTOS_RELEASE_BUILDS:-$root/build-release}"

if [ -f "$root/tests/e2e/run.py" ]; then
  run_suite "e2e" python3 "$root/tests/e2e/run.py" --binary "$build/custos"
fi

echo
echo "$suites suites"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
