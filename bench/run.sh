#!/usr/bin/env bash
# `make bench`: measures tfaas and workerd serving the same functions (hello,
# JSON echo, fib(25)) in one run, then every engine × isolation mode of tfaas
# (matrix.mjs), and writes bench/results/latest.md and a PNG of the trade-off.
# usage: bench/run.sh [BIN_DIR]        (BIN_DIR holds tfaas and tfaas-enclave)
#
# Knobs (environment): BENCH_DURATION (s, per wrk run, default 10),
# BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS ("16 64"), BENCH_FRESH (fresh
# actions for first-invocation latency, 50), BENCH_COLD_RUNS (5),
# BENCH_ONLY (tfaas or workerd: measure one side only), BENCH_SERVER_CPU (0),
# BENCH_CLIENT_CPU (1); the engine × isolation matrix: BENCH_MATRIX (1; 0 skips
# it), BENCH_MATRIX_DURATION (s, 5), BENCH_MATRIX_WARMUP (1), BENCH_DENSITY
# (function counts for memory per function, "1 100 1000"), BENCH_MATRIX_COLD (20);
# BENCH_NEIGHBOURS (1; 0 skips hello beside a hostile tenant); BENCH_CONFIDENTIAL
# (1; 0 skips confidential hello over OHTTP); BENCH_FETCH (1; 0 skips the fetch
# round trip), BENCH_FETCH_COUNT (sequential requests per function, 300);
# BENCH_CLUSTER (0; 1 adds three nodes behind HAProxy, bench/cluster.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin_arg=${1:-$root/build/bin}

duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-2}
connections=${BENCH_CONNECTIONS:-16 64}
fresh=${BENCH_FRESH:-50}
cold_runs=${BENCH_COLD_RUNS:-5}
only=${BENCH_ONLY:-}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

case "$only" in ""|tfaas|workerd) ;; *) die "BENCH_ONLY must be tfaas or workerd";; esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# ---------------------------------------------------------------- tools
for tool in wrk taskset node curl setsid base64; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done
if want tfaas; then
  [ -d "$bin_arg" ] || die "$bin_arg: no such directory (build first: make)"
  bin=$(cd "$bin_arg" && pwd)
  [ -x "$bin/tfaas" ] && [ -x "$bin/tfaas-enclave" ] || die "$bin must hold tfaas and tfaas-enclave (build first: make)"
fi
if want workerd; then
  if [ ! -d "$here/node_modules/workerd" ]; then
    note "installing workerd (npm ci in bench/)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in bench/ failed"
  fi
  # The platform package's native binary, without the npm wrapper in between.
  workerd=$(ls "$here"/node_modules/@cloudflare/workerd-linux-*/bin/workerd 2>/dev/null | head -n 1 || true)
  [ -n "$workerd" ] || workerd=$here/node_modules/.bin/workerd
  [ -x "$workerd" ] || die "workerd binary not found under bench/node_modules"
fi
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ]; then
  note "only $ncpu CPU: server and load generator cannot be pinned apart; results are not comparable"
  server_cpu=0 client_cpu=0
fi

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tfaas-bench.XXXXXX")
servers=()          # process-group leaders started here (setsid)
stop_group() {      # TERM the group, then KILL what is left after 3 s
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${servers[@]+"${servers[@]}"}"; do stop_group "$pid"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

results=$here/results
raw=$results/raw
rm -rf "$raw"; mkdir -p "$raw"
meta=$raw/meta.env
: > "$meta"
put_meta() { printf '%s=%s\n' "$1" "$2" >> "$meta"; }

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# Memory of a process and all its descendants: prints "rss_kb anon_kb procs"
# (VmRSS counts mapped executable pages too; RssAnon is the private heap).
rss_tree() {
  local pids=("$1") i=0 kb=0 anon=0 n=0 p c a
  while [ $i -lt ${#pids[@]} ]; do
    for c in $(pgrep -P "${pids[$i]}" 2>/dev/null || true); do pids+=("$c"); done
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do
    c= a=
    read -r c a < <(awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {if (r != "") print r, a}' "/proc/$p/status" 2>/dev/null || true) || true
    [ -n "${c:-}" ] && { kb=$((kb + c)); anon=$((anon + ${a:-0})); n=$((n + 1)); }
  done
  echo "$kb $anon $n"
}

# Compare a response body with the expected JSON (order of keys preserved).
same_json() {
  node -e 'const [a,b]=process.argv.slice(1);try{process.exit(JSON.stringify(JSON.parse(a))===JSON.stringify(JSON.parse(b))?0:1)}catch{process.exit(1)}' "$1" "$2"
}

hello_body='{"name":"Ada"}'
hello_expect='{"greeting":"Hello, Ada!"}'
echo_body='{"id":4217,"name":"Ada Lovelace","active":true,"ratio":0.618,"tags":["analytical","engine","notes"],"address":{"city":"London","zip":"W1"},"history":[1815,1843,1852],"comment":null}'
echo_expect=$echo_body
hello_code="function main(params){return {greeting:'Hello, '+(params.name||'world')+'!'}}"
echo_code='function main(params){return params}'

# run_wrk LABEL URL BODY AUTH_B64: warm-up, then the measured runs.
run_wrk() {
  local label=$1 url=$2 body=$3 auth=$4 c out
  for c in $connections; do
    out=$raw/$label-c$c.txt
    BENCH_BODY=$body BENCH_AUTH=$auth taskset -c "$client_cpu" \
      wrk -t1 -c"$c" -d"${warmup}s" --timeout 5s -s "$here/wrk/post.lua" "$url" > /dev/null \
      || die "wrk warm-up against $url failed"
    BENCH_BODY=$body BENCH_AUTH=$auth taskset -c "$client_cpu" \
      wrk -t1 -c"$c" -d"${duration}s" --timeout 5s --latency -s "$here/wrk/post.lua" "$url" > "$out" \
      || die "wrk against $url failed (see $out)"
    grep '^BENCH ' "$out" | sed 's/^BENCH //' > "$raw/$label-c$c.bench"
    awk -v l="$label" -v c="$c" '/^BENCH/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "bench:   %-14s %3d conns  %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", l, c, v["rps"],
        v["p50_us"] / 1000, v["p99_us"] / 1000, v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
    }' "$out" >&2
  done
}

start_s=$(date +%s)
put_meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put_meta cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
put_meta ncpu "$ncpu"
put_meta kernel "$(uname -r)"
put_meta wrk "$(wrk -v 2>&1 | awk 'NR==1 {print $2}')"
put_meta node "$(node --version)"
put_meta commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
put_meta duration "$duration"
put_meta warmup "$warmup"
put_meta connections "$connections"
put_meta server_cpu "$server_cpu"
put_meta client_cpu "$client_cpu"

# ---------------------------------------------------------------- tfaas
if want tfaas; then
  port=$(free_port)
  url=http://127.0.0.1:$port
  auth_user=$(cat /proc/sys/kernel/random/uuid)
  auth_key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  auth="$auth_user:$auth_key"
  auth_b64=$(printf '%s' "$auth" | base64 -w0)
  mkdir -p "$tmp/tfaas-state"
  note "tfaas: starting serve on $url (cpu $server_cpu)"
  setsid taskset -c "$server_cpu" "$bin/tfaas" serve --listen "127.0.0.1:$port" \
    --state "$tmp/tfaas-state" --guest-auth "$auth" > "$tmp/tfaas.log" 2>&1 &
  tfaas_pid=$!
  servers+=("$tfaas_pid")
  for _ in $(seq 1 100); do
    grep -q "listening on" "$tmp/tfaas.log" && break
    kill -0 "$tfaas_pid" 2>/dev/null || { cat "$tmp/tfaas.log" >&2; die "tfaas serve exited during start-up (log above)"; }
    sleep 0.1
  done
  grep -q "listening on" "$tmp/tfaas.log" || { cat "$tmp/tfaas.log" >&2; die "tfaas serve did not print 'listening on' within 10 s (log above)"; }

  for fn in hello echo; do
    code_var=${fn}_code
    doc=$(node -e 'console.log(JSON.stringify({exec:{kind:"js:duktape",code:process.argv[1]}}))' "${!code_var}")
    status=$(curl -s -o "$tmp/put.out" -w '%{http_code}' -u "$auth" -H 'content-type: application/json' \
      -X PUT "$url/api/v1/namespaces/_/actions/$fn?overwrite=true" --data-binary "$doc") || status=000
    [ "$status" = 200 ] || die "tfaas: creating action $fn failed: HTTP $status $(head -c 300 "$tmp/put.out")"
  done
  for fn in hello echo; do
    body_var=${fn}_body; expect_var=${fn}_expect
    expect=${!expect_var}
    got=$(curl -s -u "$auth" -H 'content-type: application/json' --max-time 10 \
      -X POST "$url/api/v1/namespaces/_/actions/$fn?blocking=true&result=true" --data-binary "${!body_var}") || got="(no response)"
    same_json "$got" "$expect" || die "tfaas: $fn returned $got, expected $expect"
  done
  note "tfaas: hello and echo deployed and answering; load: wrk -t1, ${warmup}s warm-up + ${duration}s per run (cpu $client_cpu)"
  run_wrk tfaas-hello "$url/api/v1/namespaces/_/actions/hello?blocking=true&result=true" "$hello_body" "$auth_b64"
  run_wrk tfaas-echo "$url/api/v1/namespaces/_/actions/echo?blocking=true&result=true" "$echo_body" "$auth_b64"
  read -r kb anon procs < <(rss_tree "$tfaas_pid")
  put_meta tfaas_rss_kb "$kb"; put_meta tfaas_anon_kb "$anon"; put_meta tfaas_procs "$procs"

  note "tfaas: first invocation after create, $fresh fresh actions"
  # A lean keep-alive client (5 unmeasured pairs first), then the same with
  # Node's fetch as the client, the measure of earlier runs (bench/lib.mjs,
  # firstInvokes: fetch's own time was most of the old figure on a VM).
  taskset -c "$client_cpu" node "$here/first-invoke.mjs" --url "$url" --auth "$auth" --count "$fresh" --warmup 5 \
    --out "$raw/tfaas-first-invoke.json" >&2 || die "tfaas: first-invocation measurement failed"
  read -r kb anon procs < <(rss_tree "$tfaas_pid")
  put_meta tfaas_rss_after_fresh_kb "$kb"; put_meta tfaas_anon_after_fresh_kb "$anon"; put_meta tfaas_procs_after_fresh "$procs"
  taskset -c "$client_cpu" node "$here/first-invoke.mjs" --url "$url" --auth "$auth" --count "$fresh" --client fetch \
    --prefix bench-fresh-fetch --out "$raw/tfaas-first-invoke-fetch.json" >&2 || die "tfaas: first-invocation measurement (fetch) failed"
  if [ -x "$bin/tfaas-enclave-v8" ]; then
    note "tfaas: first invocation after create on js:v8, $fresh fresh actions"
    taskset -c "$client_cpu" node "$here/first-invoke.mjs" --url "$url" --auth "$auth" --count "$fresh" --warmup 5 --kind js:v8 \
      --prefix bench-fresh-v8 --out "$raw/tfaas-first-invoke-v8.json" >&2 || die "tfaas: first-invocation measurement (js:v8) failed"
  fi
  stop_group "$tfaas_pid"

  note "tfaas: process cold start to first hello, $cold_runs runs"
  taskset -c "$client_cpu" node "$here/cold-start.mjs" --server tfaas --bin "$bin/tfaas" --tmp "$tmp" \
    --auth "$auth" --runs "$cold_runs" --out "$raw/tfaas-cold.json" >&2 || die "tfaas: cold-start measurement failed"
  put_meta tfaas_version "$(timeout 5 "$bin/tfaas" --version 2>/dev/null | grep -m1 "^tfaas" || true)"
fi

# ---------------------------------------------------------------- workerd
if want workerd; then
  port=$(free_port)
  url=http://127.0.0.1:$port
  note "workerd: starting on $url (cpu $server_cpu)"
  setsid taskset -c "$server_cpu" "$workerd" serve "$here/workerd/config.capnp" \
    --socket-addr "http=127.0.0.1:$port" > "$tmp/workerd.log" 2>&1 &
  workerd_pid=$!
  servers+=("$workerd_pid")
  up=
  for _ in $(seq 1 100); do
    kill -0 "$workerd_pid" 2>/dev/null || { cat "$tmp/workerd.log" >&2; die "workerd exited during start-up (log above)"; }
    if curl -s -o /dev/null --max-time 1 -X POST "$url/hello" -d '{}'; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] || { cat "$tmp/workerd.log" >&2; die "workerd did not answer within 10 s (log above)"; }
  for fn in hello echo; do
    body_var=${fn}_body; expect_var=${fn}_expect
    expect=${!expect_var}
    got=$(curl -s -H 'content-type: application/json' --max-time 10 -X POST "$url/$fn" --data-binary "${!body_var}") || got="(no response)"
    same_json "$got" "$expect" || die "workerd: $fn returned $got, expected $expect"
  done
  # The same Authorization header as for tfaas (workerd ignores it), so both
  # servers receive byte-for-byte comparable requests.
  wd_auth=$(printf '%s' "bench:$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" | base64 -w0)
  note "workerd: answering; load: wrk -t1, ${warmup}s warm-up + ${duration}s per run (cpu $client_cpu)"
  run_wrk workerd-hello "$url/hello" "$hello_body" "$wd_auth"
  run_wrk workerd-echo "$url/echo" "$echo_body" "$wd_auth"
  read -r kb anon procs < <(rss_tree "$workerd_pid")
  put_meta workerd_rss_kb "$kb"; put_meta workerd_anon_kb "$anon"; put_meta workerd_procs "$procs"
  stop_group "$workerd_pid"

  note "workerd: process cold start to first hello, $cold_runs runs"
  taskset -c "$client_cpu" node "$here/cold-start.mjs" --server workerd --bin "$workerd" \
    --config "$here/workerd/config.capnp" --runs "$cold_runs" --out "$raw/workerd-cold.json" >&2 \
    || die "workerd: cold-start measurement failed"
  put_meta workerd_version "$("$workerd" --version 2>/dev/null | head -n 1)"
fi

# ---------------------------------------------------------------- neighbours
# Warm hello of one tenant alone and beside a tenant running hostile functions.
if want tfaas && [ "${BENCH_NEIGHBOURS:-1}" != 0 ]; then
  note "neighbours: hello alone and beside a hostile tenant (bench/neighbours.mjs)"
  node "$here/neighbours.mjs" --bin "$bin" --tmp "$tmp" --out "$raw/neighbours.json" --seconds "$duration" \
    --server-cpu "$server_cpu" --client-cpu "$client_cpu" || die "neighbours measurement failed"
fi

# ---------------------------------------------------------------- confidential
# Confidential hello over OHTTP (receipts on) against plaintext hello.
if want tfaas && [ "${BENCH_CONFIDENTIAL:-1}" != 0 ]; then
  note "confidential: hello over the full OHTTP path (bench/confidential.mjs)"
  [ -x "$bin/../tests/tfaas_crypto_tool" ] || die "$bin/../tests/tfaas_crypto_tool not built (make)"
  node "$here/confidential.mjs" --bin "$bin" --tools "$bin/../tests" --tmp "$tmp" --out "$raw/confidential.json" \
    --seconds "$duration" --warmup "$warmup" --conns 64 \
    --server-cpu "$server_cpu" --client-cpu "$client_cpu" || die "confidential measurement failed"
fi

# ---------------------------------------------------------------- fetch
# One outbound HTTPS fetch inside a function, tfaas (TLS in the enclave)
# beside workerd, against the same local origin (bench/fetch-rtt.mjs).
if want tfaas && [ "${BENCH_FETCH:-1}" != 0 ]; then
  note "fetch: one outbound HTTPS round trip inside a function (bench/fetch-rtt.mjs)"
  taskset -c "$client_cpu" node "$here/fetch-rtt.mjs" --bin "$bin" ${workerd:+--workerd "$workerd"} \
    --count "${BENCH_FETCH_COUNT:-300}" --out "$raw/fetch-rtt.json" >&2 || die "fetch measurement failed"
fi

# ---------------------------------------------------------------- matrix
# Engines × isolation modes, with workerd measured the same way (matrix.mjs).
if [ "${BENCH_MATRIX:-1}" != 0 ]; then
  note "matrix: engines × isolation modes and workerd (bench/matrix.mjs)"
  node "$here/matrix.mjs" --tmp "$tmp" --out "$raw/matrix.json" ${only:+--only "$only"} \
    ${bin:+--bin "$bin"} ${workerd:+--workerd "$workerd"} \
    --seconds "${BENCH_MATRIX_DURATION:-5}" --warmup "${BENCH_MATRIX_WARMUP:-1}" \
    --density "${BENCH_DENSITY:-1 100 1000}" --cold "${BENCH_MATRIX_COLD:-20}" \
    --server-cpu "$server_cpu" --client-cpu "$client_cpu" || die "matrix measurement failed"
fi

# ---------------------------------------------------------------- cluster
# Off by default (BENCH_CLUSTER=1): three nodes on one PostgreSQL behind
# HAProxy against one node, on this one machine (bench/cluster.sh).
if want tfaas && [ "${BENCH_CLUSTER:-0}" != 0 ]; then
  note "cluster: one node against three behind HAProxy, on PostgreSQL (bench/cluster.sh)"
  "$here/cluster.sh" "$bin" "$duration" | tee "$raw/cluster.txt" || die "cluster measurement failed"
fi

# ---------------------------------------------------------------- TCB size
# A worker enclave's own code: src/trusted (without the key and quoting
# services' folders) and src/common (the engines' sources are not in the
# tree; vendored Duktape files would be excluded by name). The key service's
# (tfaas-kms): src/trusted/kms, what every enclave shares (the
# tfaas_trusted_base sources of CMakeLists.txt, with their headers) and
# src/common; no engine.
tcb_files=$(find "$root/src/trusted" "$root/src/common" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) \
  ! -path '*/trusted/kms/*' ! -path '*/trusted/qe/*' \
  ! -name 'duktape.[ch]' ! -name 'duk_config.h' ! -name 'duk_*.h' 2>/dev/null | sort)
kms_tcb_files=$(ls "$root"/src/trusted/kms/*.[ch] "$root"/src/common/*.[ch] \
  "$root"/src/trusted/{tee,tee_sim,quote_proto,sandbox,main_common}.[ch] 2>/dev/null | sort)
if [ -n "$tcb_files" ]; then
  put_meta tcb_files "$(echo "$tcb_files" | wc -l)"
  put_meta tcb_lines "$(cat $tcb_files | wc -l)"
  put_meta tcb_code_lines "$(cat $tcb_files | grep -cv '^[[:space:]]*$' || true)"
  put_meta kms_tcb_files "$(echo "$kms_tcb_files" | wc -l)"
  put_meta kms_tcb_lines "$(cat $kms_tcb_files | wc -l)"
  put_meta kms_tcb_code_lines "$(cat $kms_tcb_files | grep -cv '^[[:space:]]*$' || true)"
fi
put_meta elapsed_s "$(( $(date +%s) - start_s ))"

node "$here/report.mjs" "$raw" "$results/latest.md" "$results/isolation-tradeoff.png"
