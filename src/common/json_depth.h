/* json_depth.h - the one nesting limit for JSON that reaches a function:
 * the gateway refuses request bodies nested deeper (400), the confidential
 * path inside the enclave refuses inner requests nested deeper, and the
 * Duktape build's JSON decoder (DUK_USE_JSON_DEC_RECLIMIT, set from this
 * constant by scripts/duk-config.sh) accepts exactly this depth, so nothing
 * the gateway lets through fails later inside an engine. */
#ifndef TFAAS_COMMON_JSON_DEPTH_H
#define TFAAS_COMMON_JSON_DEPTH_H

#include <stddef.h>

/* Arrays and objects nested inside each other, the outermost counting as 1.
 * (Duktape counts the same way: its decoder takes exactly this many.) */
#define JSON_MAX_DEPTH 1000
/* The same number as a string literal, for messages built at compile time. */
#define JSON_MAX_DEPTH_TEXT JSON_DEPTH_STR_(JSON_MAX_DEPTH)
#define JSON_DEPTH_STR_(n) JSON_DEPTH_STR2_(n)
#define JSON_DEPTH_STR2_(n) #n

/* The deepest nesting of arrays and objects in JSON text, brackets inside
 * strings not counted; stops counting once past `limit` (returns limit + 1),
 * so hostile text costs one pass. Meant for text about to be parsed: it does
 * not validate, so for malformed text the answer is only a bound. */
size_t json_depth(const char *text, size_t len, size_t limit);

#endif
