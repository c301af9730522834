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
# PostgreSQL: one throw-away cluster (tests/pg/cluster.py) serves the whole
# run and is stopped at the end, even on failure. test_pg, and test_store a
# second time (unit/test_store@pg), each get a fresh database in
# CUSTOS_TEST_DATABASE; the end-to-end suite runs a second time (e2e@pg) with
# every store in its own database. A cluster that does not start fails the
# suites that need it. (Until src/store/pg exists, e2e@pg runs only the
# harness's own PostgreSQL cases and test_store@pg is not run.)
#   CUSTOS_TEST_BACKENDS=sqlite      only the SQLite side (no cluster)
#   CUSTOS_TEST_BACKENDS=postgresql  only the suites that use PostgreSQL
#   CUSTOS_E2E_PG_JOBS=N             cases e2e@pg runs at a time (default 2)
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
backends=${CUSTOS_TEST_BACKENDS:-sqlite,postgresql}
case ",$backends," in *,sqlite,*) want_sqlite=1 ;; *) want_sqlite=0 ;; esac
case ",$backends," in *,postgresql,*) want_pg=1 ;; *) want_pg=0 ;; esac
if [ "$want_sqlite" -eq 0 ] && [ "$want_pg" -eq 0 ]; then
  echo "CUSTOS_TEST_BACKENDS is sqlite, postgresql or both (comma-separated)" >&2
  exit 2
fi
pg_dir=
cleanup() {
  if [ -n "$pg_dir" ]; then
    python3 "$root/tests/pg/cluster.py" stop "$pg_dir" || echo "could not stop the cluster in $pg_dir" >&2
  fi
  rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# PostgreSQL: the cluster, and a fresh database for each suite that asks.
pg_url=
pg_n=0
pg_backend=0
[ -d "$root/src/store/pg" ] && pg_backend=1
if [ "$want_pg" -eq 1 ]; then
  pg_dir=$(mktemp -d /tmp/custos-pg.XXXXXX)
  run_suite "pg/cluster" bash -c '
    if url=$(python3 "$1/tests/pg/cluster.py" start "$2" 2>"$3/pg-start.err"); then
      echo "$url" >"$3/pg.url"; echo "ok 1 - a throw-away PostgreSQL cluster at $url"
    else
      echo "not ok 1 - the PostgreSQL cluster did not start"; sed "s/^/# /" "$3/pg-start.err"
      exit 1
    fi' _ "$root" "$pg_dir" "$logdir"
  [ -f "$logdir/pg.url" ] && pg_url=$(cat "$logdir/pg.url")
fi

# Runs a suite with CUSTOS_TEST_DATABASE set to a fresh database; without a
# cluster the suite fails.
run_pg_suite() {
  local name=$1
  shift
  if [ -z "$pg_url" ]; then
    run_suite "$name" bash -c 'echo "not ok 1 - no PostgreSQL cluster (see pg/cluster)"; exit 1'
    return
  fi
  pg_n=$((pg_n + 1))
  local db
  db=$(python3 "$root/tests/pg/cluster.py" createdb "$pg_dir" "custos_unit_$pg_n" 2>&1) || {
    run_suite "$name" bash -c 'echo "not ok 1 - CREATE DATABASE failed: $1"; exit 1' _ "$db"
    return
  }
  run_suite "$name" env CUSTOS_TEST_DATABASE="$db" "$@"
}

for t in "$build"/tests/test_*; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  base=$(basename "$t")
  if [ "$base" = test_pg ]; then
    [ "$want_pg" -eq 1 ] && run_pg_suite "unit/$base" "$t"
    continue
  fi
  [ "$want_sqlite" -eq 1 ] && run_suite "unit/$base" "$t"
  if [ "$base" = test_store ] && [ "$want_pg" -eq 1 ] && [ "$pg_backend" -eq 1 ]; then
    run_pg_suite "unit/test_store@pg" "$t"
  fi
done

if [ "$want_pg" -eq 1 ] && [ -f "$root/tests/e2e/run.py" ]; then
  pg_e2e=(python3 "$root/tests/e2e/run.py" --binary "$build/custos" --database-admin "$pg_url"
          --jobs "${CUSTOS_E2E_PG_JOBS:-2}")
  # Before the PostgreSQL backend exists, only the harness's own cases can run.
  [ "$pg_backend" -eq 1 ] || pg_e2e+=(--filter "pg harness:")
  if [ -z "$pg_url" ]; then
    pg_e2e=(bash -c 'echo "not ok 1 - no PostgreSQL cluster (see pg/cluster)"; exit 1')
  fi
fi

if [ "$want_sqlite" -eq 0 ]; then
  # Only the PostgreSQL side: the end-to-end pass, then the summary.
  [ -n "${pg_e2e+x}" ] && run_suite "e2e@pg" "${pg_e2e[@]}"
  echo
  echo "$suites suites"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

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
[ -n "${pg_e2e+x}" ] && run_suite "e2e@pg" "${pg_e2e[@]}"

echo
echo "$suites suites"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
