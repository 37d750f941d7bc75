/* fetch.c - one fetch(): URL, policy, connection, HTTP/1.1 exchange,
 * redirects; see fetch.h. A connection carries one request
 * ("Connection: close"): no pool outlives a request, so nothing of one
 * activation's traffic reaches another's. */
#include "trusted/fetch/fetch.h"

#include "common/errmsg.h"
#include "trusted/fetch/egress_conn.h"
#include "trusted/fetch/http_response.h"
#include "trusted/fetch/tls.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int egress_chan = -1; /* set once before the workers run (fetch_set_channel) */

void fetch_set_channel(int fd) { egress_chan = fd; }

int fetch_init(void) { return tls_init(); }

void fetch_activation_begin(fetch_activation *a, const char *policy_json, size_t len, int confidential,
                            uint64_t deadline_ns) {
    /* Everything but pol, which only policy_ready fills and reads (its
     * parse zeroes it): 37 KiB zeroed on every activation, most of which
     * make no fetch, was 3.5% of a warm echo's enclave time. */
    a->pol.n = 0;
    memset((char *)a + offsetof(fetch_activation, policy_text), 0, sizeof *a - offsetof(fetch_activation, policy_text));
    a->confidential = confidential;
    a->deadline_ns = deadline_ns;
    a->policy_text = policy_json;
    a->policy_len = len;
    a->have_policy = len > 0;
}

/* The policy, parsed once per activation when a fetch first needs it. */
static int policy_ready(fetch_activation *a, char **err) {
    if (a->parsed) return 0;
    char *why = NULL;
    if (egress_policies_parse(a->policy_text, a->policy_len, &a->pol, &why) < 0) {
        a->have_policy = 0;
        errmsg(err, "fetch: the host sent a malformed egress policy (%s)", why ? why : "out of memory");
        free(why);
        return -1;
    }
    a->parsed = 1;
    return 0;
}

void fetch_activation_end(fetch_activation *a) {
    if (a->parsed) egress_policies_free(&a->pol);
    a->parsed = 0;
    a->have_policy = 0;
}

/* ---- URLs ----------------------------------------------------------- */

typedef struct {
    int https;
    char host[EGRESS_MAX_HOST + 1]; /* lower case; IPv6 without brackets */
    int port;
    char *target; /* path and query, percent-encoded where needed; malloc'd */
} url_parts;

static int host_char(int c) { return isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':'; }

/* Parses an absolute http(s) URL. 0, or -1 with *err. */
static int url_parse(const char *url, url_parts *u, char **err) {
    memset(u, 0, sizeof *u);
    if (strlen(url) > FETCH_MAX_URL) return errmsg(err, "fetch: the URL is longer than %u bytes", FETCH_MAX_URL);
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return errmsg(err, "fetch: only https: and http: URLs can be fetched, not '%.100s'", url);
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    if (at) return errmsg(err, "fetch: a URL with credentials (user@host) cannot be fetched");
    const char *hs = p, *he;
    const char *port_s = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth_len);
        if (!close) return errmsg(err, "fetch: invalid URL '%.100s'", url);
        hs = p + 1;
        he = close;
        if (close + 1 < p + auth_len) {
            if (close[1] != ':') return errmsg(err, "fetch: invalid URL '%.100s'", url);
            port_s = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', auth_len);
        he = colon ? colon : p + auth_len;
        if (colon) port_s = colon + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl > EGRESS_MAX_HOST) return errmsg(err, "fetch: invalid host in URL '%.100s'", url);
    for (size_t i = 0; i < hl; i++) {
        if (!host_char((unsigned char)hs[i])) return errmsg(err, "fetch: invalid host in URL '%.100s'", url);
        u->host[i] = (char)tolower((unsigned char)hs[i]);
    }
    if (*p != '[' && strchr(u->host, ':')) return errmsg(err, "fetch: invalid host in URL '%.100s'", url);
    u->port = u->https ? 443 : 80;
    if (port_s && port_s < p + auth_len) {
        long v = 0;
        for (const char *q = port_s; q < p + auth_len; q++) {
            if (!isdigit((unsigned char)*q) || v > 65535) return errmsg(err, "fetch: invalid port in URL '%.100s'", url);
            v = v * 10 + (*q - '0');
        }
        if (v < 1 || v > 65535) return errmsg(err, "fetch: invalid port in URL '%.100s'", url);
        u->port = (int)v;
    }
    /* The request target: path and query, without the fragment. Bytes that
     * may not appear in a request line are percent-encoded; control bytes
     * would split it, so they are refused. */
    const char *t = p + auth_len;
    size_t tl = strcspn(t, "#");
    u->target = malloc(tl * 3 + 2);
    if (!u->target) return errmsg(err, "fetch: out of memory");
    char *o = u->target;
    if (*t != '/') *o++ = '/';
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < tl; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c == 0x7f) {
            free(u->target);
            u->target = NULL;
            return errmsg(err, "fetch: the URL contains a control character");
        }
        if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '`' || c >= 0x80) {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return 0;
}

/* The URL a redirect's Location names, relative to base (malloc'd). */
static char *url_resolve(const url_parts *base, const char *loc) {
    char *out = NULL;
    if (strncasecmp(loc, "https://", 8) == 0 || strncasecmp(loc, "http://", 7) == 0) return strdup(loc);
    const char *scheme = base->https ? "https" : "http";
    int v6 = strchr(base->host, ':') != NULL;
    char origin[EGRESS_MAX_HOST + 32];
    snprintf(origin, sizeof origin, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", base->host, v6 ? "]" : "", base->port);
    if (loc[0] == '/' && loc[1] == '/') {
        if (asprintf(&out, "%s:%s", scheme, loc) < 0) out = NULL;
    } else if (loc[0] == '/') {
        if (asprintf(&out, "%s%s", origin, loc) < 0) out = NULL;
    } else {
        /* relative to the base's directory (its query dropped) */
        size_t dir = strcspn(base->target, "?");
        while (dir > 0 && base->target[dir - 1] != '/') dir--;
        if (asprintf(&out, "%s%.*s%s", origin, (int)dir, base->target, loc) < 0) out = NULL;
    }
    return out;
}

/* ---- the exchange ----------------------------------------------------- */

/* Headers the client sets itself: the caller's are dropped (framing and
 * the connection are the enclave's business, as in workerd). */
static int own_header(const char *name) {
    static const char *const own[] = {"host", "content-length", "transfer-encoding", "connection",
                                      "keep-alive", "upgrade", "te", "trailer", "proxy-connection"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (strcasecmp(name, own[i]) == 0) return 1;
    return 0;
}

__attribute__((format(printf, 2, 3))) static int buf_addf(http_buf *b, const char *fmt, ...) {
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    int rc = http_buf_add(b, s, (size_t)n);
    free(s);
    return rc;
}

/* Counts bytes against the activation's egress budget. */
static int charge(void *ctx, size_t n, char **err) {
    fetch_activation *a = ctx;
    uint64_t max = egress_max_bytes(&a->pol);
    a->bytes += n;
    if (a->bytes > max)
        return errmsg(err, "fetch: the activation's egress limit of %llu bytes (sent and received) was reached",
                      (unsigned long long)max);
    return 0;
}

static ssize_t conn_read(void *src, void *buf, size_t len, char **err) { return tls_read(src, buf, len, err); }

/* One request on one new connection. */
static int exchange(fetch_activation *a, const url_parts *u, const char *method, const fetch_header *hdrs,
                    size_t nh, const uint8_t *body, size_t body_len, fetch_response *res, char **err) {
    if (a->connections >= egress_max_connections(&a->pol))
        return errmsg(err, "fetch: the activation's limit of %llu connections was reached",
                      (unsigned long long)egress_max_connections(&a->pol));
    a->connections++;
    /* The request first: a malformed header fails before anything is sent. */
    http_buf req = {0};
    int v6 = strchr(u->host, ':') != NULL, default_port = u->port == (u->https ? 443 : 80);
    char hostport[EGRESS_MAX_HOST + 16];
    snprintf(hostport, sizeof hostport, "%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
    if (!default_port) snprintf(hostport + strlen(hostport), sizeof hostport - strlen(hostport), ":%d", u->port);
    int rc = buf_addf(&req, "%s %s HTTP/1.1\r\n", method, u->target) |
             buf_addf(&req, "Host: %s\r\nConnection: close\r\n", hostport);
    int has_ua = 0, has_accept = 0;
    for (size_t i = 0; i < nh && rc == 0; i++) {
        const char *n = hdrs[i].name, *v = hdrs[i].value;
        if (!*n) return free(req.data), errmsg(err, "fetch: a header name is empty");
        for (const char *q = n; *q; q++)
            if (!http_token_char((unsigned char)*q)) return free(req.data), errmsg(err, "fetch: invalid header name '%.64s'", n);
        for (const char *q = v; *q; q++)
            if (*q == '\r' || *q == '\n') return free(req.data), errmsg(err, "fetch: invalid value for header '%.64s'", n);
        if (own_header(n)) continue;
        has_ua |= strcasecmp(n, "user-agent") == 0;
        has_accept |= strcasecmp(n, "accept") == 0;
        rc |= buf_addf(&req, "%s: %s\r\n", n, v);
    }
    if (!has_ua) rc |= buf_addf(&req, "User-Agent: tfaas\r\n");
    if (!has_accept) rc |= buf_addf(&req, "Accept: */*\r\n");
    if (body) {
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", body_len);
        rc |= buf_addf(&req, "Content-Length: %s\r\n", cl);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        rc |= buf_addf(&req, "Content-Length: 0\r\n");
    }
    rc |= http_buf_add(&req, "\r\n", 2);
    if (rc) {
        free(req.data);
        return errmsg(err, "fetch: out of memory");
    }
    if (charge(a, req.len + body_len, err) < 0) {
        free(req.data);
        return -1;
    }
    int fd;
    if (egress_connect(egress_chan, u->host, u->port, u->https, a->policy_text, a->policy_len, a->deadline_ns, &fd, err) < 0) {
        free(req.data);
        return -1;
    }
    const char *ca = a->confidential ? NULL : a->pol.p[0].ca;
    if (a->pol.n > 1 && a->pol.p[1].ca && !a->confidential) ca = a->pol.p[1].ca;
    tls_conn *c = tls_open(fd, u->https, u->host, ca, a->deadline_ns, err);
    if (!c) {
        free(req.data);
        return -1;
    }
    rc = tls_write_all(c, req.data, req.len, err);
    free(req.data);
    if (rc == 0 && body_len) rc = tls_write_all(c, body, body_len, err);
    if (rc == 0) rc = http_response_read(conn_read, c, charge, a, strcmp(method, "HEAD") == 0, res, err);
    tls_close(c);
    return rc;
}

static int is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The verdict of the policy as the function's message. */
static int refuse(egress_verdict v, const url_parts *u, char **err) {
    switch (v) {
    case EGRESS_SCHEME:
        return errmsg(err, "fetch: plain http: to %s is not allowed by the egress policy (only https:)", u->host);
    case EGRESS_PORT:
        return errmsg(err, "fetch: port %d of %s is not allowed by the egress policy", u->port, u->host);
    case EGRESS_ADDRESS:
        return errmsg(err, "fetch: %s is a loopback, private or link-local address, not allowed by the egress "
                           "policy", u->host);
    default:
        return errmsg(err, "fetch: the host %s is not allowed by the egress policy", u->host);
    }
}

int fetch_run(fetch_activation *a, const fetch_request *req, fetch_response *res, char **err) {
    memset(res, 0, sizeof *res);
    if (!a || !a->have_policy) return errmsg(err, "fetch: this activation may not make network requests");
    if (policy_ready(a, err) < 0) return -1;
    if (!*req->method) return errmsg(err, "fetch: the method is empty");
    for (const char *q = req->method; *q; q++)
        if (!http_token_char((unsigned char)*q)) return errmsg(err, "fetch: invalid method '%.32s'", req->method);
    char *url = strdup(req->url);
    char *method = strdup(req->method);
    if (!url || !method) {
        free(url);
        free(method);
        return errmsg(err, "fetch: out of memory");
    }
    const uint8_t *body = req->body;
    size_t body_len = req->body_len;
    int rc = -1, drop_auth = 0;
    for (int hop = 0;; hop++) {
        url_parts u;
        if (url_parse(url, &u, err) < 0) break;
        egress_verdict v = egress_check_url(&a->pol, u.https ? "https" : "http", u.host, u.port);
        if (v != EGRESS_OK) {
            refuse(v, &u, err);
            free(u.target);
            break;
        }
        /* The host re-checks name and addresses with the same policies. */
        fetch_header *hdrs = (fetch_header *)req->headers;
        size_t nh = req->nheaders;
        fetch_header *kept = NULL;
        if (drop_auth) {
            /* a redirect to another origin does not carry the credentials */
            kept = calloc(nh + 1, sizeof *kept);
            size_t k = 0;
            for (size_t i = 0; kept && i < nh; i++)
                if (strcasecmp(hdrs[i].name, "authorization") != 0) kept[k++] = hdrs[i];
            hdrs = kept;
            nh = kept ? k : 0;
        }
        fetch_response_free(res);
        int x = exchange(a, &u, method, hdrs, nh, body, body_len, res, err);
        free(kept);
        if (x < 0) {
            free(u.target);
            break;
        }
        const char *loc = fetch_response_header(res, "location");
        if (!is_redirect(res->status) || !loc || req->redirect == FETCH_REDIRECT_MANUAL) {
            res->url = url;
            url = NULL;
            res->redirected = hop > 0;
            free(u.target);
            rc = 0;
            break;
        }
        if (req->redirect == FETCH_REDIRECT_ERROR) {
            errmsg(err, "fetch: the server redirected and the request's redirect mode is 'error'");
            free(u.target);
            break;
        }
        if (hop + 1 > FETCH_MAX_REDIRECTS) {
            errmsg(err, "fetch: more than %d redirects", FETCH_MAX_REDIRECTS);
            free(u.target);
            break;
        }
        char *next = url_resolve(&u, loc);
        if (!next) {
            errmsg(err, "fetch: out of memory");
            free(u.target);
            break;
        }
        url_parts nu;
        char *ignored = NULL;
        if (url_parse(next, &nu, &ignored) == 0) {
            if (nu.https != u.https || nu.port != u.port || strcmp(nu.host, u.host) != 0) drop_auth = 1;
            free(nu.target);
        }
        free(ignored);
        /* WHATWG fetch: 303 (but HEAD), and 301/302 after POST, become a GET without body. */
        if ((res->status == 303 && strcmp(method, "HEAD") != 0) ||
            ((res->status == 301 || res->status == 302) && strcmp(method, "POST") == 0)) {
            free(method);
            method = strdup("GET");
            body = NULL;
            body_len = 0;
            if (!method) {
                errmsg(err, "fetch: out of memory");
                free(next);
                free(u.target);
                break;
            }
        }
        free(url);
        url = next;
        free(u.target);
    }
    free(url);
    free(method);
    if (rc < 0) fetch_response_free(res);
    return rc;
}
