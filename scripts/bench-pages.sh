#!/usr/bin/env bash
# Staff console benchmark: wrk on loopback against a signed-in clinician's
# patient page (GET /staff/patients/{id} with the __Host-custos session
# cookie: the session checked, the record decrypted, the read audited and
# durable, the page rendered) and, in the same run, against nginx serving a
# static 200.
#   scripts/bench-pages.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]
# Prints first the size in bytes of every console page as served (the HTML
# only: the stylesheet, script and images are cached assets), failing when
# one is 100 KB (102,400 bytes) or more or is not a 200; then, per run,
# requests/s and p99 latency for the page and for nginx, their ratio, and the
# CPU time of the server's store thread per page (store_us, microseconds).
# The sizes are checked even at the smallest run (tests/bench_smoke.sh);
# nothing here asserts a time. The store lives in a scratch directory under
# /var/tmp, removed afterwards. With BENCH_PERF=FILE, the server is profiled
# (perf record --call-graph dwarf) during the first run's page phase into FILE.
set -euo pipefail
build=${1:?usage: scripts/bench-pages.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]}
secs=${2:-10}
conns=${3:-64}
runs=${4:-3}
max_bytes=102400
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bench-serve.sh"
bench_init pages

. "$root/scripts/bench-store.sh"
bench_store "$root/profiles/therapyaudit.json"
"$custos" questionnaire add "$root/questionnaires/phq-9.json" >/dev/null
export CUSTOS_SUBJECT=$reader

bench_serve
base=http://127.0.0.1:$port_custos

# a PHQ-9 with item 9 above 0: a score on the record, an urgent task on the
# home and task pages
phq9=$(python3 -c '
import json
codes = ["LA6569-3", "LA6570-1", "LA6569-3", "LA6568-5", "LA6569-3", "LA6568-5",
         "LA6570-1", "LA6568-5", "LA6569-3"]
print(json.dumps({"resourceType": "QuestionnaireResponse",
                  "questionnaire": "urn:custos:questionnaire:phq-9|1", "status": "completed",
                  "item": [{"linkId": "phq9-%d" % (i + 1), "answer": [{"valueCoding":
                           {"system": "http://loinc.org", "code": c}}]}
                           for i, c in enumerate(codes)]}))')
curl -sf -o /dev/null -X POST "$base/v1/subjects/$reader/questionnaire-responses" \
  -H "Authorization: Bearer $CUSTOS_TOKEN" -H 'Content-Type: application/json' \
  -H 'Custos-Purpose: questionnaires' -d "$phq9" ||
  { echo "bench-pages: the PHQ-9 for the console's pages was refused" >&2; exit 1; }

# sign in by the form as a browser does; the cookie is Secure, so carry it by hand
CUSTOS_COOKIE=$(curl -s -o /dev/null -D - -X POST "$base/staff/sign-in" \
  --data-urlencode username=bench --data-urlencode "password=$pw" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: __Host-custos=\([^;]*\);.*/\1/p')
if [ -z "$CUSTOS_COOKIE" ]; then
  echo "bench-pages: signing in by the form gave no session cookie" >&2
  exit 1
fi
export CUSTOS_COOKIE

echo "custos staff console page sizes (bytes of HTML, limit $max_bytes)"
printf '%-28s %8s %6s\n' page bytes status
too_big=0
for page in /staff/sign-in /staff /staff/tasks /staff/patients "/staff/patients/$reader"; do
  cookie=()
  [ "$page" = /staff/sign-in ] || cookie=(-H "Cookie: __Host-custos=$CUSTOS_COOKIE")
  read -r status bytes < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "${cookie[@]}" "$base$page")
  name=$page
  [ "$page" = "/staff/patients/$reader" ] && name="/staff/patients/{id}"
  printf '%-28s %8s %6s\n' "$name" "$bytes" "$status"
  if [ "$status" != 200 ] || [ "$bytes" -ge "$max_bytes" ]; then
    too_big=1
  fi
done
if [ "$too_big" != 0 ]; then
  echo "bench-pages: a console page is not a 200 or is $max_bytes bytes or more" >&2
  exit 1
fi

hz=$(getconf CLK_TCK)

echo "custos staff page benchmark: wrk -t2 -c$conns -d${secs}s, $runs runs, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "custos serve --threads 2 (HTTP) + 1 store thread; nginx worker_processes 2"
printf '%-4s %10s %10s %10s %10s %9s %8s %9s\n' run page_rps page_p99ms nginx_rps ngx_p99ms page/ngx p99\<20ms store_us
for run in $(seq "$runs"); do
  read -r nr np _ _ < <(measure "$secs" "http://127.0.0.1:$port_nginx/")
  ppid=""
  if [ -n "${BENCH_PERF:-}" ] && [ "$run" = 1 ]; then
    perf record -q --call-graph dwarf -F 499 -p "$cpid" -o "$BENCH_PERF" -- sleep "$secs" >/dev/null 2>&1 &
    ppid=$!
  fi
  t0=$(store_ticks)
  read -r gr gp gb gn < <(measure "$secs" -s "$root/bench/http/get_page.lua" "$base")
  t1=$(store_ticks)
  [ -z "$ppid" ] || wait "$ppid" || true
  if [ "$gb" != 0 ] || [ "${gn:-0}" = 0 ]; then
    echo "bench-pages: non-2xx responses ($gb of ${gn:-0})" >&2
    exit 1
  fi
  awk -v r="$run" -v gr="$gr" -v gp="$gp" -v nr="$nr" -v np="$np" -v ts="$((t1 - t0))" \
    -v hz="$hz" -v gn="$gn" \
    'BEGIN {printf "%-4s %10.0f %10.2f %10.0f %10.2f %9.3f %8s %9.1f\n", r, gr, gp, nr, np, gr/nr, (gp < 20 ? "met" : "missed"), ts / hz / gn * 1e6}'
done
events=$("$custos" audit show --subject "$reader" --json | grep -c '"via": *"http GET /staff/patients/{id}"' || true)
verify=$("$custos" audit verify)
echo "audit events written by the patient page: $events; $verify"
