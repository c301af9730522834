#!/usr/bin/env bash
# One heavy subject against the rest: custos serve with a normal subject and a
# subject holding HEAVY_ITEMS items; bench_heavy reads the normal subject from
# READERS connections while one client reads the heavy subject in full (the
# subject read and every page after it) and another adds items to it.
#   scripts/bench-heavy.sh BUILD_DIR [SECONDS] [READERS] [HEAVY_ITEMS] [CUSTOS_BINARY]
# CUSTOS_BINARY (default BUILD_DIR/custos) lets the same load run against
# another build, e.g. one from before item pages. Prints bench_heavy's lines.
set -euo pipefail
build=${1:?usage: scripts/bench-heavy.sh BUILD_DIR [SECONDS] [READERS] [HEAVY_ITEMS] [CUSTOS_BINARY]}
secs=${2:-10}
readers=${3:-8}
heavy_items=${4:-5000}
root=$(cd "$(dirname "$0")/.." && pwd)
custos=$(cd "$(dirname "${5:-$build/custos}")" && pwd)/$(basename "${5:-$build/custos}")
bench=$(cd "$build" && pwd)/bench/bench_heavy
dir=$(mktemp -d /var/tmp/custos-bench-heavy.XXXXXX)
cpid=""
cleanup() {
  [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
export CUSTOS_STORE=$dir/store
pw=bench-password-2026

. "$root/scripts/bench-store.sh"
bench_store "$root/tests/data/test-policy.json"
normal=$reader
heavy=$("$custos" --purpose direct_care subject add --controller "$ctl" --kind patient <<< '{"name": "Bench Heavy"}')
left=$heavy_items
while [ "$left" -gt 0 ]; do
  n=$(( left < 1000 ? left : 1000 ))
  python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps({"items": [{"category": "health", "field": "obs", "value": "observation %d of the heavy subject" % i} for i in range(n)]}))' "$n" |
    "$custos" --purpose direct_care subject add-items "$heavy" >/dev/null
  left=$(( left - n ))
done
"$custos" care add --user bench --subject "$heavy" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$custos" serve --listen "127.0.0.1:$port" --threads 2 >"$dir/serve.out" 2>"$dir/serve.err" &
cpid=$!
for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/v1/sessions" -H 'Content-Type: application/json' \
  -d "{\"username\": \"bench\", \"password\": \"$pw\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

echo "bench-heavy: $(nproc) cores, ${secs}s, $readers normal readers, heavy subject of $heavy_items items"
echo "-- normal reads alone"
"$bench" --port "$port" --token "$token" --subject "$normal" --heavy "$heavy" --seconds "$secs" \
  --readers "$readers" --heavy-readers 0 --heavy-writers 0
echo "-- with one client reading the heavy subject in full and one adding items to it"
"$bench" --port "$port" --token "$token" --subject "$normal" --heavy "$heavy" --seconds "$secs" \
  --readers "$readers" --heavy-readers 1 --heavy-writers 1
