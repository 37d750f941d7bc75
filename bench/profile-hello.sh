#!/usr/bin/env bash
# profile-hello.sh - where a warm hello's time goes (issue 14): starts
# `tfaas serve` from BIN on CPU 0 with a fresh state directory, deploys the
# hello of `make bench`, warms up 2 s, then loads it with wrk -t1 -cCONNS on
# CPU 1 for SECONDS and reports, for serve and its enclave processes: CPU
# time per request, context switches per request, and each thread's share.
# With PERF_OUT=FILE it also records `perf record -g` of those processes
# during the load and prints the share of each thread and library
# (`perf report --sort comm,dso`).
# It ends with what the activation records cost the disk: bytes serve
# wrote to storage per request during the load (/proc/PID/io write_bytes:
# WAL appends and checkpoint copies), and, once serve has stopped (and
# SQLite has folded the WAL in), the database's bytes per activation.
# With SYSCALLS_OUT=FILE it records every system call those processes
# enter during the load (`perf record -e raw_syscalls:sys_enter`, from a
# second before it to a second after; this slows the server, so its CPU
# figures are not comparable with a run without it) and prints system calls
# per request by thread and by kind.
# PROFILE_SERVE_ARGS adds options to serve's command line (e.g.
# "--isolation shared-enclave"); PROFILE_FN=echo loads the JSON echo of
# `make bench` (its function and 200-byte body) instead of the hello.
# PROFILE_WARMUP (2s) is the load before the measurement: longer to bring a
# namespace to a small --tenant-storage first (issue 14's retention A/B).
# usage: bench/profile-hello.sh BIN_DIR [SECONDS (8)] [CONNS (64)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 secs=${2:-8} conns=${3:-64}
port=${PROFILE_PORT:-39655}
auth="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:$(printf 'a%.0s' $(seq 64))"
b64=$(printf '%s' "$auth" | base64 -w0)
url="http://127.0.0.1:$port/api/v1/namespaces/_/actions/hello"
hello='{"exec":{"kind":"js:duktape","code":"function main(params){return {greeting:\"Hello, \"+(params.name||\"world\")+\"!\"}}"}}'
body='{"name":"bench"}'
if [ "${PROFILE_FN:-hello}" = echo ]; then
  hello='{"exec":{"kind":"js:duktape","code":"function main(params){return params}"}}'
  body='{"id":4217,"name":"Ada Lovelace","active":true,"ratio":0.618,"tags":["analytical","engine","notes"],"address":{"city":"London","zip":"W1"},"history":[1815,1843,1852],"comment":null}'
fi
st=$(mktemp -d)
setsid taskset -c 0 "$bin/tfaas" serve --listen "127.0.0.1:$port" --state "$st" --guest-auth "$auth" \
  --max-connections-per-client 0 ${PROFILE_SERVE_ARGS:-} > "$st/log" 2>&1 &
pid=$!
trap 'kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$st"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$st/log" && break; sleep 0.1; done
grep -q "listening on" "$st/log" || { cat "$st/log" >&2; exit 1; }
curl -sf -o /dev/null -u "$auth" -H 'content-type: application/json' -X PUT "$url?overwrite=true" --data-binary "$hello"
load() { BENCH_BODY=$body BENCH_AUTH=$b64 taskset -c 1 wrk -t1 -c"$conns" -d"$1" --latency \
  -s "$here/wrk/post.lua" "$url?blocking=true&result=true"; }
load "${PROFILE_WARMUP:-2s}" > /dev/null
procs() { local p=$1; echo "$p"; for c in $(pgrep -P "$p"); do procs "$c"; done; }
# "comm ticks switches" per thread of serve and its enclaves
threads() {
  for p in $(procs "$pid"); do
    for t in /proc/"$p"/task/*; do
      read -r -a f < "$t/stat" 2>/dev/null || continue
      echo "$(tr ' ' _ < "$t/comm") $((f[13] + f[14])) $(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")"
    done
  done
}
threads > "$st/before"
io_written() { awk '/^write_bytes/ {print $2}' /proc/"$pid"/io; }
io0=$(io_written)
perf_pid=
if [ -n "${PERF_OUT:-}" ]; then
  perf record -q -g -p "$(procs "$pid" | paste -sd,)" -o "$PERF_OUT" -- sleep "$secs" 2> /dev/null &
  perf_pid=$!
fi
sys_pid=
if [ -n "${SYSCALLS_OUT:-}" ]; then
  # started a second before the load and ended a second after it: perf
  # takes a while to attach to every thread of a loaded server, and a
  # window shorter than the load would count too few calls per request
  perf record -q -e raw_syscalls:sys_enter -p "$(procs "$pid" | paste -sd,)" -o "$SYSCALLS_OUT" -- sleep "$((secs + 2))" 2> /dev/null &
  sys_pid=$!
  sleep 1
fi
load "${secs}s" | grep '^BENCH' > "$st/wrk"
[ -z "$perf_pid" ] || wait "$perf_pid" || true
[ -z "$sys_pid" ] || wait "$sys_pid" || true
threads > "$st/after"
io1=$(io_written)
n=$(sed 's/.*requests=\([0-9]*\).*/\1/' "$st/wrk")
tck=$(getconf CLK_TCK)
sed 's/^BENCH //' "$st/wrk"
awk -v n="$n" -v tck="$tck" '
  NR == FNR { t0[$1] += $2; c0[$1] += $3; next }
  { t[$1] += $2; c[$1] += $3 }
  END {
    for (k in t) { dt = t[k] - t0[k]; dc = c[k] - c0[k]; T += dt; C += dc; if (dt > 0 || dc > n / 100) row[k] = dt " " dc }
    printf "server CPU per request: %.1f us; context switches per request: %.2f\n", T * 1e6 / tck / n, C / n
    printf "%-16s %10s %12s\n", "thread", "us/request", "switches/req"
    for (k in row) { split(row[k], v, " "); printf "%-16s %10.1f %12.2f\n", k, v[1] * 1e6 / tck / n, v[2] / n }
  }' "$st/before" "$st/after"
kill -TERM -- "-$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
rows=$(sqlite3 "$st/tfaas.db" 'SELECT count(*) FROM activations')
dbb=$(cat "$st"/tfaas.db* | wc -c)
echo "storage: $(( (io1 - io0) / n )) bytes written per request; database $dbb bytes for $rows activations ($(( dbb / rows )) per activation)"
if [ -n "${PERF_OUT:-}" ]; then
  perf report -i "$PERF_OUT" --no-children --sort comm,dso --stdio -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -20
fi
if [ -n "${SYSCALLS_OUT:-}" ]; then
  # "thread syscall count/request", the names from the kernel's x86-64 table
  perf script -i "$SYSCALLS_OUT" -F comm,trace 2> /dev/null |
    awk -v n="$n" '
      FILENAME != "-" { if ($1 == "#define" && $2 ~ /^__NR_/) name[$3] = substr($2, 6); next }
      { for (i = 1; i < NF; i++) if ($i == "NR") { id = $(i + 1); break }
        k = $1 " " (id in name ? name[id] : id); c[k]++; t[$1]++ }
      END {
        printf "system calls per request (%d requests)\n", n
        for (k in t) printf "%-16s %-16s %6.2f\n", k, "(all)", t[k] / n
        for (k in c) if (c[k] / n >= 0.01) { split(k, v, " "); printf "%-16s %-16s %6.2f\n", v[1], v[2], c[k] / n }
      }' /usr/include/x86_64-linux-gnu/asm/unistd_64.h - | sort -k1,1 -k3,3nr
fi
