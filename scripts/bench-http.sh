#!/usr/bin/env bash
# HTTP benchmark: wrk on loopback against custos serve and, in the same run,
# against nginx serving a static 200.
#   scripts/bench-http.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]
# BENCH_SERVE_LOG: where the server's log goes (default a file in the scratch
# directory; e.g. /dev/null); BENCH_SERVE_ARGS: more options for custos serve
# (e.g. --no-request-log).
# Prints, per run: requests/s and p99 latency for (a) an authenticated GET of a
# subject (decrypt + audit + durable commit), (b) an authenticated POST of an
# item (encrypt + audit + durable commit), and (c) nginx's static 200; and the
# ratios a/c and b/c. The store lives in a scratch directory under /var/tmp
# (same disk as /work here), removed afterwards.
set -euo pipefail
build=${1:?usage: scripts/bench-http.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]}
secs=${2:-10}
conns=${3:-64}
runs=${4:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bench-serve.sh"
bench_init http

. "$root/scripts/bench-store.sh"
bench_store "$root/profiles/therapyaudit.json"
read_subject=$reader
write_subject=$("$custos" --purpose direct_care subject add --controller "$ctl" --kind patient <<< '{"name": "Bench Writer"}')
"$custos" care add --user bench --subject "$write_subject" >/dev/null

bench_serve

echo "custos HTTP benchmark: wrk -t2 -c$conns -d${secs}s, $runs runs, $(nproc) cores"
echo "custos serve --threads 2 (HTTP) + 1 store thread; nginx worker_processes 2"
printf '%-4s %14s %9s %14s %9s %14s %9s %8s %8s\n' run get_rps get_p99ms post_rps post_p99ms nginx_rps nginx_p99 get/ngx post/ngx
for run in $(seq "$runs"); do
  read -r nr np nb _ < <(measure "$secs" "http://127.0.0.1:$port_nginx/")
  read -r gr gp gb _ < <(CUSTOS_SUBJECT=$read_subject measure "$secs" -s "$root/bench/http/get_subject.lua" "http://127.0.0.1:$port_custos")
  read -r pr pp pb _ < <(CUSTOS_SUBJECT=$write_subject measure "$secs" -s "$root/bench/http/post_item.lua" "http://127.0.0.1:$port_custos")
  if [ "$gb" != 0 ] || [ "$pb" != 0 ]; then
    echo "bench-http: non-2xx responses (get $gb, post $pb)" >&2
    exit 1
  fi
  awk -v r="$run" -v gr="$gr" -v gp="$gp" -v pr="$pr" -v pp="$pp" -v nr="$nr" -v np="$np" \
    'BEGIN {printf "%-4s %14.0f %9.2f %14.0f %9.2f %14.0f %9.2f %8.3f %8.3f\n", r, gr, gp, pr, pp, nr, np, gr/nr, pr/nr}'
done
items=$("$custos" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["items"])')
verify=$("$custos" audit verify)
echo "items in the store after the runs: $items; $verify"
