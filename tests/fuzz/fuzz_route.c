/* fuzz_route.c - libFuzzer target for the gateway's request-path router
 * (src/host/gateway/route.c), which sees every request path a client sends.
 *
 * Invariants: the namespace and name it returns point into the route's own
 * buffer, are non-empty and hold no '/'; which of them is set matches the
 * route kind; a matched path keeps matching the same way when a trailing
 * '/' is added; a route that matches allows at least one method (GET for
 * all but the confidential deploy, PUT, and invocation, POST). The web and
 * API route paths (ROUTE_WEB, ROUTE_APIGW) keep their rest whole: name is
 * what follows the prefix, '/'s included, and grows by the added '/'.
 * /metrics names nothing; /console names its asset ("" for the page). */
#include "fuzz.h"

#include "host/gateway/route.h"

static int inside(const route *r, const char *p) {
    return p >= r->buf && p < r->buf + sizeof r->buf && memchr(p, '\0', (size_t)(r->buf + sizeof r->buf - p));
}

static void check_part(const route *r, const char *p) {
    FUZZ_CHECK(inside(r, p));
    FUZZ_CHECK(p[0] != '\0' && strchr(p, '/') == NULL);
}

static int whole(route_kind kind) { return kind == ROUTE_WEB || kind == ROUTE_APIGW; }

static void check_route(const char *path, const route *r, route_kind kind) {
    FUZZ_CHECK(kind == r->kind);
    if (whole(kind)) {
        FUZZ_CHECK(r->ns == NULL && r->name && inside(r, r->name));
        FUZZ_CHECK(!strncmp(path, kind == ROUTE_WEB ? "/api/v1/web/" : "/apigw/", kind == ROUTE_WEB ? 12 : 7));
        FUZZ_CHECK(!strcmp(r->name, path + (kind == ROUTE_WEB ? 12 : 7)));
        FUZZ_CHECK(route_allowed(kind) & ROUTE_GET);
        return;
    }
    if (kind == ROUTE_HEALTH) {
        FUZZ_CHECK(r->ns == NULL && r->name == NULL && !r->pkg && !r->in_package && !r->is_public);
        FUZZ_CHECK(strstr(path, "health") != NULL && route_allowed(kind) == ROUTE_GET);
        return;
    }
    if (kind == ROUTE_METRICS || kind == ROUTE_CONSOLE) {
        /* one segment (console: and an asset name, or "" for the page) */
        FUZZ_CHECK(r->ns == NULL && !r->pkg && !r->in_package && !r->is_public);
        FUZZ_CHECK(strstr(path, kind == ROUTE_METRICS ? "metrics" : "console") != NULL);
        if (kind == ROUTE_METRICS) FUZZ_CHECK(r->name == NULL);
        else FUZZ_CHECK(r->name && (r->name[0] == '\0' || (inside(r, r->name) && !strchr(r->name, '/'))));
        FUZZ_CHECK(route_allowed(kind) & ROUTE_GET);
        return;
    }
    if (kind == ROUTE_KMS_TRANSFER) { /* /tfaas/v1/kms/transfer: names nothing, POST only */
        FUZZ_CHECK(!r->ns && !r->name && !r->pkg && !r->in_package && !r->is_public && strstr(path, "transfer"));
        FUZZ_CHECK(route_allowed(kind) == ROUTE_POST);
        return;
    }
    int has_ns = kind >= ROUTE_ACTIONS && kind != ROUTE_ATTESTATION;
    int has_name = kind == ROUTE_ACTION || kind == ROUTE_PACKAGE ||
                   (kind >= ROUTE_ACTIVATION && kind != ROUTE_ATTESTATION && kind != ROUTE_PACKAGES &&
                    kind != ROUTE_TRIGGERS && kind != ROUTE_RULES);
    FUZZ_CHECK((r->ns != NULL) == has_ns);
    FUZZ_CHECK((r->name != NULL) == has_name);
    if (r->ns) check_part(r, r->ns);
    if (r->name) check_part(r, r->name);
    FUZZ_CHECK(!r->in_package || kind == ROUTE_ACTION);
    FUZZ_CHECK(!r->pkg || kind == ROUTE_ACTION || kind == ROUTE_ACTIONS);
    FUZZ_CHECK(!r->in_package || r->pkg);
    if (r->pkg) check_part(r, r->pkg);
    if (kind != ROUTE_NONE) {
        FUZZ_CHECK(path[0] == '/' && strlen(path) < ROUTE_MAX_PATH);
        FUZZ_CHECK(route_allowed(kind) & (kind == ROUTE_CONF_ACTION ? ROUTE_PUT
                                          : kind == ROUTE_CONF_OHTTP ? ROUTE_POST : ROUTE_GET));
        FUZZ_CHECK(route_allow_header(kind) != NULL);
        if (r->ns) FUZZ_CHECK(strstr(path, r->ns) != NULL);
        if (r->name) FUZZ_CHECK(strstr(path, r->name) != NULL);
    } else {
        FUZZ_CHECK(route_allowed(kind) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = fuzz_cstr(data, size);
    static route r, slash; /* 4 KiB each: keep them off the fuzzer's stack */
    route_kind kind = route_match(path, &r);
    check_route(path, &r, kind);

    size_t len = strlen(path);
    /* A trailing '/' changes nothing, except that .../actions/{pkg}/ lists
     * the package where .../actions/{pkg} is the action {pkg}. */
    if (kind != ROUTE_NONE && len + 1 < ROUTE_MAX_PATH && !(kind == ROUTE_ACTION && !r.pkg)) {
        char *with = malloc(len + 2);
        FUZZ_CHECK(with != NULL);
        memcpy(with, path, len);
        with[len] = '/';
        with[len + 1] = '\0';
        FUZZ_CHECK(route_match(with, &slash) == kind);
        FUZZ_CHECK((slash.ns == NULL) == (r.ns == NULL) && (!r.ns || strcmp(slash.ns, r.ns) == 0));
        if (whole(kind))
            FUZZ_CHECK(strlen(slash.name) == strlen(r.name) + 1 && !strncmp(slash.name, r.name, strlen(r.name)));
        else
            FUZZ_CHECK((slash.name == NULL) == (r.name == NULL) && (!r.name || strcmp(slash.name, r.name) == 0));
        FUZZ_CHECK(slash.in_package == r.in_package);
        free(with);
    }
    /* the method lookup takes the same outside bytes */
    int bit = route_method_bit(path);
    FUZZ_CHECK(bit == 0 || bit == ROUTE_GET || bit == ROUTE_PUT || bit == ROUTE_POST || bit == ROUTE_DELETE);
    free(path);
    return 0;
}
