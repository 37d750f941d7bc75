#!/bin/sh
# Copies Debian's duktape.c into the build tree with changes that keep a
# function's timeout honest when its time goes into built-ins rather than
# bytecode (docs/architecture.md, "The engine build"):
#  - the executor interrupt, where the timeout is checked, comes every 256
#    bytecode instructions instead of every 262144: one instruction may be a
#    built-in that runs for milliseconds (indexOf over a large array), so
#    262144 of them could outlast any timeout;
#  - the regular-expression matcher, which runs a whole match inside one
#    instruction, checks the timeout every 65536 steps (catastrophic
#    backtracking would otherwise hold the thread up to its 1e9-step limit);
#  - the string hash reads every byte of a string however long: Duktape's
#    "dense" hash (duk-config.sh turns it on) still hashes only the first
#    4096 bytes of a longer string and samples the rest, so long strings that
#    differ elsewhere (a 128 KiB prefix plus a counter) all share one bucket
#    and each new one is compared with every earlier one in full: interning
#    became quadratic, and a memory bomb of such strings ran out of time
#    before it ran out of memory;
#  - each file in scripts/duk-patches/ replaces one whole built-in: its first
#    line is the function's signature, which must stand exactly once in
#    duktape.c, and everything from there to the next line that is a lone "}"
#    gives way to the file (each file says why it exists);
#  - the built-ins whose single call can take long without allocating (the
#    allocator looks at the clock too) count their work with TFAAS_DUK_WORK
#    (duk-config.sh), which looks at the clock about every 2^20 units summed
#    over calls, so neither one huge call nor 256 large ones between two
#    interrupts outlast the deadline by more than a millisecond or so. The
#    table `checks` below names each place: a line of duktape.c (leading
#    tabs aside), how often it must stand there, and the check put before
#    or after it (after a line ending in "{", one tab deeper);
#  - JSON.parse interns a string without escapes straight from the text
#    (the same bytes its own loop would copy): Duktape builds every string
#    in a fresh 128-byte zeroed buffer, shrinks and interns it, then frees
#    the buffer, which was most of decoding a function's parameters and
#    environment on every call (docs/benchmarks.md, issue 14). Strings with
#    escapes, control characters or the end of the text take Duktape's own
#    path, which reports the errors. Likewise a plain number (no exponent,
#    at most 15 digits) is read by tfaas_duk_json_number (duktape/numbers.c)
#    rather than interned as text and converted with Duktape's bignums;
#  - a number's string in radix 10 (String(x), JSON.stringify, "" + x)
#    whose shortest digits are at most 15 is written by
#    tfaas_duk_number_string (src/trusted/duktape/numbers.c) rather than
#    by Duktape's Dragon4 on bignums, which was most of JSON.stringify of
#    an echo's result; toFixed, toPrecision, toString(radix) and longer
#    digits keep Duktape's path. JSON.stringify writes those digits
#    straight into its output instead of interning a string for each
#    number. The table below places all four.
# All call the same DUK_USE_EXEC_TIMEOUT_CHECK hook duk-config.sh wires in.
set -eu
in=$1 out=$2
patches=$(dirname "$0")/duk-patches
mkdir -p "$(dirname "$out")"
intctr='^#define DUK_HTHREAD_INTCTR_DEFAULT (256L \* 1024L)$'
restep='^		re_ctx->steps_count++;$'
hashshort='^#define DUK__STRHASH_SHORTSTRING  4096L$'
grep -q "$intctr" "$in" || { echo "duk-source.sh: $in has no DUK_HTHREAD_INTCTR_DEFAULT (256L * 1024L)" >&2; exit 1; }
[ "$(grep -c "$restep" "$in")" = 1 ] || { echo "duk-source.sh: $in: regexp step counter not found exactly once" >&2; exit 1; }
[ "$(grep -c "$hashshort" "$in")" = 1 ] || { echo "duk-source.sh: $in: DUK__STRHASH_SHORTSTRING 4096L not found exactly once" >&2; exit 1; }
sed -e "s|$intctr|#define DUK_HTHREAD_INTCTR_DEFAULT 256L /* tfaas: was 256L * 1024L */|" \
    -e "s|$hashshort|#define DUK__STRHASH_SHORTSTRING  DUK_SIZE_MAX /* tfaas: was 4096L, every byte is hashed */|" \
    -e "s|$restep|		re_ctx->steps_count++;\\
		/* tfaas: the timeout holds inside a match too */\\
		if ((re_ctx->steps_count \\& 0xffffUL) == 0 \\&\\& DUK_USE_EXEC_TIMEOUT_CHECK(re_ctx->thr->heap->heap_udata)) {\\
			DUK_ERROR_RANGE(re_ctx->thr, \"execution timeout\");\\
			DUK_WO_NORETURN(return NULL;);\\
		}|" \
    "$in" > "$out.tmp"
for patch in "$patches"/*.c; do
  signature=$(head -n 1 "$patch")
  [ "$(grep -cxF "$signature" "$out.tmp")" = 1 ] || { echo "duk-source.sh: $patch: '$signature' not found exactly once in $in" >&2; exit 1; }
  awk -v sig="$signature" -v file="$patch" '
    skipping && $0 == "}" { skipping = 0; next }
    skipping { next }
    $0 == sig { while ((getline line < file) > 0) print line; close(file); skipping = 1; next }
    { print }' "$out.tmp" > "$out.tmp2"
  mv "$out.tmp2" "$out.tmp"
done
# line | count | before/after | check. Units: a byte compared is one, an
# element visited or value encoded is 64 (a property access costs tens of
# nanoseconds).
checks='while (p <= p_end && p >= p_start) {|1|after|TFAAS_DUK_WORK(thr, 1); /* indexOf, lastIndexOf, includes */
if (duk_memcmp((const void *) p, (const void *) q_start, (size_t) q_blen) == 0) {|3|before|TFAAS_DUK_WORK(thr, q_blen); /* search, replace, split: O(n*m) */
DUK_LOCAL duk_small_int_t duk__array_sort_compare(duk_hthread *thr, duk_int_t idx1, duk_int_t idx2) {|1|after|TFAAS_DUK_WORK(thr, 64); /* sort: n log n of these in one call */
ret = duk_js_string_compare(h1, h2); /* retval is directly usable */|1|before|TFAAS_DUK_WORK(thr, DUK_HSTRING_GET_BYTELEN(h1));
rc = duk_js_string_compare(h1, h2);|1|before|TFAAS_DUK_WORK(thr, DUK_HSTRING_GET_BYTELEN(h1)); /* s < t */
DUK_LOCAL duk_bool_t duk__json_enc_value(duk_json_enc_ctx *js_ctx, duk_idx_t idx_holder) {|1|after|TFAAS_DUK_WORK(js_ctx->thr, 64);
DUK_LOCAL void duk__json_dec_value(duk_json_dec_ctx *js_ctx) {|1|after|TFAAS_DUK_WORK(js_ctx->thr, 64);
DUK_LOCAL duk_bool_t duk__json_stringify_fast_value(duk_json_enc_ctx *js_ctx, duk_tval *tv) {|1|after|TFAAS_DUK_WORK(js_ctx->thr, 64);
DUK_EXTERNAL duk_bool_t duk_get_prop_index(duk_hthread *thr, duk_idx_t obj_idx, duk_uarridx_t arr_idx) {|1|after|TFAAS_DUK_WORK(thr, 64); /* every Array.prototype loop, also over holes */
DUK_EXTERNAL duk_bool_t duk_has_prop_index(duk_hthread *thr, duk_idx_t obj_idx, duk_uarridx_t arr_idx) {|1|after|TFAAS_DUK_WORK(thr, 64);
for (i = 0; i < DUK_HEAP_ALLOC_FAIL_MARKANDSWEEP_LIMIT; i++) {|3|before|if (DUK_USE_EXEC_TIMEOUT_CHECK(heap->heap_udata)) return NULL; /* past the deadline: no ten collections of a large heap before failing */
DUK_BW_INIT_PUSHBUF(js_ctx->thr, bw, DUK__JSON_DECSTR_BUFSIZE);|1|before|{ const duk_uint8_t *tfaas_end = js_ctx->p; while (duk__json_decstr_lookup[*tfaas_end] != 0) tfaas_end++; if (*tfaas_end == DUK_ASC_DOUBLEQUOTE) { duk_push_lstring(thr, (const char *) js_ctx->p, (duk_size_t) (tfaas_end - js_ctx->p)); js_ctx->p = tfaas_end + 1; return; } } /* tfaas: a string without escapes is interned from the text itself */
DUK_DDD(DUK_DDDPRINT("parse_number"));|1|after|{ double tfaas_v; const duk_uint8_t *tfaas_end; if (tfaas_duk_json_number(js_ctx->p, &tfaas_end, &tfaas_v)) { js_ctx->p = tfaas_end; duk_push_number(thr, tfaas_v); return; } } /* tfaas: a plain number without bignums */
duk__dragon4_double_to_ctx(nc_ctx, x); /* -> sets '\''f'\'' and '\''e'\'' */|1|before|if (radix == 10 && digits == 0 && flags == 0) { char tfaas_s[TFAAS_DUK_NUMBER_MAX]; int tfaas_n = tfaas_duk_number_string(neg ? -x : x, tfaas_s); if (tfaas_n > 0) { duk_push_lstring(thr, tfaas_s, (duk_size_t) tfaas_n); return; } } /* tfaas: a short number without bignums */
duk_numconv_stringify(thr, 10 /*radix*/, 0 /*digits*/, n2s_flags);|1|before|{ char tfaas_s[TFAAS_DUK_NUMBER_MAX]; int tfaas_n = tfaas_duk_number_string(d, tfaas_s); if (tfaas_n > 0) { DUK_BW_WRITE_ENSURE_BYTES(thr, &js_ctx->bw, (const duk_uint8_t *) tfaas_s, (duk_size_t) tfaas_n); return; } } /* tfaas: JSON.stringify writes it in place, not interned */'
printf '%s\n' "$checks" | while IFS='|' read -r line count where check; do
  [ "$(sed 's/^	*//' "$out.tmp" | grep -cxF "$line")" = "$count" ] ||
    { echo "duk-source.sh: '$line' does not stand $count times in $in" >&2; exit 1; }
  awk -v line="$line" -v where="$where" -v check="$check" '
    { body = $0; sub(/^\t*/, "", body) }
    body == line {
      indent = substr($0, 1, length($0) - length(body))
      if (where == "before") print indent check
      print
      if (where == "after") print indent (line ~ /\{$/ ? "\t" : "") check
      next
    }
    { print }' "$out.tmp" > "$out.tmp2"
  mv "$out.tmp2" "$out.tmp"
done
mv "$out.tmp" "$out"
