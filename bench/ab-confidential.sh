#!/usr/bin/env bash
# ab-confidential.sh - confidential hello of two tfaas builds, alternately
# (bench/confidential.mjs each time), printing for each run the plaintext and
# confidential requests/s and the server's CPU per request of both. The CPU
# figures are the ones to compare on a machine shared with other work.
# usage: bench/ab-confidential.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS (2)] [SECONDS (6)]
# (a build directory holds bin/ and tests/, as build/ does)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 rounds=${3:-2} secs=${4:-6}
for _ in $(seq "$rounds"); do
  for build in "$old" "$new"; do
    tmp=$(mktemp -d)
    node "$here/confidential.mjs" --bin "$build/bin" --tools "$build/tests" --tmp "$tmp" --out "$tmp/c.json" \
      --seconds "$secs" --warmup 2 2>/dev/null
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const f = (x) => Math.round(x);
      console.log(`${process.argv[2]}: plaintext ${f(r.plaintext.rps)} req/s ${f(r.plaintext.server_cpu_us_per_request)} us/req; ` +
        `confidential ${f(r.confidential.rps)} req/s ${f(r.confidential.server_cpu_us_per_request)} us/req, p99 ${r.confidential.p99_ms} ms`);
    ' "$tmp/c.json" "$build"
    rm -rf "$tmp"
  done
done
