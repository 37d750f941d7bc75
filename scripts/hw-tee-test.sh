#!/bin/sh
# hw-tee-test.sh - the hardware test of tfaas's TEE backends, for an operator
# on real hardware (none of it has run on real hardware yet):
#
#   scripts/hw-tee-test.sh tsm [--cert VCEK.pem | --collateral COLLATERAL.json]
#       on a TDX or SEV-SNP guest (as a user that may write
#       /sys/kernel/config/tsm/report; the entry "tfaas" is made there)
#   scripts/hw-tee-test.sh gramine --collateral COLLATERAL.json
#       inside Gramine-SGX (deploy/gramine/)
#
# Runs build/tests/tee_hw_probe (make build first): quotes 64 random bytes
# through the backend, verifies the evidence with the pinned Intel and AMD
# roots as of now, keeps it in $HW_TEE_OUT (default hw-tee-evidence.txt), exits 0 only when it
# is valid, not debug and binds those bytes (docs/architecture.md).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
probe=${TFAAS_TESTS_BIN:-$here/build/tests}/tee_hw_probe
[ -x "$probe" ] || { echo "hw-tee-test: $probe missing (make build)" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: hw-tee-test.sh tsm|gramine [--cert PEM] [--collateral JSON]" >&2; exit 2; }
out=${HW_TEE_OUT:-hw-tee-evidence.txt}
if "$probe" "$@" > "$out"; then
    echo "hw-tee-test: $1 evidence verified; evidence and claims in $out"
else
    rc=$?
    echo "hw-tee-test: $1 FAILED (exit $rc); the evidence, if any, is in $out" >&2
    exit "$rc"
fi
