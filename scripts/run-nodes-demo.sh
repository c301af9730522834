#!/usr/bin/env bash
# What `make run-nodes` runs: a throw-away PostgreSQL cluster, the demo store
# in a database of it, and two custos nodes serving that one database, node
# "a" on LISTEN and node "b" on the next port. Ctrl-C stops both nodes and
# the cluster, and removes the cluster with its data.
#   scripts/run-nodes-demo.sh PATH/TO/custos STORE_DIR LISTEN
set -euo pipefail
custos=${1:?custos binary}
store=${2:?store directory}
listen=${3:-127.0.0.1:8080}
host=${listen%:*}
port_a=${listen##*:}
port_b=$((port_a + 1))
root=$(cd "$(dirname "$0")/.." && pwd)
# The cluster's directory (CUSTOS_DEMO_CLUSTER): as root, the cluster runs as
# an unprivileged user who must be able to reach it.
cluster=${CUSTOS_DEMO_CLUSTER:-$store-pg}

# A store directory left by an earlier run names a database that is gone.
rm -rf "$store" "$cluster"
mkdir -p "$store"
# Stops a node: SIGTERM (it drains for up to 30 s), then SIGKILL.
stop_node() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 350); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  stop_node "${pid_b:-}"
  stop_node "${pid_a:-}"
  python3 "$root/tests/pg/cluster.py" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$store"
}
trap cleanup EXIT INT TERM

python3 "$root/tests/pg/cluster.py" start "$cluster" >/dev/null
url=$(python3 "$root/tests/pg/cluster.py" createdb "$cluster" custos_demo)
export CUSTOS_STORE=$store CUSTOS_DATABASE=$url

"$root/scripts/demo-store.sh" "$custos" "$store"
"$custos" --node a --purpose direct_care status
subject=$("$custos" --purpose direct_care subject find --nhs-number 9990000018 2>/dev/null \
  | head -n 1 || true)

"$custos" --node b serve --listen "$host:$port_b" >/dev/null 2>"$store/node-b.log" &
pid_b=$!
"$custos" --node a serve --listen "$host:$port_a" >/dev/null 2>"$store/node-a.log" &
pid_a=$!
up=
for _ in $(seq 600); do
  if curl -sf "http://$host:$port_a/healthz" >/dev/null &&
     curl -sf "http://$host:$port_b/healthz" >/dev/null; then
    up=1
    break
  fi
  kill -0 "$pid_a" 2>/dev/null && kill -0 "$pid_b" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "the nodes did not start; their logs:" >&2
  tail -n 5 "$store/node-a.log" "$store/node-b.log" >&2
  exit 1
fi

cat <<TXT

Two custos nodes serve one PostgreSQL database ($url):
  node a: http://$host:$port_a    node b: http://$host:$port_b
The database is a throw-away cluster in $cluster, removed when this stops;
each node logs to $store/node-a.log and node-b.log.

A write on one node is read on the other at once, and both append to one
audit chain:

  TOKEN=\$(curl -s -X POST http://$host:$port_a/v1/sessions -H 'Content-Type: application/json' \\
      -d '{"username": "clinician", "password": "demo-password-2026"}' \\
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  curl -s http://$host:$port_b/v1/subjects/$subject -H "Authorization: Bearer \$TOKEN"
  curl -s -X DELETE http://$host:$port_b/v1/sessions/current -H "Authorization: Bearer \$TOKEN"
  curl -s http://$host:$port_a/v1/subjects/$subject -H "Authorization: Bearer \$TOKEN"   # 401 now
  CUSTOS_STORE=$store CUSTOS_DATABASE='$url' $custos audit verify

Ctrl-C stops both nodes and the cluster.
TXT
wait -n "$pid_a" "$pid_b"
