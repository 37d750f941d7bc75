/* http_response.c - reading one HTTP/1.1 response from a byte source; see
 * http_response.h. Every byte read is charged before it is kept, and every
 * part has a bound: the status line and headers (FETCH_MAX_HEADER_BYTES,
 * FETCH_MAX_HEADERS), a chunk-size line, the trailers. */
#include "trusted/fetch/http_response.h"

#include "common/bytebuf.h"
#include "common/errmsg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_token_char(int c) { return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c); }

int http_buf_add(http_buf *b, const void *p, size_t n) {
    if (bytebuf_reserve(&b->data, &b->cap, b->len, n) < 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Reader state over one connection: bytes read but not yet consumed. */
typedef struct {
    http_read_fn read;
    void *src;
    http_charge_fn charge;
    void *charge_ctx;
    http_buf in;
    size_t pos;
    int eof;
} reader;

/* Reads more into r->in: 1 when bytes came, 0 at EOF, -1 with *err. */
static int fill(reader *r, char **err) {
    char tmp[16384];
    ssize_t n = r->read(r->src, tmp, sizeof tmp, err);
    if (n < 0) return -1;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    if (r->charge(r->charge_ctx, (size_t)n, err) < 0) return -1;
    if (http_buf_add(&r->in, tmp, (size_t)n) < 0) return errmsg(err, "fetch: out of memory");
    return 1;
}

/* One CRLF-terminated line (without it) from the reader, at most max bytes. */
static char *read_line(reader *r, size_t max, char **err) {
    for (;;) {
        char *nl = r->in.data ? memchr(r->in.data + r->pos, '\n', r->in.len - r->pos) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (r->in.data + r->pos)), keep = n && nl[-1] == '\r' ? n - 1 : n;
            const char *start = r->in.data + r->pos;
            /* a bare CR or a NUL would reach the function inside a value */
            if (memchr(start, '\r', keep) || memchr(start, '\0', keep)) {
                errmsg(err, "fetch: malformed response (a bare CR or NUL in a header line)");
                return NULL;
            }
            char *line = strndup(start, keep);
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
static int read_body(reader *r, size_t n, http_buf *body, char **err) {
    for (;;) {
        size_t have = r->in.len - r->pos, take = have < n ? have : n;
        if (take && http_buf_add(body, r->in.data + r->pos, take) < 0) return errmsg(err, "fetch: out of memory");
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

static int read_chunked(reader *r, http_buf *body, char **err) {
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

const char *fetch_response_header(const fetch_response *res, const char *name) {
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
            if (!http_token_char((unsigned char)*q)) {
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


int http_response_read(http_read_fn rd, void *src, http_charge_fn charge, void *charge_ctx, int head_only,
                       fetch_response *res, char **err) {
    reader r = {.read = rd, .src = src, .charge = charge, .charge_ctx = charge_ctx};
    http_buf b = {0};
    int rc;
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
    if (rc == 0 && !head_only && res->status != 204 && res->status != 304) {
        const char *te = fetch_response_header(res, "transfer-encoding"), *cl = fetch_response_header(res, "content-length");
        if (te && strcasecmp(te, "chunked") == 0) {
            rc = read_chunked(&r, &b, err);
        } else if (te) {
            rc = errmsg(err, "fetch: unsupported response transfer-encoding '%.32s'", te);
        } else if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end == cl || *end || !isdigit((unsigned char)*cl) || n > SIZE_MAX / 2)
                rc = errmsg(err, "fetch: malformed content-length");
            else
                rc = read_body(&r, (size_t)n, &b, err);
        } else {
            rc = read_body(&r, SIZE_MAX, &b, err);
        }
    }
    free(r.in.data);
    if (rc < 0) {
        free(b.data);
        return -1;
    }
    res->body = (uint8_t *)b.data;
    res->body_len = b.len;
    return 0;
}
