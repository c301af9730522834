#!/usr/bin/env bash
# Questionnaire benchmark: wrk on loopback against custos serve and, in the
# same run, against nginx serving a static 200.
#   scripts/bench-submit.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]
# Prints, per run, requests/s and p99 latency for
#   (a) links made by a clinician (POST /v1/subjects/{id}/questionnaire-links:
#       a token, its keyed hash stored, audited, durable);
#   (b) PHQ-9 answered through those links as a browser posts the form
#       (POST /q/{token}: form parsed, scored, sealed as a health item, the
#       link used, the item-9 task raised, audited, durable), each link once;
#   (c) PHQ-9 entered by the clinician as a JSON QuestionnaireResponse
#       (POST /v1/subjects/{id}/questionnaire-responses: the same work);
#   (d) nginx's static 200;
# and the ratios to nginx. The answers put item 9 above 0, so every
# submission also raises an urgent task. The store lives in a scratch
# directory under /var/tmp, removed afterwards. Per run, the CPU time the
# server's store thread used per submission (store_us: user + system over
# the form and the JSON phases, divided by the submissions answered), which
# a busy machine inflates far less than the rates; and the bytes that thread
# wrote per submission (wal_kb: the WAL's pages, in KiB), which depends on
# how many submissions a commit carries. With BENCH_PERF=FILE, the
# server is profiled (perf record --call-graph dwarf) during the first run's
# JSON phase (BENCH_PERF_RUN=N: the Nth run's) into FILE;
# `perf report -i FILE --tid TID --children` shows one thread (the store
# thread is named custos-store).
set -euo pipefail
build=${1:?usage: scripts/bench-submit.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]}
secs=${2:-10}
conns=${3:-64}
runs=${4:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bench-serve.sh"
bench_init submit

. "$root/scripts/bench-store.sh"
bench_store "$root/profiles/therapyaudit.json"
"$custos" questionnaire add "$root/questionnaires/phq-9.json" >/dev/null
export CUSTOS_SUBJECT=$reader

bench_serve

hz=$(getconf CLK_TCK)

echo "custos questionnaire benchmark: wrk -t2 -c$conns, $runs runs, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "custos serve --threads 2 (HTTP) + 1 store thread; nginx worker_processes 2"
printf '%-4s %10s %8s %10s %8s %10s %8s %10s %8s %9s %9s %9s %9s %7s\n' run link_rps link_p99 form_rps form_p99 json_rps json_p99 nginx_rps ngx_p99 link/ngx form/ngx json/ngx store_us wal_kb
for run in $(seq "$runs"); do
  export CUSTOS_TOKENS=$dir/tokens-$run
  read -r nr np _ _ < <(measure "$secs" "http://127.0.0.1:$port_nginx/")
  # links for twice as long as the form is posted, so no thread runs out
  read -r lr lp lb _ < <(measure $((secs * 2)) -s "$root/bench/http/issue_links.lua" "http://127.0.0.1:$port_custos")
  made=$(cat "$CUSTOS_TOKENS".* | wc -l)
  t0=$(store_ticks)
  w0=$(store_wchar)
  read -r fr fp fb fn < <(measure "$secs" -s "$root/bench/http/submit_form.lua" "http://127.0.0.1:$port_custos")
  ppid=""
  if [ -n "${BENCH_PERF:-}" ] && [ "$run" = "${BENCH_PERF_RUN:-1}" ]; then
    perf record -q --call-graph dwarf -F 499 -p "$cpid" -o "$BENCH_PERF" -- sleep "$secs" >/dev/null 2>&1 &
    ppid=$!
  fi
  read -r jr jp jb jn < <(measure "$secs" -s "$root/bench/http/post_response.lua" "http://127.0.0.1:$port_custos")
  t1=$(store_ticks)
  w1=$(store_wchar)
  [ -z "$ppid" ] || wait "$ppid" || true
  if [ "$lb" != 0 ] || [ "$fb" != 0 ] || [ "$jb" != 0 ]; then
    echo "bench-submit: non-2xx responses (links $lb, form $fb, json $jb; $made links for $fn form posts)" >&2
    exit 1
  fi
  if [ "$fn" -ge "$made" ]; then
    echo "bench-submit: the form used every link ($made): run with fewer connections or seconds" >&2
    exit 1
  fi
  awk -v r="$run" -v lr="$lr" -v lp="$lp" -v fr="$fr" -v fp="$fp" -v jr="$jr" -v jp="$jp" -v nr="$nr" -v np="$np" \
    -v ts="$((t1 - t0))" -v hz="$hz" -v sn="$((fn + jn))" -v wb="$((w1 - w0))" \
    'BEGIN {printf "%-4s %10.0f %8.2f %10.0f %8.2f %10.0f %8.2f %10.0f %8.2f %9.3f %9.3f %9.3f %9.1f %7.1f\n", r, lr, lp, fr, fp, jr, jp, nr, np, lr/nr, fr/nr, jr/nr, ts / hz / sn * 1e6, wb / sn / 1024}'
done
tasks=$("$custos" tasks list --controller "$ctl" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tasks"]))')
verify=$("$custos" audit verify)
echo "urgent tasks raised: $tasks; $verify"
