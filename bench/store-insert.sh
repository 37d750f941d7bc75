#!/usr/bin/env bash
# store-insert.sh - a store's cost per activation record, alone (issue 14):
# builds bench/store-insert.c against BUILD_DIR's libraries, fills a fresh
# state directory with PREFILL hello-sized records, then commits COUNT more
# in sections of 30 and reports the committing thread's CPU and the bytes
# written per record (pinned to CPU 0), and, with CALLGRIND=1, the
# instructions per record of the whole process (valgrind, exact whatever
# the machine's load; its figure minus an empty run's, over COUNT).
# usage: bench/store-insert.sh BUILD_DIR [PREFILL (60000)] [COUNT (30000)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd) prefill=${2:-60000} count=${3:-30000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -I"$here/../src" -o "$work/store-insert" "$here/store-insert.c" \
  "$build/libtfaas_host_store.a" "$build/libtfaas_host_metrics.a" "$build/libtfaas_host_util.a" \
  "$build/libtfaas_common.a" $(pkg-config --libs jansson libcrypto sqlite3 libpq libzip) -lpthread -lm
mkdir -m 700 "$work/state"
"$work/store-insert" "$work/state" "$prefill" 0
taskset -c 0 "$work/store-insert" "$work/state" 0 "$count"
if [ -n "${CALLGRIND:-}" ]; then
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/store-insert" "$work/state" 0 "$1" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
  full=$(ir "$count") empty=$(ir 0)
  echo "instructions per record: $(( (full - empty) / count ))"
fi
