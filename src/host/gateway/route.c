/* route.c - path -> route matching for the OpenWhisk REST API; see route.h. */
#include "host/gateway/route.h"

#include <stddef.h>
#include <string.h>

#define MAX_SEGMENTS 64 /* deeper paths match nothing */

/* Splits buf in place at '/' into at most max segments; empty segments (from
 * "//" or a trailing '/') are dropped. Returns the count, or -1 if more. */
static int split(char *buf, char **seg, int max) {
    int n = 0;
    char *p = buf;
    while (*p) {
        while (*p == '/') *p++ = '\0';
        if (!*p) break;
        if (n == max) return -1;
        seg[n++] = p;
        while (*p && *p != '/') p++;
    }
    return n;
}

route_kind route_match(const char *path, route *r) {
    memset(r, 0, offsetof(route, buf)); /* not the 4 KiB buffer: the path is copied in */
    r->buf[0] = '\0';
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len >= sizeof r->buf || path[0] != '/') return ROUTE_NONE;
    memcpy(r->buf, path, len + 1);
    /* Web actions keep their path whole: its extra part is the action's. */
    static const char WEB[] = "/api/v1/web/", APIGW[] = "/apigw/";
    if (!strncmp(r->buf, WEB, sizeof WEB - 1)) {
        r->name = r->buf + sizeof WEB - 1;
        return r->kind = ROUTE_WEB;
    }
    if (!strncmp(r->buf, APIGW, sizeof APIGW - 1)) {
        r->name = r->buf + sizeof APIGW - 1;
        return r->kind = ROUTE_APIGW;
    }

    char *seg[MAX_SEGMENTS];
    int n = split(r->buf, seg, MAX_SEGMENTS);
    if (n == 1 && !strcmp(seg[0], "metrics")) return r->kind = ROUTE_METRICS;
    if (n == 1 && !strcmp(seg[0], "health")) return r->kind = ROUTE_HEALTH;
    if ((n == 1 || n == 2) && !strcmp(seg[0], "console")) {
        r->name = n == 2 ? seg[1] : "";
        return r->kind = ROUTE_CONSOLE;
    }
    if (n >= 3 && !strcmp(seg[0], "tfaas") && !strcmp(seg[1], "v1")) {
        if (n == 3 && !strcmp(seg[2], "attestation")) return r->kind = ROUTE_ATTESTATION;
        if (n == 4 && !strcmp(seg[2], "kms") && !strcmp(seg[3], "transfer")) return r->kind = ROUTE_KMS_TRANSFER;
        /* The public routes: the same resources one segment deeper, GET and
         * POST only (a deploy needs credentials). */
        if (n == 8 && !strcmp(seg[2], "public") && !strcmp(seg[3], "namespaces") && !strcmp(seg[5], "actions")) {
            r->ns = seg[4];
            r->name = seg[6];
            r->is_public = 1;
            if (!strcmp(seg[7], "ohttp-keys")) return r->kind = ROUTE_CONF_KEYS;
            if (!strcmp(seg[7], "certificate")) return r->kind = ROUTE_CONF_CERT;
            if (!strcmp(seg[7], "ohttp")) return r->kind = ROUTE_CONF_OHTTP;
            r->ns = r->name = NULL;
            r->is_public = 0;
            return ROUTE_NONE;
        }
        if ((n == 6 || n == 7) && !strcmp(seg[2], "namespaces") && !strcmp(seg[4], "actions")) {
            r->ns = seg[3];
            r->name = seg[5];
            if (n == 6) return r->kind = ROUTE_CONF_ACTION;
            if (!strcmp(seg[6], "ohttp-keys")) return r->kind = ROUTE_CONF_KEYS;
            if (!strcmp(seg[6], "certificate")) return r->kind = ROUTE_CONF_CERT;
            if (!strcmp(seg[6], "ohttp")) return r->kind = ROUTE_CONF_OHTTP;
            r->ns = r->name = NULL;
        }
        return ROUTE_NONE;
    }
    if (n < 2 || strcmp(seg[0], "api") != 0 || strcmp(seg[1], "v1") != 0) return ROUTE_NONE;
    if (n == 2) return r->kind = ROUTE_INFO;
    if (strcmp(seg[2], "namespaces") != 0) return ROUTE_NONE;
    if (n == 3) return r->kind = ROUTE_NAMESPACES;
    if (n == 4) return ROUTE_NONE; /* /namespaces/{ns} alone is not a resource here */
    if (strcmp(seg[4], "actions") == 0) {
        r->ns = seg[3];
        if (n == 5) return r->kind = ROUTE_ACTIONS;
        /* .../actions/{pkg}/ lists the package's actions: the one route a
         * trailing '/' changes (wsk addresses a package's list so). */
        if (n == 6 && path[len - 1] == '/') {
            r->pkg = seg[5];
            return r->kind = ROUTE_ACTIONS;
        }
        if (n <= 7) {
            r->in_package = n == 7;
            r->pkg = n == 7 ? seg[5] : NULL;
            r->name = seg[n - 1];
            return r->kind = ROUTE_ACTION;
        }
    }
    if (n == 6 && strcmp(seg[5], "actions") == 0) { /* /namespaces/{ns}/{pkg}/actions */
        r->ns = seg[3];
        r->pkg = seg[4];
        return r->kind = ROUTE_ACTIONS;
    }
    if (strcmp(seg[4], "packages") == 0 && n <= 6) {
        r->ns = seg[3];
        if (n == 5) return r->kind = ROUTE_PACKAGES;
        r->name = seg[5];
        return r->kind = ROUTE_PACKAGE;
    }
    /* Triggers and rules: the same shape, a collection and its members. */
    static const struct { const char *segment; route_kind all, one; } ENTITIES[] = {
        {"triggers", ROUTE_TRIGGERS, ROUTE_TRIGGER},
        {"rules", ROUTE_RULES, ROUTE_RULE},
    };
    for (size_t i = 0; i < sizeof ENTITIES / sizeof ENTITIES[0]; i++) {
        if (strcmp(seg[4], ENTITIES[i].segment) != 0 || n > 6) continue;
        r->ns = seg[3];
        if (n == 5) return r->kind = ENTITIES[i].all;
        r->name = seg[5];
        return r->kind = ENTITIES[i].one;
    }
    if (strcmp(seg[4], "activations") == 0 && n <= 7) {
        r->ns = seg[3];
        if (n == 5) return r->kind = ROUTE_ACTIVATIONS;
        r->name = seg[5];
        if (n == 6) return r->kind = ROUTE_ACTIVATION;
        if (strcmp(seg[6], "result") == 0) return r->kind = ROUTE_ACTIVATION_RESULT;
        if (strcmp(seg[6], "logs") == 0) return r->kind = ROUTE_ACTIVATION_LOGS;
    }
    r->ns = r->name = r->pkg = NULL;
    r->in_package = 0;
    return r->kind = ROUTE_NONE;
}

int route_method_bit(const char *method) {
    if (!method) return 0;
    if (!strcmp(method, "GET")) return ROUTE_GET;
    if (!strcmp(method, "PUT")) return ROUTE_PUT;
    if (!strcmp(method, "POST")) return ROUTE_POST;
    if (!strcmp(method, "DELETE")) return ROUTE_DELETE;
    return 0;
}

int route_allowed(route_kind kind) {
    switch (kind) {
    case ROUTE_ACTION:
    case ROUTE_TRIGGER:
    case ROUTE_RULE: return ROUTE_GET | ROUTE_PUT | ROUTE_POST | ROUTE_DELETE;
    case ROUTE_PACKAGE: return ROUTE_GET | ROUTE_PUT | ROUTE_DELETE;
    case ROUTE_CONF_ACTION: return ROUTE_PUT;
    case ROUTE_CONF_OHTTP:
    case ROUTE_KMS_TRANSFER: return ROUTE_POST;
    case ROUTE_WEB:
    case ROUTE_APIGW: return ROUTE_GET | ROUTE_PUT | ROUTE_POST | ROUTE_DELETE; /* and any other (server.c) */
    case ROUTE_NONE: return 0;
    default: return ROUTE_GET;
    }
}

const char *route_allow_header(route_kind kind) {
    /* Spelled from route_allowed's method set, so a route's methods are said
     * in one place only. */
    switch (route_allowed(kind)) {
    case ROUTE_GET | ROUTE_PUT | ROUTE_POST | ROUTE_DELETE: return "GET, PUT, POST, DELETE";
    case ROUTE_GET | ROUTE_PUT | ROUTE_DELETE: return "GET, PUT, DELETE";
    case ROUTE_PUT: return "PUT";
    case ROUTE_POST: return "POST";
    default: return "GET";
    }
}
