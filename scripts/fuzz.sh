#!/usr/bin/env bash
# Runs every libFuzzer harness of a fuzzing build for SECONDS each.
#   scripts/fuzz.sh BUILD_FUZZ_DIR SECONDS          (make fuzz FUZZ_SECONDS=60)
#
# Each BUILD_FUZZ_DIR/fuzz/fuzz_NAME starts from the committed seeds in
# fuzz/corpus/NAME/ (read only) and writes the inputs it discovers to a scratch
# corpus, FUZZ_WORK/NAME/corpus (default FUZZ_WORK: BUILD_FUZZ_DIR/fuzz-work),
# which later runs reuse. Crashing inputs land in FUZZ_WORK/NAME/crashes/.
# Exits non-zero when any harness crashed (or could not run).
#
# Environment: FUZZ_WORK (scratch dir), FUZZ_HARNESSES (default "nhs input audit http policy holidays ledger backup questionnaire pathway cookie form qresponse"),
# FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
#
# To fold useful new inputs into the committed corpus, keeping it small:
#   mkdir /tmp/merged && BUILD/fuzz/fuzz_NAME -merge=1 -max_len=LEN /tmp/merged \
#       fuzz/corpus/NAME FUZZ_WORK/NAME/corpus
# then copy the files of /tmp/merged that are not already in fuzz/corpus/NAME.
set -u
build=${1:?usage: scripts/fuzz.sh BUILD_FUZZ_DIR SECONDS}
secs=${2:?usage: scripts/fuzz.sh BUILD_FUZZ_DIR SECONDS}
case $secs in
  '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$build/fuzz-work}
harnesses=${FUZZ_HARNESSES:-nhs input audit http policy holidays ledger backup questionnaire pathway cookie form qresponse}

# Largest input libFuzzer generates per harness. Committed seeds may be larger
# (a few deliberately large documents); libFuzzer mutates their first max_len
# bytes, and the test suite replays them whole.
max_len() {
  case $1 in
    nhs) echo 64 ;;
    input) echo 4096 ;;
    audit) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

status=0
summary=()
for name in $harnesses; do
  bin=$build/fuzz/fuzz_$name
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin not built (CC=clang meson setup $build -Dfuzzing=true)" >&2
    status=1
    summary+=("fuzz_$name: NOT BUILT")
    continue
  fi
  corpus=$work/$name/corpus
  crashes=$work/$name/crashes
  log=$work/$name/fuzz.log
  mkdir -p "$corpus" "$crashes"
  dict=()
  [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
  before=$(find "$crashes" -type f | sort)
  echo "== fuzz_$name: ${secs}s, max_len $(max_len "$name"), log $log"
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "${dict[@]}" ${FUZZ_ARGS:-} "$corpus" "$root/fuzz/corpus/$name" >"$log" 2>&1 </dev/null
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  new_crashes=$(comm -13 <(printf '%s\n' "$before") <(find "$crashes" -type f | sort) | sed '/^$/d')
  line="fuzz_$name: ${execs:-?} executions, ${cov:-cov ?}, $(find "$corpus" -type f | wc -l) inputs in $corpus"
  if [ "$rc" -ne 0 ] || [ -n "$new_crashes" ]; then
    status=1
    line="$line — CRASH (exit $rc)"
    grep -E 'ERROR: |runtime error|SUMMARY: |Test unit written to' "$log" | head -20 | sed 's/^/    /'
    while read -r f; do
      [ -n "$f" ] && echo "    reproduce: $bin $f   (or: build-asan/fuzz/replay_$name $f)"
    done <<<"$new_crashes"
  fi
  echo "$line"
  summary+=("$line")
done

echo
printf '%s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: crashes or failures above; inputs are in $work/*/crashes/" >&2
fi
exit "$status"
