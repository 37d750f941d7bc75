/* query.c - query-string value parsing; see query.h. */
#include "host/gateway/query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int query_int(const char *s, int64_t min, int64_t max, int64_t dflt, int64_t *out) {
    if (!s) { *out = dflt; return 0; }
    /* strtoll accepts leading spaces and '+': OpenWhisk's values never have them. */
    if (!(*s == '-' || (*s >= '0' && *s <= '9'))) return -1;
    if (strlen(s) > 20) return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int query_bool(const char *s, int dflt, int *out) {
    if (!s) { *out = dflt; return 0; }
    if (!strcmp(s, "true")) { *out = 1; return 0; }
    if (!strcmp(s, "false")) { *out = 0; return 0; }
    return -1;
}
