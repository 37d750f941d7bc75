#!/usr/bin/env bash
# cluster.sh - warm hello throughput of tfaas on one PostgreSQL store: one
# node alone, one node with --node (the cost of the accepted row each
# invoke commits first, docs/architecture.md "Several nodes"), and three
# --node nodes behind HAProxy (examples/cluster/haproxy.cfg). Each is
# loaded with wrk -t1 -c64 on the blocking hello for SECONDS after a 2 s
# warm-up. Everything shares this machine: on 2 cores three nodes do not
# scale (see docs/benchmarks.md). An optional stage of `make bench`
# (BENCH_CLUSTER=1).
# usage: bench/cluster.sh BIN_DIR [SECONDS (10)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$1 secs=${2:-10}
port=${CLUSTER_BENCH_PORT:-18190}
. "$root/scripts/pg-lib.sh"
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { echo "cluster.sh: haproxy not installed" >&2; exit 1; }
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
auth="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:$(printf 'a%.0s' $(seq 64))"
b64=$(printf '%s' "$auth" | base64 -w0)
hello='{"exec":{"kind":"js:duktape","code":"function main(params){return {greeting:\"Hello, \"+(params.name||\"world\")+\"!\"}}"}}'
work=$(mktemp -d)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; pg_stop; rm -rf "$work"' EXIT

serve() { # PORT NAME [--node NAME]
  local p=$1 name=$2; shift 2
  mkdir -m 700 "$work/$name"
  "$bin/tfaas" serve --listen "127.0.0.1:$p" --state "$work/$name" --store "$PG_URL" --guest-auth "$auth" \
    --max-connections-per-client 0 "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 150); do grep -q "listening on" "$work/$name.log" && return 0; sleep 0.2; done
  cat "$work/$name.log" >&2
  exit 1
}

load() { # URL LABEL
  local url="$1/api/v1/namespaces/_/actions/hello"
  curl -sf -o /dev/null -u "$auth" -H 'content-type: application/json' -X PUT "$url?overwrite=true" --data-binary "$hello"
  BENCH_BODY='{"name":"bench"}' BENCH_AUTH=$b64 wrk -t1 -c64 -d2s -s "$here/wrk/post.lua" "$url?blocking=true&result=true" >/dev/null
  BENCH_BODY='{"name":"bench"}' BENCH_AUTH=$b64 wrk -t1 -c64 -d"${secs}s" --latency -s "$here/wrk/post.lua" \
    "$url?blocking=true&result=true" | grep '^BENCH' | awk -v l="$2" -f "$here/wrk/summary.awk"
}

pg_start
serve $((port + 1)) alone
load "http://127.0.0.1:$((port + 1))" "1 node, PostgreSQL"
stop_all
serve $((port + 1)) one --node one
load "http://127.0.0.1:$((port + 1))" "1 node, PostgreSQL, --node"
stop_all
for i in 1 2 3; do serve $((port + i)) "node$i" --node "node$i"; done
TFAAS_LB_DIR=$work TFAAS_LB_BIND="127.0.0.1:$port" TFAAS_NODE1="127.0.0.1:$((port + 1))" \
  TFAAS_NODE2="127.0.0.1:$((port + 2))" TFAAS_NODE3="127.0.0.1:$((port + 3))" \
  "$haproxy" -db -f "$root/examples/cluster/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
sleep 3 # two health checks a second apart mark the nodes up
load "http://127.0.0.1:$port" "3 nodes behind HAProxy"
