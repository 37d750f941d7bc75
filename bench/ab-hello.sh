#!/usr/bin/env bash
# ab-hello.sh - the warm hello of two tfaas builds, alternately, to tell
# whether a change costs the hello anything (issue 10: at most 5%). Each run
# starts `tfaas serve` from BIN on CPU 0 with a fresh state directory,
# deploys the hello of `make bench`, warms up 2 s and loads it with
# wrk -t1 -c64 on CPU 1 for SECONDS; rounds alternate old and new so that a
# machine's drift falls on both.
# usage: bench/ab-hello.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS (3)] [SECONDS (10)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 rounds=${3:-3} secs=${4:-10}
port=${AB_PORT:-39555}
auth="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:$(printf 'a%.0s' $(seq 64))"
b64=$(printf '%s' "$auth" | base64 -w0)
url="http://127.0.0.1:$port/api/v1/namespaces/_/actions/hello"
hello='{"exec":{"kind":"js:duktape","code":"function main(params){return {greeting:\"Hello, \"+(params.name||\"world\")+\"!\"}}"}}'

run() { # BIN LABEL
  local bin=$1 label=$2 st pid extra=()
  st=$(mktemp -d) # mode 0700: serve refuses a state directory others can write
  # wrk is one client address: lift the per-client limit where there is one
  "$bin/tfaas" serve --help | grep -q -- --max-connections-per-client && extra=(--max-connections-per-client 0)
  setsid taskset -c 0 "$bin/tfaas" serve --listen "127.0.0.1:$port" --state "$st" --guest-auth "$auth" \
    "${extra[@]}" > "$st/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$st/log" && break; sleep 0.1; done
  grep -q "listening on" "$st/log" || { cat "$st/log" >&2; kill "$pid"; exit 1; }
  curl -sf -o /dev/null -u "$auth" -H 'content-type: application/json' -X PUT "$url?overwrite=true" --data-binary "$hello"
  BENCH_BODY='{"name":"bench"}' BENCH_AUTH=$b64 taskset -c 1 \
    wrk -t1 -c64 -d2s -s "$here/wrk/post.lua" "$url?blocking=true&result=true" > /dev/null
  BENCH_BODY='{"name":"bench"}' BENCH_AUTH=$b64 taskset -c 1 \
    wrk -t1 -c64 -d"${secs}s" --latency -s "$here/wrk/post.lua" "$url?blocking=true&result=true" | grep '^BENCH' | awk -v l="$label" -f "$here/wrk/summary.awk"
  kill -TERM -- "-$pid" 2>/dev/null || kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$st"
}

for _ in $(seq "$rounds"); do run "$old" old; run "$new" new; done
