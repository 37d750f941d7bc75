#!/usr/bin/env bash
# run.sh - a three-node tfaas cluster on this machine (`make cluster`): a
# throwaway PostgreSQL (scripts/pg-lib.sh), three `tfaas serve --node`
# nodes sharing it, and HAProxy (haproxy.cfg beside this script) in front.
# Prints how to call it; Ctrl-C stops everything and removes its files.
#
# Environment: TFAAS_BIN (default build/bin), TFAAS_LB_PORT (default 18180;
# the nodes take the next three ports).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${TFAAS_BIN:-$root/build/bin}
port=${TFAAS_LB_PORT:-18180}
. "$root/scripts/pg-lib.sh"

command -v haproxy >/dev/null || { echo "run.sh: haproxy not found (apt-get install haproxy)" >&2; exit 1; }
[ -x "$bin/tfaas" ] || { echo "run.sh: $bin/tfaas not found (make build)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tfaas-cluster-XXXXXX")
pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pg_stop
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

pg_start
auth="$(cat /proc/sys/kernel/random/uuid):$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for i in 1 2 3; do
  mkdir -m 700 "$work/node$i"
  "$bin/tfaas" serve --listen "127.0.0.1:$((port + i))" --state "$work/node$i" --store "$PG_URL" \
    --guest-auth "$auth" --node "node$i" >"$work/node$i.log" 2>&1 &
  pids+=($!)
  # one at a time: the first creates the schema and the guest namespace
  for _ in $(seq 150); do
    grep -q "listening on" "$work/node$i.log" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/node$i.log" >&2; exit 1; }
    sleep 0.2
  done
  grep -q "listening on" "$work/node$i.log" || { cat "$work/node$i.log" >&2; exit 1; }
done
TFAAS_LB_DIR=$work TFAAS_LB_BIND="127.0.0.1:$port" TFAAS_NODE1="127.0.0.1:$((port + 1))" \
  TFAAS_NODE2="127.0.0.1:$((port + 2))" TFAAS_NODE3="127.0.0.1:$((port + 3))" \
  haproxy -db -f "$here/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)

cat <<MSG
tfaas cluster: three nodes on one PostgreSQL behind HAProxy
  nodes on ports $((port + 1))-$((port + 3)); logs in $work/node{1,2,3}.log and haproxy.log

  export TFAAS_APIHOST=http://127.0.0.1:$port
  export TFAAS_AUTH=$auth
  $bin/tfaas action create hello $root/examples/hello.js
  $bin/tfaas action invoke hello -p name Ada --result
  $bin/tfaas activation list

Each answer's x-tfaas-node header names the node that served it
(curl -si -u "\$TFAAS_AUTH" ...). Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
echo "run.sh: a process of the cluster ended; stopping" >&2
