#!/usr/bin/env bash
# Runs every libFuzzer target of a TFAAS_FUZZ build for a bounded time on its
# seed corpus (tests/fuzz/corpus/<name>/) and prints, per target, the execs,
# execs/s and coverage libFuzzer reports. New inputs go to a scratch corpus in
# the build directory, never into the committed seeds; a crash or invariant
# violation leaves its input in BUILD/fuzz-artifacts/ and fails the run.
# A target with a token dictionary (tests/fuzz/<name>.dict) gets it (-dict).
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
bindir=$build/fuzz
work=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
mkdir -p "$work" "$artifacts"

shopt -s nullglob
targets=("$bindir"/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no targets in $bindir (build with -DTFAAS_FUZZ=ON, target fuzz_all)" >&2
  exit 1
fi

passed=0 failed=0
printf '%-18s %12s %10s %8s %8s\n' target execs execs/s cov ft
for bin in "${targets[@]}"; do
  name=${bin##*/fuzz_}
  seeds=tests/fuzz/corpus/$name
  mkdir -p "$work/$name"
  log=$build/fuzz-$name.log
  extra=()
  [[ -f tests/fuzz/$name.dict ]] && extra+=("-dict=tests/fuzz/$name.dict")
  # -rss_limit_mb bounds a runaway input; -timeout flags a hang (seconds).
  if ! "$bin" "$work/$name" "$seeds" -max_total_time="$seconds" -print_final_stats=1 \
      -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/$name-" "${extra[@]}" >"$log" 2>&1; then
    echo "fuzz: $name FAILED; the input is in $artifacts/, the log is $log:" >&2
    grep -A20 -E 'ERROR|invariant violated|deadly signal' "$log" | head -40 >&2 || tail -20 "$log" >&2
    failed=$((failed + 1))
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  # the last status line ("#N DONE cov: C ft: F ...") holds the final coverage
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  printf '%-18s %12s %10s %8s %8s\n' "$name" "$execs" "$rate" "${cov:-?}" "${ft:-?}"
  passed=$((passed + 1))
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
