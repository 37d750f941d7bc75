/* fetch.c - one fetch(): URL, policy, connection, HTTP/1.1 exchange,
 * redirects; see fetch.h. A connection carries one request
 * ("Connection: close"): no pool outlives a request, so nothing of one
 * activation's traffic reaches another's. */
#include "trusted/fetch/fetch.h"

#include "common/bytebuf.h"
#include "common/errmsg.h"
#include "trusted/fetch/egress_conn.h"
#include "trusted/fetch/tls.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int egress_chan = -1; /* set once before the workers run (fetch_set_channel) */

void fetch_set_channel(int fd) { egress_chan = fd; }

int fetch_init(void) { return tls_init(); }

int fetch_activation_begin(fetch_activation *a, const char *policy_json, size_t len, int confidential,
                           uint64_t deadline_ns, char **err) {
    memset(a, 0, sizeof *a);
    a->confidential = confidential;
    a->deadline_ns = deadline_ns;
    if (!len) return 0;
    if (egress_policies_parse(policy_json, len, &a->pol, err) < 0) return -1;
    if (!(a->policy_text = strndup(policy_json, len))) {
        egress_policies_free(&a->pol);
        return errmsg(err, "out of memory");
    }
    a->policy_len = len;
    a->have_policy = 1;
    return 0;
}

void fetch_activation_end(fetch_activation *a) {
    if (a->have_policy) egress_policies_free(&a->pol);
    free(a->policy_text);
    a->policy_text = NULL;
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

static int token_char(int c) {
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Headers the client sets itself: the caller's are dropped (framing and
 * the connection are the enclave's business, as in workerd). */
static int own_header(const char *name) {
    static const char *const own[] = {"host", "content-length", "transfer-encoding", "connection",
                                      "keep-alive", "upgrade", "te", "trailer", "proxy-connection"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (strcasecmp(name, own[i]) == 0) return 1;
    return 0;
}

typedef struct {
    char *data;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const void *p, size_t n) {
    if (bytebuf_reserve(&b->data, &b->cap, b->len, n) < 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

__attribute__((format(printf, 2, 3))) static int buf_addf(buf *b, const char *fmt, ...) {
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    int rc = buf_add(b, s, (size_t)n);
    free(s);
    return rc;
}

/* Counts bytes against the activation's egress budget. */
static int charge(fetch_activation *a, size_t n, char **err) {
    uint64_t max = egress_max_bytes(&a->pol);
    a->bytes += n;
    if (a->bytes > max)
        return errmsg(err, "fetch: the activation's egress limit of %llu bytes (sent and received) was reached",
                      (unsigned long long)max);
    return 0;
}

/* Reader state over one connection: bytes read but not yet consumed. */
typedef struct {
    tls_conn *c;
    fetch_activation *a;
    buf in;
    size_t pos;
    int eof;
} reader;

/* Reads more into r->in: 1 when bytes came, 0 at EOF, -1 with *err. */
static int fill(reader *r, char **err) {
    char tmp[16384];
    ssize_t n = tls_read(r->c, tmp, sizeof tmp, err);
    if (n < 0) return -1;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    if (charge(r->a, (size_t)n, err) < 0) return -1;
    if (buf_add(&r->in, tmp, (size_t)n) < 0) return errmsg(err, "fetch: out of memory");
    return 1;
}

/* One CRLF-terminated line (without it) from the reader, at most max bytes. */
static char *read_line(reader *r, size_t max, char **err) {
    for (;;) {
        char *nl = r->in.data ? memchr(r->in.data + r->pos, '\n', r->in.len - r->pos) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (r->in.data + r->pos));
            char *line = strndup(r->in.data + r->pos, n && nl[-1] == '\r' ? n - 1 : n);
            r->pos += n + 1;
            if (!line) errmsg(err, "fetch: out of memory");
            return line;
        }
        if (r->in.len - r->pos > max) {
            errmsg(err, "fetch: the response's header section is longer than %u bytes or %u headers",
                   FETCH_MAX_HEADER_BYTES, FETCH_MAX_HEADERS);
            return NULL;
        }
        int f = fill(r, err);
        if (f < 0) return NULL;
        if (f == 0) {
            errmsg(err, "fetch: the server closed the connection before a whole response");
            return NULL;
        }
    }
}

/* Exactly n body bytes (or, with n == SIZE_MAX, until EOF) appended to body. */
static int read_body(reader *r, size_t n, buf *body, char **err) {
    for (;;) {
        size_t have = r->in.len - r->pos, take = have < n ? have : n;
        if (take && buf_add(body, r->in.data + r->pos, take) < 0) return errmsg(err, "fetch: out of memory");
        r->pos += take;
        if (n != SIZE_MAX) n -= take;
        if (n == 0) return 0;
        /* consumed bytes are dropped so the buffer stays one read long */
        r->in.len = 0;
        r->pos = 0;
        int f = fill(r, err);
        if (f < 0) return -1;
        if (f == 0) {
            if (n == SIZE_MAX) return 0;
            return errmsg(err, "fetch: the server closed the connection before the whole body");
        }
    }
}

static int read_chunked(reader *r, buf *body, char **err) {
    for (;;) {
        char *line = read_line(r, 1024, err);
        if (!line) return -1;
        char *end;
        unsigned long long n = strtoull(line, &end, 16);
        int bad = end == line || (*end && *end != ';' && *end != ' ' && *end != '\t');
        free(line);
        if (bad || n > SIZE_MAX / 2) return errmsg(err, "fetch: malformed chunked response body");
        if (n == 0) break;
        if (read_body(r, (size_t)n, body, err) < 0) return -1;
        line = read_line(r, 16, err);
        if (!line) return -1;
        bad = *line != '\0';
        free(line);
        if (bad) return errmsg(err, "fetch: malformed chunked response body");
    }
    /* trailers, up to the empty line; ignored */
    size_t total = 0;
    for (;;) {
        char *line = read_line(r, FETCH_MAX_HEADER_BYTES, err);
        if (!line) return -1;
        size_t l = strlen(line);
        free(line);
        if (l == 0) return 0;
        if ((total += l) > FETCH_MAX_HEADER_BYTES) return errmsg(err, "fetch: the response's trailers are too long");
    }
}

static void headers_free(fetch_header *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

void fetch_response_free(fetch_response *res) {
    free(res->status_text);
    free(res->url);
    headers_free(res->headers, res->nheaders);
    free(res->body);
    memset(res, 0, sizeof *res);
}

static const char *header_get(const fetch_response *res, const char *name) {
    for (size_t i = 0; i < res->nheaders; i++)
        if (strcmp(res->headers[i].name, name) == 0) return res->headers[i].value;
    return NULL;
}

/* Status line and headers into res. */
static int read_head(reader *r, fetch_response *res, char **err) {
    size_t total = 0;
    char *line = read_line(r, FETCH_MAX_HEADER_BYTES, err);
    if (!line) return -1;
    int major, minor, status, off = 0;
    if (sscanf(line, "HTTP/%1d.%1d %3d%n", &major, &minor, &status, &off) != 3 || major != 1 || status < 100 ||
        status > 599 || (line[off] && line[off] != ' ')) {
        free(line);
        return errmsg(err, "fetch: the server did not answer with HTTP/1.x");
    }
    res->status = status;
    res->status_text = strdup(line[off] ? line + off + 1 : "");
    free(line);
    if (!res->status_text) return errmsg(err, "fetch: out of memory");
    for (;;) {
        line = read_line(r, FETCH_MAX_HEADER_BYTES, err);
        if (!line) return -1;
        size_t l = strlen(line);
        if (l == 0) {
            free(line);
            return 0;
        }
        total += l;
        char *colon = strchr(line, ':');
        if (total > FETCH_MAX_HEADER_BYTES || res->nheaders >= FETCH_MAX_HEADERS) {
            free(line);
            return errmsg(err, "fetch: the response's header section is longer than %u bytes or %u headers",
                          FETCH_MAX_HEADER_BYTES, FETCH_MAX_HEADERS);
        }
        if (!colon || colon == line) {
            free(line);
            return errmsg(err, "fetch: malformed response header line");
        }
        for (char *q = line; q < colon; q++) {
            if (!token_char((unsigned char)*q)) {
                free(line);
                return errmsg(err, "fetch: malformed response header name");
            }
            *q = (char)tolower((unsigned char)*q);
        }
        *colon = '\0';
        char *v = colon + 1, *ve = line + l;
        while (*v == ' ' || *v == '\t') v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        fetch_header *nh = realloc(res->headers, (res->nheaders + 1) * sizeof *nh);
        if (!nh) {
            free(line);
            return errmsg(err, "fetch: out of memory");
        }
        res->headers = nh;
        nh[res->nheaders].name = strdup(line);
        nh[res->nheaders].value = strndup(v, (size_t)(ve - v));
        res->nheaders++;
        free(line);
        if (!nh[res->nheaders - 1].name || !nh[res->nheaders - 1].value) return errmsg(err, "fetch: out of memory");
    }
}

/* One request on one new connection. */
static int exchange(fetch_activation *a, const url_parts *u, const char *method, const fetch_header *hdrs,
                    size_t nh, const uint8_t *body, size_t body_len, fetch_response *res, char **err) {
    if (a->connections >= egress_max_connections(&a->pol))
        return errmsg(err, "fetch: the activation's limit of %llu connections was reached",
                      (unsigned long long)egress_max_connections(&a->pol));
    a->connections++;
    /* The request first: a malformed header fails before anything is sent. */
    buf req = {0};
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
            if (!token_char((unsigned char)*q)) return free(req.data), errmsg(err, "fetch: invalid header name '%.64s'", n);
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
    rc |= buf_add(&req, "\r\n", 2);
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
    reader r = {.c = c, .a = a};
    buf b = {0};
    if (rc == 0) {
        do {
            if (res->status) { /* an interim 1xx before the real answer */
                headers_free(res->headers, res->nheaders);
                free(res->status_text);
                res->headers = NULL;
                res->nheaders = 0;
                res->status_text = NULL;
            }
            rc = read_head(&r, res, err);
        } while (rc == 0 && res->status < 200);
    }
    if (rc == 0 && strcmp(method, "HEAD") != 0 && res->status != 204 && res->status != 304) {
        const char *te = header_get(res, "transfer-encoding"), *cl = header_get(res, "content-length");
        if (te && strcasecmp(te, "chunked") == 0) {
            rc = read_chunked(&r, &b, err);
        } else if (te) {
            rc = errmsg(err, "fetch: unsupported response transfer-encoding '%.32s'", te);
        } else if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end == cl || *end || !isdigit((unsigned char)*cl)) rc = errmsg(err, "fetch: malformed content-length");
            else rc = read_body(&r, (size_t)n, &b, err);
        } else {
            rc = read_body(&r, SIZE_MAX, &b, err);
        }
    }
    free(r.in.data);
    tls_close(c);
    if (rc < 0) {
        free(b.data);
        return -1;
    }
    res->body = (uint8_t *)b.data;
    res->body_len = b.len;
    return 0;
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
    if (!*req->method) return errmsg(err, "fetch: the method is empty");
    for (const char *q = req->method; *q; q++)
        if (!token_char((unsigned char)*q)) return errmsg(err, "fetch: invalid method '%.32s'", req->method);
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
        const char *loc = header_get(res, "location");
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
