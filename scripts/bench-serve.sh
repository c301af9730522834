# Sourced by the HTTP benchmarks (bench-http.sh, bench-submit.sh): a scratch
# store under /var/tmp, custos serve and nginx's static 200 beside it, and
# wrk's figures. With $root the repository and $build the build directory:
#   bench_init NAME      the tools checked, $dir made (removed on exit),
#                        $custos, CUSTOS_STORE and $pw set
#   bench_serve          custos serve on $port_custos and nginx on
#                        $port_nginx started; "bench" signed in: CUSTOS_TOKEN
#   measure SECONDS ARGS wrk -t2 -c$conns for SECONDS with ARGS ->
#                        "requests_per_second p99_ms non_2xx requests"
# BENCH_SERVE_LOG: where the server's log goes (default a file in $dir, e.g.
# /dev/null); BENCH_SERVE_ARGS: more options for custos serve.

bench_init() {
  local name=$1 tool
  custos=$(cd "$build" && pwd)/custos
  for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "bench-$name: $tool is missing (make bench installs it)" >&2; exit 1; }
  done
  dir=$(mktemp -d "/var/tmp/custos-bench-$name.XXXXXX")
  cpid=""
  trap bench_cleanup EXIT
  export CUSTOS_STORE=$dir/store
  pw=bench-password-2026
}

bench_cleanup() {
  [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null || true
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  rm -rf "$dir"
}

bench_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_serve() {
  port_custos=$(bench_port)
  port_nginx=$(bench_port)
  # shellcheck disable=SC2086
  "$custos" serve --listen "127.0.0.1:$port_custos" --threads 2 ${BENCH_SERVE_ARGS:-} \
    >"$dir/serve.out" 2>"${BENCH_SERVE_LOG:-$dir/serve.err}" &
  cpid=$!
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port_nginx|g" "$root/bench/http/nginx.conf" > "$dir/nginx.conf"
  nginx -c "$dir/nginx.conf" -e "$dir/nginx-error.log"
  for _ in $(seq 50); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  CUSTOS_TOKEN=$(curl -sf -X POST "http://127.0.0.1:$port_custos/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\": \"bench\", \"password\": \"$pw\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export CUSTOS_TOKEN
}

# The /proc directory of the server's store thread (named custos-store): the
# thread that runs every request's handler and writes every commit
store_thread() {
  local t
  for t in /proc/"$cpid"/task/*; do
    if [ "$(cat "$t/comm" 2>/dev/null)" = custos-store ]; then
      echo "$t"
      return
    fi
  done
}

# CPU time (user + system, clock ticks) the store thread has used: its time
# per request bounds the rate and, with a queue of connections, the latency
store_ticks() {
  local t
  t=$(store_thread)
  if [ -n "$t" ]; then awk '{print $14 + $15}' "$t/stat"; else echo 0; fi
}

# Bytes the store thread has handed to write(2)/pwrite(2): the WAL's frames
# (pages and their headers) of every commit, which no other thread writes
store_wchar() {
  local t
  t=$(store_thread)
  if [ -n "$t" ]; then awk '/^wchar:/ {print $2}' "$t/io"; else echo 0; fi
}

measure() {
  local d=$1
  shift
  wrk -t2 -c"$conns" -d"${d}s" --latency "$@" 2>&1 | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; p99=v}
    /Non-2xx/ {bad=$NF}
    / requests in / {n=$1}
    END {printf "%s %s %s %s\n", rps, p99, (bad==""?0:bad), n}'
}
