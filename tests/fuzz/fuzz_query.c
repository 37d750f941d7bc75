/* fuzz_query.c - libFuzzer target for the gateway's query-string value
 * parsers (src/host/gateway/query.c: limit, skip, since, blocking, ...).
 *
 * The first 16 input bytes choose the bounds, the rest is the value text.
 * Invariants: an accepted integer lies in [min, max], is what the text
 * spells in decimal, and the text is at most 20 characters of an optional
 * '-' and digits; an accepted boolean is exactly "true" or "false". */
#include "fuzz.h"

#include "host/gateway/query.h"

/* The value the text spells, computed independently of strtoll; 0 when it
 * is not an optional '-' followed by one or more digits, or overflows. */
static int spelled(const char *s, int64_t *out) {
    int neg = *s == '-';
    const char *p = s + neg;
    if (!*p) return 0;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        int d = *p - '0';
        if (neg ? v < (INT64_MIN + d) / 10 : v > (INT64_MAX - d) / 10) return 0;
        v = v * 10 + (neg ? -d : d);
    }
    *out = v;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 16) return 0;
    int64_t min = (int64_t)fuzz_le64(data), max = (int64_t)fuzz_le64(data + 8);
    char *s = fuzz_cstr(data + 16, size - 16);

    int64_t v = 12345, want;
    if (query_int(s, min, max, 7, &v) == 0) {
        FUZZ_CHECK(v >= min && v <= max);
        FUZZ_CHECK(strlen(s) <= 20);
        FUZZ_CHECK(spelled(s, &want) && want == v);
    } else {
        /* rejected: out of range, not plain decimal, or too long */
        FUZZ_CHECK(!spelled(s, &want) || want < min || want > max || strlen(s) > 20);
    }
    FUZZ_CHECK(query_int(NULL, min, max, 7, &v) == 0 && v == 7);

    int b = 5;
    if (query_bool(s, 0, &b) == 0) FUZZ_CHECK((b == 1 && !strcmp(s, "true")) || (b == 0 && !strcmp(s, "false")));
    else FUZZ_CHECK(strcmp(s, "true") != 0 && strcmp(s, "false") != 0);
    free(s);
    return 0;
}
