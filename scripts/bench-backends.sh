#!/usr/bin/env bash
# The store's backends under HTTP load, in one run: wrk on loopback against
#   sqlite     custos serve on a SQLite store (this build)
#   base       the same on another build (BENCH_BASE=BUILD_DIR, optional: the
#              code before a change, measured in the same run)
#   pg1        custos serve on PostgreSQL, one node
#   pg2        two custos serve nodes on one PostgreSQL database, wrk driving
#              both at once (half the connections each; req/s summed, p99 the
#              worse of the two)
#   nginx      nginx serving a static 200 (the ceiling of this machine)
# each as requests/s and p99 for an authenticated, audited GET of a subject
# and POST of an item (durable commit), and as a ratio to nginx.
#   scripts/bench-backends.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]
# PostgreSQL is a throw-away cluster (tests/pg/cluster.py) in /var/tmp, with
# fsync on, removed afterwards.
set -euo pipefail
build=${1:?usage: scripts/bench-backends.sh BUILD_DIR [SECONDS] [CONNECTIONS] [RUNS]}
secs=${2:-10}
conns=${3:-64}
runs=${4:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
custos=$(cd "$build" && pwd)/custos
base=${BENCH_BASE:+$(cd "$BENCH_BASE" && pwd)/custos}
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-backends: $tool is missing (make bench installs it)" >&2; exit 1; }
done
dir=$(mktemp -d /var/tmp/custos-bench-backends.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  [ -d "$dir/pg" ] && python3 "$root/tests/pg/cluster.py" stop "$dir/pg" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
pw=bench-password-2026
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

python3 "$root/tests/pg/cluster.py" start "$dir/pg" >/dev/null
pgurl=$(python3 "$root/tests/pg/cluster.py" createdb "$dir/pg" custos_bench)

# One store per configuration: STORE_DIR, optional database, the binary.
# Sets the globals token_<name>, get_<name>, post_<name>, port_<name>[_2].
setup() {
  local name=$1 bin=$2 database=$3 nodes=$4
  local sdir=$dir/$name
  (
    export CUSTOS_STORE=$sdir
    if [ -n "$database" ]; then export CUSTOS_DATABASE=$database; else unset CUSTOS_DATABASE; fi
    custos=$bin
    . "$root/scripts/bench-store.sh"
    bench_store "$root/profiles/therapyaudit.json"
    writer=$("$custos" --purpose direct_care subject add --controller "$ctl" --kind patient <<< '{"name": "Bench Writer"}')
    "$custos" care add --user bench --subject "$writer" >/dev/null
    echo "$reader $writer" > "$sdir.subjects"
  )
  read -r rs ws < "$sdir.subjects"
  eval "get_$name=$rs post_$name=$ws"
  local ports=()
  for n in $(seq "$nodes"); do
    local port
    port=$(free_port)
    ports+=("$port")
    local nodeopt=()
    [ "$nodes" -gt 1 ] && nodeopt=(--node "node$n")
    CUSTOS_STORE=$sdir CUSTOS_DATABASE=$database "$bin" serve --listen "127.0.0.1:$port" \
      --threads 2 "${nodeopt[@]}" >"$sdir.serve$n.out" 2>"$sdir.serve$n.err" &
    pids+=($!)
    for _ in $(seq 100); do grep -q listening "$sdir.serve$n.out" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$sdir.serve$n.out" || { echo "bench-backends: $name node $n did not start" >&2; cat "$sdir.serve$n.err" >&2; exit 1; }
  done
  eval "ports_$name='${ports[*]}'"
  local t
  t=$(curl -sf -X POST "http://127.0.0.1:${ports[0]}/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\": \"bench\", \"password\": \"$pw\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  eval "token_$name=$t"
}

# wrk's summary -> "requests_per_second p99_ms non2xx"
measure() {
  local c=$1
  shift
  wrk -t2 -c"$c" -d"${secs}s" --latency "$@" 2>&1 | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; p99=v}
    /Non-2xx/ {bad=$NF}
    END {printf "%s %s %s\n", rps, p99, (bad==""?0:bad)}'
}

# One configuration's GET or POST across its nodes at once -> "rps p99 non2xx"
measure_config() {
  local name=$1 kind=$2
  local ports token subject script
  eval "ports=\$ports_$name token=\$token_$name"
  if [ "$kind" = get ]; then eval "subject=\$get_$name"; script=get_subject.lua
  else eval "subject=\$post_$name"; script=post_item.lua; fi
  local n=0
  for _ in $ports; do n=$((n + 1)); done
  local i=0 outs=()
  for p in $ports; do
    i=$((i + 1))
    CUSTOS_TOKEN=$token CUSTOS_SUBJECT=$subject measure $((conns / n)) \
      -s "$root/bench/http/$script" "http://127.0.0.1:$p" > "$dir/m.$i" &
    outs+=("$dir/m.$i")
  done
  wait
  cat "${outs[@]}" | awk '{r+=$1; if ($2>p) p=$2; b+=$3} END {printf "%s %s %s\n", r, p, b}'
}

configs=(sqlite)
setup sqlite "$custos" "" 1
if [ -n "$base" ]; then configs+=(base); setup base "$base" "" 1; fi
configs+=(pg1)
setup pg1 "$custos" "$pgurl" 1
pg2url=$(python3 "$root/tests/pg/cluster.py" createdb "$dir/pg" custos_bench2)
configs+=(pg2)
setup pg2 "$custos" "$pg2url" 2

port_nginx=$(free_port)
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port_nginx|g" "$root/bench/http/nginx.conf" > "$dir/nginx.conf"
nginx -c "$dir/nginx.conf" -e "$dir/nginx-error.log"

echo "custos backends benchmark: wrk -t2 -c$conns -d${secs}s per figure, $runs runs, $(nproc) cores"
echo "each node: custos serve --threads 2; PostgreSQL 15 on loopback (fsync on); nginx worker_processes 2"
printf '%-4s %-7s %10s %8s %10s %8s %10s %8s %8s\n' run config get_rps get_p99 post_rps post_p99 nginx_rps get/ngx post/ngx
for run in $(seq "$runs"); do
  read -r nr np nb < <(measure "$conns" "http://127.0.0.1:$port_nginx/")
  for c in "${configs[@]}"; do
    read -r gr gp gb < <(measure_config "$c" get)
    read -r pr pp pb < <(measure_config "$c" post)
    if [ "$gb" != 0 ] || [ "$pb" != 0 ]; then
      echo "bench-backends: $c: non-2xx responses (get $gb, post $pb)" >&2
      exit 1
    fi
    awk -v r="$run" -v c="$c" -v gr="$gr" -v gp="$gp" -v pr="$pr" -v pp="$pp" -v nr="$nr" \
      'BEGIN {printf "%-4s %-7s %10.0f %8.2f %10.0f %8.2f %10.0f %8.3f %8.3f\n", r, c, gr, gp, pr, pp, nr, gr/nr, pr/nr}'
  done
done
for c in "${configs[@]}"; do
  v=$(CUSTOS_STORE=$dir/$c; export CUSTOS_STORE
      if [ "$c" = pg1 ]; then export CUSTOS_DATABASE=$pgurl; elif [ "$c" = pg2 ]; then export CUSTOS_DATABASE=$pg2url; fi
      b=$custos; [ "$c" = base ] && b=$base
      "$b" audit verify 2>&1 | tail -1)
  echo "$c: $v"
done
