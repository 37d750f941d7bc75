/* test_gateway_parse.c - the gateway's pure parsing: route matching, query
 * values and Basic authentication headers, including hostile input. */
#include "check.h"

#include "host/gateway/auth.h"
#include "host/gateway/query.h"
#include "host/gateway/route.h"

#include <stdlib.h>
#include <string.h>

static void test_routes(void) {
    route r;
    CHECK(route_match("/api/v1", &r) == ROUTE_INFO);
    CHECK(route_match("/api/v1/", &r) == ROUTE_INFO);
    CHECK(route_match("/tfaas/v1/attestation", &r) == ROUTE_ATTESTATION);
    CHECK(route_match("/tfaas/v1/attestation/x", &r) == ROUTE_NONE);
    CHECK(route_match("/tfaas/v2/attestation", &r) == ROUTE_NONE);
    /* public confidential routes: a real namespace, no deploy route */
    CHECK(route_match("/tfaas/v1/public/namespaces/guest/actions/f/ohttp", &r) == ROUTE_CONF_OHTTP && r.is_public);
    CHECK_STR(r.ns, "guest");
    CHECK_STR(r.name, "f");
    CHECK(route_match("/tfaas/v1/public/namespaces/guest/actions/f/certificate", &r) == ROUTE_CONF_CERT && r.is_public);
    CHECK(route_match("/tfaas/v1/public/namespaces/guest/actions/f/ohttp-keys", &r) == ROUTE_CONF_KEYS && r.is_public);
    CHECK(route_match("/tfaas/v1/public/namespaces/guest/actions/f", &r) == ROUTE_NONE && !r.is_public);
    CHECK(route_match("/tfaas/v1/public/namespaces/guest/actions/f/other", &r) == ROUTE_NONE && !r.is_public);
    CHECK(r.ns == NULL && r.name == NULL);
    CHECK(route_match("/tfaas/v1/namespaces/guest/actions/f/ohttp", &r) == ROUTE_CONF_OHTTP && !r.is_public);
    CHECK(route_allowed(ROUTE_ATTESTATION) == ROUTE_GET);
    /* the key transfer between nodes' key services (protocol.md §5.6) */
    CHECK(route_match("/tfaas/v1/kms/transfer", &r) == ROUTE_KMS_TRANSFER && !r.ns && !r.name);
    CHECK(route_match("/tfaas/v1/kms/transfer/x", &r) == ROUTE_NONE);
    CHECK(route_match("/tfaas/v1/kms", &r) == ROUTE_NONE);
    CHECK(route_allowed(ROUTE_KMS_TRANSFER) == ROUTE_POST);
    /* /metrics and the console's files: GET only, outside /api/v1 */
    CHECK(route_match("/metrics", &r) == ROUTE_METRICS);
    CHECK(route_match("/metrics/", &r) == ROUTE_METRICS);
    CHECK(route_match("/metrics/x", &r) == ROUTE_NONE);
    CHECK(route_allowed(ROUTE_METRICS) == ROUTE_GET);
    CHECK(route_match("/console", &r) == ROUTE_CONSOLE);
    CHECK_STR(r.name, "");
    CHECK(route_match("/console/console.js", &r) == ROUTE_CONSOLE);
    CHECK_STR(r.name, "console.js");
    CHECK(route_match("/console/a/b", &r) == ROUTE_NONE);
    CHECK(route_allowed(ROUTE_CONSOLE) == ROUTE_GET);
    /* /health: load balancers' checks, GET only, no name */
    CHECK(route_match("/health", &r) == ROUTE_HEALTH && r.name == NULL && r.ns == NULL);
    CHECK(route_match("/health/", &r) == ROUTE_HEALTH);
    CHECK(route_match("/health/x", &r) == ROUTE_NONE);
    CHECK(route_match("/api/v1/health", &r) == ROUTE_NONE);
    CHECK(route_allowed(ROUTE_HEALTH) == ROUTE_GET);
    CHECK(route_match("/api/v1/namespaces", &r) == ROUTE_NAMESPACES);
    CHECK(route_match("/api/v1/namespaces/_/actions", &r) == ROUTE_ACTIONS);
    CHECK_STR(r.ns, "_");
    CHECK(r.name == NULL);
    CHECK(route_match("/api/v1/namespaces/guest/actions/hello", &r) == ROUTE_ACTION);
    CHECK_STR(r.ns, "guest");
    CHECK_STR(r.name, "hello");
    CHECK(!r.in_package);
    CHECK(route_match("/api/v1/namespaces/_/actions/pkg/hello", &r) == ROUTE_ACTION);
    CHECK(r.in_package);
    CHECK_STR(r.pkg, "pkg");
    CHECK_STR(r.name, "hello");
    CHECK(route_match("/api/v1/namespaces/_/actions/pkg/hello/x", &r) == ROUTE_NONE);
    CHECK(r.ns == NULL && r.name == NULL && r.pkg == NULL && !r.in_package);
    /* a package's actions: wsk's trailing '/', and the client's "ns/pkg" */
    CHECK(route_match("/api/v1/namespaces/_/actions/pkg/", &r) == ROUTE_ACTIONS);
    CHECK_STR(r.pkg, "pkg");
    CHECK(r.name == NULL);
    CHECK(route_match("/api/v1/namespaces/_/actions/pkg", &r) == ROUTE_ACTION && r.pkg == NULL);
    CHECK(route_match("/api/v1/namespaces/guest/pkg/actions", &r) == ROUTE_ACTIONS);
    CHECK_STR(r.ns, "guest");
    CHECK_STR(r.pkg, "pkg");
    CHECK(route_match("/api/v1/namespaces/_/packages", &r) == ROUTE_PACKAGES && r.name == NULL);
    CHECK(route_match("/api/v1/namespaces/_/packages/utils", &r) == ROUTE_PACKAGE);
    CHECK_STR(r.name, "utils");
    CHECK(route_match("/api/v1/namespaces/_/packages/utils/x", &r) == ROUTE_NONE);
    CHECK(route_allowed(ROUTE_PACKAGE) == (ROUTE_GET | ROUTE_PUT | ROUTE_DELETE));
    CHECK_STR(route_allow_header(ROUTE_PACKAGE), "GET, PUT, DELETE");
    CHECK(route_match("/api/v1/namespaces/_/actions/my action", &r) == ROUTE_ACTION);
    CHECK_STR(r.name, "my action");
    CHECK(route_match("/api/v1/namespaces/_/activations", &r) == ROUTE_ACTIVATIONS);
    CHECK(route_match("/api/v1/namespaces/_/activations/abc", &r) == ROUTE_ACTIVATION);
    CHECK_STR(r.name, "abc");
    CHECK(route_match("/api/v1/namespaces/_/activations/abc/result", &r) == ROUTE_ACTIVATION_RESULT);
    CHECK(route_match("/api/v1/namespaces/_/activations/abc/logs", &r) == ROUTE_ACTIVATION_LOGS);
    CHECK(route_match("/api/v1/namespaces/_/activations/abc/other", &r) == ROUTE_NONE);
    CHECK(r.ns == NULL && r.name == NULL);
    CHECK(route_match("/api/v1/namespaces/_/activations/abc/logs/x", &r) == ROUTE_NONE);
    CHECK(route_match("/api/v1/namespaces/_/widgets", &r) == ROUTE_NONE);
    CHECK(route_match("/api/v1/namespaces/_/triggers", &r) == ROUTE_TRIGGERS);
    CHECK(route_match("/api/v1/namespaces/_/triggers/t", &r) == ROUTE_TRIGGER);
    CHECK_STR(r.name, "t");
    CHECK(route_match("/api/v1/namespaces/_/triggers/t/x", &r) == ROUTE_NONE);
    CHECK(route_match("/api/v1/namespaces/_/rules", &r) == ROUTE_RULES);
    CHECK(route_match("/api/v1/namespaces/ns/rules/r", &r) == ROUTE_RULE);
    CHECK_STR(r.ns, "ns");
    CHECK(route_allowed(ROUTE_RULE) == (ROUTE_GET | ROUTE_PUT | ROUTE_POST | ROUTE_DELETE));
    CHECK(route_allowed(ROUTE_TRIGGERS) == ROUTE_GET);
    CHECK(route_match("/api/v1/namespaces/whisk.system/actions/alarms/once", &r) == ROUTE_ACTION);
    CHECK(r.in_package && !strcmp(r.pkg, "alarms") && !strcmp(r.name, "once"));
    CHECK(route_match("/api/v1/namespaces/_", &r) == ROUTE_NONE);
    CHECK(route_match("/api/v2/namespaces", &r) == ROUTE_NONE);
    CHECK(route_match("/", &r) == ROUTE_NONE);
    CHECK(route_match("", &r) == ROUTE_NONE);
    CHECK(route_match(NULL, &r) == ROUTE_NONE);
    CHECK(route_match("api/v1", &r) == ROUTE_NONE);
    CHECK(route_match("//api//v1//namespaces//_//actions//", &r) == ROUTE_ACTIONS);

    /* hostile: very long, very deep */
    char *big = malloc(ROUTE_MAX_PATH * 2);
    memset(big, 'a', ROUTE_MAX_PATH * 2 - 1);
    big[0] = '/';
    big[ROUTE_MAX_PATH * 2 - 1] = '\0';
    CHECK(route_match(big, &r) == ROUTE_NONE);
    for (int i = 0; i < ROUTE_MAX_PATH - 1; i++) big[i] = (i % 2) ? 'x' : '/';
    big[ROUTE_MAX_PATH - 1] = '\0';
    CHECK(route_match(big, &r) == ROUTE_NONE);
    free(big);

    CHECK(route_method_bit("GET") == ROUTE_GET);
    CHECK(route_method_bit("get") == 0);
    CHECK(route_method_bit("PATCH") == 0);
    CHECK(route_allowed(ROUTE_ACTION) & ROUTE_POST);
    CHECK(!(route_allowed(ROUTE_ACTIONS) & ROUTE_PUT));
    CHECK(!(route_allowed(ROUTE_ACTIVATION) & ROUTE_DELETE));
    CHECK_STR(route_allow_header(ROUTE_ACTIVATIONS), "GET");
}

static void test_query(void) {
    int64_t v;
    int b;
    CHECK(query_int(NULL, 0, 200, 30, &v) == 0 && v == 30);
    CHECK(query_int("5", 0, 200, 30, &v) == 0 && v == 5);
    CHECK(query_int("200", 0, 200, 30, &v) == 0 && v == 200);
    CHECK(query_int("201", 0, 200, 30, &v) < 0);
    CHECK(query_int("-1", 0, 200, 30, &v) < 0);
    CHECK(query_int("-1", -5, 200, 30, &v) == 0 && v == -1);
    CHECK(query_int("", 0, 200, 30, &v) < 0);
    CHECK(query_int(" 5", 0, 200, 30, &v) < 0);
    CHECK(query_int("+5", 0, 200, 30, &v) < 0);
    CHECK(query_int("5x", 0, 200, 30, &v) < 0);
    CHECK(query_int("0x10", 0, 200, 30, &v) < 0);
    CHECK(query_int("99999999999999999999999", 0, INT64_MAX, 0, &v) < 0);
    CHECK(query_int("9223372036854775807", 0, INT64_MAX, 0, &v) == 0 && v == INT64_MAX);
    CHECK(query_bool(NULL, 1, &b) == 0 && b == 1);
    CHECK(query_bool("true", 0, &b) == 0 && b == 1);
    CHECK(query_bool("false", 1, &b) == 0 && b == 0);
    CHECK(query_bool("TRUE", 0, &b) < 0);
    CHECK(query_bool("1", 0, &b) < 0);
    CHECK(query_bool("", 0, &b) < 0);
}

/* "Basic " + base64(text) */
static void basic(char *out, const char *text) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    strcpy(out, "Basic ");
    char *o = out + 6;
    size_t n = strlen(text);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        *o++ = T[v >> 18 & 63];
        *o++ = T[v >> 12 & 63];
        *o++ = i + 1 < n ? T[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? T[v & 63] : '=';
    }
    *o = '\0';
}

static void test_auth(void) {
    char u[AUTH_MAX_PART + 1], k[AUTH_MAX_PART + 1], h[4096];
    basic(h, "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP");
    CHECK(auth_parse_basic(h, u, k) == AUTH_OK);
    CHECK_STR(u, "23bc46b1-71f6-4ed5-8c54-816aa4f8c502");
    CHECK_STR(k, "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP");
    CHECK(auth_parse_basic(NULL, u, k) == AUTH_MISSING);
    basic(h, "a:b");
    CHECK(auth_parse_basic(h, u, k) == AUTH_OK && !strcmp(u, "a") && !strcmp(k, "b"));
    basic(h, "ab:cd:ef"); /* the key may contain ':'; the uuid ends at the first */
    CHECK(auth_parse_basic(h, u, k) == AUTH_OK && !strcmp(u, "ab") && !strcmp(k, "cd:ef"));
    h[0] = 'b'; /* scheme is case-insensitive */
    CHECK(auth_parse_basic(h, u, k) == AUTH_OK);
    basic(h, "nocolon");
    CHECK(auth_parse_basic(h, u, k) == AUTH_MALFORMED);
    basic(h, ":key");
    CHECK(auth_parse_basic(h, u, k) == AUTH_MALFORMED);
    basic(h, "uuid:");
    CHECK(auth_parse_basic(h, u, k) == AUTH_MALFORMED);
    basic(h, ":");
    CHECK(auth_parse_basic(h, u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Basic ", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Basic", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Bearer abc", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Basic !!!!", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Basic YWI6Y2Q", u, k) == AUTH_MALFORMED);   /* unpadded */
    CHECK(auth_parse_basic("Basic YW=6Y2Q=", u, k) == AUTH_MALFORMED);  /* '=' inside */
    CHECK(auth_parse_basic("Basic ====", u, k) == AUTH_MALFORMED);
    CHECK(auth_parse_basic("Basic YWI6Y2Q=", u, k) == AUTH_OK);          /* "ab:cd" */
    CHECK(auth_parse_basic("Basic YQBiOmM=", u, k) == AUTH_MALFORMED);  /* "a\0b:c": NUL inside */
    /* parts over the limit */
    char big[AUTH_MAX_PART + 10];
    memset(big, 'x', sizeof big);
    big[AUTH_MAX_PART + 1] = ':';
    big[AUTH_MAX_PART + 2] = 'k';
    big[AUTH_MAX_PART + 3] = '\0';
    basic(h, big);
    CHECK(auth_parse_basic(h, u, k) == AUTH_MALFORMED);
    /* a huge header is refused without being decoded */
    char *huge = malloc(1 << 20);
    memcpy(huge, "Basic ", 6);
    memset(huge + 6, 'A', (1 << 20) - 7);
    huge[(1 << 20) - 1] = '\0';
    CHECK(auth_parse_basic(huge, u, k) == AUTH_MALFORMED);
    free(huge);
}

/* route_match zeroes every field but not its path buffer (the gateway's
 * request is not zeroed either): whatever the struct held before, from
 * garbage to a matched packaged or public route, nothing of it survives. */
static void test_route_reused(void) {
    route *r = malloc(sizeof *r);
    CHECK(r != NULL);
    const char *paths[] = {"/api/v1/namespaces/_/actions/pkg/name", "/tfaas/v1/public/namespaces/g/actions/f/ohttp",
                           NULL};
    for (int garbage = 0; garbage < 3; garbage++) {
        memset(r, 0xA5, sizeof *r);
        if (garbage < 2) CHECK(route_match(paths[garbage], r) != ROUTE_NONE && (r->in_package || r->is_public));
        CHECK(route_match("no-slash", r) == ROUTE_NONE);
        CHECK(!r->ns && !r->name && !r->pkg && !r->in_package && !r->is_public && r->buf[0] == '\0');
        memset(r, 0xA5, sizeof *r);
        CHECK(route_match("/api/v1/namespaces/_/actions/a", r) == ROUTE_ACTION);
        CHECK_STR(r->ns, "_");
        CHECK_STR(r->name, "a");
        CHECK(!r->pkg && !r->in_package && !r->is_public);
    }
    free(r);
}

int main(void) {
    test_routes();
    test_route_reused();
    test_query();
    test_auth();
    return CHECK_DONE();
}
