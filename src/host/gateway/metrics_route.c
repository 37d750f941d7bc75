/* metrics_route.c - GET /metrics: the counters and histograms of
 * host/metrics/metrics.h, then gauges read at scrape time from the scheduler
 * (queues, enclaves and their memory). Who may scrape is
 * `serve --metrics-access` (and --metrics-token-file); docs/api.md lists
 * every series. */
#include "host/gateway/gateway_internal.h"

#include "host/metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTED_ENCLAVES 4096 /* per-enclave series at most (memory); the count is exact */

static const char *const ACCESS_NAME[] = {
    [GATEWAY_METRICS_LOCAL] = "local", [GATEWAY_METRICS_ANY] = "any", [GATEWAY_METRICS_OFF] = "off"};

const char *gateway_metrics_access_name(gateway_metrics_access a) {
    return (unsigned)a < sizeof ACCESS_NAME / sizeof ACCESS_NAME[0] ? ACCESS_NAME[a] : "unknown";
}

int gateway_metrics_access_parse(const char *s, gateway_metrics_access *out) {
    for (unsigned i = 0; s && i < sizeof ACCESS_NAME / sizeof ACCESS_NAME[0]; i++)
        if (!strcmp(s, ACCESS_NAME[i])) {
            *out = (gateway_metrics_access)i;
            return 0;
        }
    return -1;
}

/* The client connected from a loopback address (127/8, ::1, or 127/8 mapped
 * into IPv6). */
static int client_is_local(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return 0;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* "Bearer <token>" with the configured token, compared in constant time. */
static int token_ok(http_req *r) {
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char BEARER[] = "Bearer ";
    if (!h || strncmp(h, BEARER, sizeof BEARER - 1) != 0) return 0;
    h += sizeof BEARER - 1;
    size_t n = strlen(r->gw->metrics_token);
    return strlen(h) == n && CRYPTO_memcmp(h, r->gw->metrics_token, n) == 0;
}

/* Resident bytes of a process, from /proc/PID/statm; 0 when gone. */
static unsigned long long resident_bytes(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long size = 0, resident = 0;
    int ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    return ok ? resident * (unsigned long long)sysconf(_SC_PAGESIZE) : 0;
}

static void put_gauge(FILE *out, const char *name, const char *type, const char *help, unsigned long long v) {
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

static void put_enclave_labels(FILE *out, const sched_enclave_info *e) {
    fprintf(out, "engine=\"%s\",mode=\"%s\",kind=\"%s\"", sched_engine_name(e->engine), isolation_name(e->mode),
            e->confidential ? "confidential" : "plain");
}

/* Enclaves counted by (engine, mode, kind), then each one's memory. */
static void put_enclaves(FILE *out, scheduler *s) {
    size_t want = scheduler_enclaves(s, NULL, 0) + 16; /* a few may start meanwhile */
    if (want > MAX_LISTED_ENCLAVES) want = MAX_LISTED_ENCLAVES;
    sched_enclave_info *list = malloc(want * sizeof *list);
    size_t total = list ? scheduler_enclaves(s, list, want) : 0;
    size_t n = total < want ? total : want;
    size_t groups[SCHED_ENGINES][ISOLATION_FUNCTION + 1][2] = {{{0}}};
    for (size_t i = 0; i < n; i++) groups[list[i].engine][list[i].mode][!!list[i].confidential]++;
    fputs("# HELP tfaas_enclaves Enclave processes starting or serving, by engine, isolation mode and kind.\n"
          "# TYPE tfaas_enclaves gauge\n",
          out);
    for (int e = 0; e < SCHED_ENGINES; e++)
        for (int m = ISOLATION_SHARED; m <= ISOLATION_FUNCTION; m++)
            for (int c = 0; c < 2; c++) {
                if (!groups[e][m][c]) continue;
                sched_enclave_info key = {.engine = (sched_engine)e, .mode = (isolation_mode)m, .confidential = c};
                fputs("tfaas_enclaves{", out);
                put_enclave_labels(out, &key);
                fprintf(out, "} %zu\n", groups[e][m][c]);
            }
    fputs("# HELP tfaas_enclave_resident_memory_bytes Resident memory of each enclave process.\n"
          "# TYPE tfaas_enclave_resident_memory_bytes gauge\n",
          out);
    for (size_t i = 0; i < n; i++) {
        if (!list[i].pid) continue;
        fprintf(out, "tfaas_enclave_resident_memory_bytes{pid=\"%d\",", (int)list[i].pid);
        put_enclave_labels(out, &list[i]);
        fputs(",namespace=\"", out);
        metrics_put_label(out, list[i].ns);
        fprintf(out, "\"} %llu\n", resident_bytes(list[i].pid));
    }
    free(list);
}

enum MHD_Result metrics_handle(http_req *r) {
    gateway *g = r->gw;
    if (g->metrics_access == GATEWAY_METRICS_OFF) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (g->metrics_access == GATEWAY_METRICS_LOCAL && !client_is_local(r->conn))
        return http_error(r->conn, MHD_HTTP_FORBIDDEN,
                          "Metrics may be read from this host only (tfaas serve --metrics-access)");
    if (g->metrics_token && !token_ok(r)) {
        http_header www = {MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer"};
        return http_error_hdr(r->conn, MHD_HTTP_UNAUTHORIZED, &www,
                              "Metrics need the bearer token of tfaas serve --metrics-token-file");
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    metrics_render(out);
    sched_stats st;
    scheduler_stats(g->scheduler, &st);
    put_gauge(out, "tfaas_activations_queued", "gauge", "Activations waiting for a concurrency slot of their action.",
              st.queued);
    put_gauge(out, "tfaas_activations_pending", "gauge", "Activations holding a slot, waiting for an enclave worker.",
              st.pending);
    put_gauge(out, "tfaas_activations_running", "gauge", "Activations inside enclaves now.", st.running);
    put_gauge(out, "tfaas_enclaves_started_total", "counter", "Enclave processes launched.", st.enclaves_started);
    put_gauge(out, "tfaas_enclaves_died_total", "counter", "Enclave processes lost other than by an idle stop.",
              st.enclaves_died);
    put_gauge(out, "tfaas_key_service_up", "gauge", "1 when the key service (KMS) of confidential functions runs.",
              g->kms != NULL);
    put_enclaves(out, g->scheduler);
    if (fclose(out) != 0 || !text) {
        free(text);
        return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    }
    return http_reply_bytes(r->conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL, 0);
}
