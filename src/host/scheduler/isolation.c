/* isolation.c - isolation mode names, the stricter-only policy and the
 * activation -> enclave unit mapping; see isolation.h. */
#include "host/scheduler/isolation.h"

#include <stdio.h>
#include <string.h>

static const char *const NAMES[] = {
    [ISOLATION_UNSET] = "unset",
    [ISOLATION_SHARED] = "shared-enclave",
    [ISOLATION_TENANT] = "enclave-per-tenant",
    [ISOLATION_FUNCTION] = "enclave-per-function",
};

const char *isolation_name(isolation_mode m) {
    return (unsigned)m < sizeof NAMES / sizeof NAMES[0] ? NAMES[m] : "unknown";
}

int isolation_parse(const char *s, isolation_mode *out) {
    if (!s) return -1;
    for (isolation_mode m = ISOLATION_SHARED; m <= ISOLATION_FUNCTION; m++) {
        if (strcmp(s, NAMES[m]) == 0) {
            *out = m;
            return 0;
        }
    }
    return -1;
}

isolation_mode isolation_effective(isolation_mode server, isolation_mode requested) {
    return requested > server ? requested : server;
}

int isolation_check_request(isolation_mode server, isolation_mode requested, char *err, size_t errsize) {
    if (requested == ISOLATION_UNSET || requested >= server) return 0;
    snprintf(err, errsize,
             "The annotation %s asks for %s, which is weaker than this server's %s: an action may only ask "
             "for a stricter isolation mode (enclave-per-function is strictest, then enclave-per-tenant, then "
             "shared-enclave)",
             ISOLATION_ANNOTATION, isolation_name(requested), isolation_name(server));
    return -1;
}

size_t isolation_fn_name_len(const char *fn_key) {
    const char *at = strrchr(fn_key, '@');
    return at ? (size_t)(at - fn_key) : strlen(fn_key);
}

/* The unit keys' prefixes (and the shared one's whole key). */
static const char tenant[] = "tenant:", function[] = "function:", shared_unit[] = "shared";

int isolation_unit_key(isolation_mode m, const char *ns, const char *fn_key, char *out, size_t outsize) {
    int n;
    switch (m) {
    /* Per function name, not per revision: an update keeps the warm process
     * (the old revision's heaps are dropped) instead of starting another
     * one and leaving the old idle until its TTL; both revisions belong to
     * the same owner, so sharing a process between them gives nothing away. */
    case ISOLATION_FUNCTION:
        n = snprintf(out, outsize, "%s%.*s", function, (int)isolation_fn_name_len(fn_key), fn_key);
        break;
    case ISOLATION_TENANT: n = snprintf(out, outsize, "%s%s", tenant, ns); break;
    case ISOLATION_SHARED: n = snprintf(out, outsize, "%s", shared_unit); break;
    default: return -1;
    }
    return n >= 0 && (size_t)n < outsize ? 0 : -1;
}

size_t isolation_fn_ns_len(const char *fn_key) {
    return strcspn(fn_key, "/");
}

isolation_mode isolation_unit_mode(const char *unit) {
    if (strncmp(unit, function, sizeof function - 1) == 0) return ISOLATION_FUNCTION;
    if (strncmp(unit, tenant, sizeof tenant - 1) == 0) return ISOLATION_TENANT;
    return strcmp(unit, shared_unit) == 0 ? ISOLATION_SHARED : ISOLATION_UNSET;
}

const char *isolation_unit_ns(const char *unit, size_t *len) {
    const char *ns = NULL;
    if (strncmp(unit, tenant, sizeof tenant - 1) == 0) {
        ns = unit + sizeof tenant - 1;
        *len = strlen(ns);
    } else if (strncmp(unit, function, sizeof function - 1) == 0) {
        ns = unit + sizeof function - 1;
        *len = isolation_fn_ns_len(ns);
    }
    return ns;
}
