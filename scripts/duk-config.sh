#!/bin/sh
# Writes tfaas's duk_config.h: Debian's copy with the execution-timeout check,
# the interrupt counter and fastint turned on, JSON.stringify's fast path
# (off in Debian's copy: it walks property tables directly instead of making
# an enumerator object for each object written, which cost about 2 of a JSON
# echo's 11 µs in the enclave, and falls back to the standard path for a
# whole value on anything unusual: toJSON, getters, inherited array
# elements, nesting past 64, replacers; duk-source.sh counts its values
# against the timeout), the dense string hash (the
# default samples long strings, so strings that differ only in a few bytes
# share a bucket and a function can make interning quadratic; duk-source.sh
# makes the dense one read every byte of long strings too), Date's clock
# replaced, and the JSON decoder's nesting limit taken from
# src/common/json_depth.h (JSON_MAX_DEPTH, the gateway's limit too). The
# timeout check calls tfaas_duk_exec_timeout_check(heap udata) and Date.now()
# / new Date() call tfaas_duk_date_now(ctx), the coarsened clock; both are
# defined in src/trusted/engine_duktape.c. It also defines TFAAS_DUK_WORK,
# which the built-ins duk-source.sh patches call with the work they do
# (bytes compared, elements visited): about every 2^20 units, summed over
# all calls on the thread, it asks the same timeout check and throws past it,
# and declares the number conversions of src/trusted/duktape/numbers.c that
# duk-source.sh wires in: tfaas_duk_json_number, JSON.parse's reader of
# plain numbers, and tfaas_duk_number_string, ToString of short numbers.
set -eu
in=$1 out=$2
mkdir -p "$(dirname "$out")"
grep -q '^#define DUK_USE_JSON_DEC_RECLIMIT [0-9]*$' "$in" || { echo "duk-config.sh: $in has no '#define DUK_USE_JSON_DEC_RECLIMIT N'" >&2; exit 1; }
for feature in DUK_USE_EXEC_TIMEOUT_CHECK DUK_USE_INTERRUPT_COUNTER DUK_USE_FASTINT DUK_USE_DATE_GET_NOW DUK_USE_STRHASH_DENSE DUK_USE_JSON_STRINGIFY_FASTPATH; do
  grep -q "^#undef $feature\$" "$in" || { echo "duk-config.sh: $in has no '#undef $feature'" >&2; exit 1; }
done
sed -e 's|^#undef DUK_USE_EXEC_TIMEOUT_CHECK$|extern int tfaas_duk_exec_timeout_check(void *udata);\n#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) tfaas_duk_exec_timeout_check(udata)\nextern _Thread_local unsigned long tfaas_duk_work;\n#define TFAAS_DUK_WORK(thr, units) do { if ((tfaas_duk_work += (unsigned long) (units)) >= (1UL << 20)) { tfaas_duk_work = 0; if (DUK_USE_EXEC_TIMEOUT_CHECK((thr)->heap->heap_udata)) DUK_ERROR_RANGE((thr), "execution timeout"); } } while (0)\nextern int tfaas_duk_json_number(const unsigned char *p, const unsigned char **end, double *out);\n#define TFAAS_DUK_NUMBER_MAX 32\nextern int tfaas_duk_number_string(double x, char *out);|' \
    -e 's|^#undef DUK_USE_INTERRUPT_COUNTER$|#define DUK_USE_INTERRUPT_COUNTER|' \
    -e 's|^#undef DUK_USE_FASTINT$|#define DUK_USE_FASTINT|' \
    -e 's|^#undef DUK_USE_STRHASH_DENSE$|#define DUK_USE_STRHASH_DENSE|' \
    -e 's|^#undef DUK_USE_JSON_STRINGIFY_FASTPATH$|#define DUK_USE_JSON_STRINGIFY_FASTPATH|' \
    -e 's|^#undef DUK_USE_DATE_GET_NOW$|extern double tfaas_duk_date_now(void *ctx);\n#define DUK_USE_DATE_GET_NOW(ctx) tfaas_duk_date_now((void *)(ctx))|' \
    -e 's|^#define DUK_USE_JSON_DEC_RECLIMIT [0-9]*$|#include "common/json_depth.h"\n#define DUK_USE_JSON_DEC_RECLIMIT JSON_MAX_DEPTH|' \
    "$in" > "$out.tmp"
mv "$out.tmp" "$out"
