/* test_http_response.c - reading an HTTP/1.1 response from an untrusted
 * server (src/trusted/fetch/http_response.c): Content-Length, chunked and
 * close-delimited bodies, interim 1xx, HEAD/204/304 without body, header
 * names lower-cased, every byte charged, and the refusals (bare CR, a
 * truncated body, oversized headers, a charge that says stop). */
#include "check.h"

#include "trusted/fetch/http_response.h"
#include "mem_source.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t total, max;
} budget;

static int charge(void *ctx, size_t n, char **err) {
    budget *b = ctx;
    b->total += n;
    if (b->total > b->max) {
        *err = strdup("fetch: over budget");
        return -1;
    }
    return 0;
}

/* Reads text (3 bytes per read) into *res; returns the rc, *err set on failure. */
static int read_text(const char *text, int head_only, size_t max, fetch_response *res, char **err, budget *b) {
    mem_source s = {text, strlen(text), 3};
    memset(res, 0, sizeof *res);
    *b = (budget){0, max};
    *err = NULL;
    return http_response_read(mem_source_read, &s, charge, b, head_only, res, err);
}

static void test_bodies(void) {
    fetch_response r;
    char *err;
    budget b;
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing:  v a \r\n\r\nhelloEXTRA";
    CHECK(read_text(cl, 0, 1 << 20, &r, &err, &b) == 0);
    CHECK(r.status == 200 && strcmp(r.status_text, "OK") == 0);
    CHECK(r.body_len == 5 && memcmp(r.body, "hello", 5) == 0);
    CHECK_STR(fetch_response_header(&r, "x-thing"), "v a");
    CHECK(fetch_response_header(&r, "X-Thing") == NULL); /* names are lower case */
    CHECK(b.total <= strlen(cl));
    fetch_response_free(&r);

    CHECK(read_text("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n", 0, 1 << 20, &r, &err, &b) == 0);
    CHECK(r.status == 201 && r.body_len == 12 && memcmp(r.body, "hello, world", 12) == 0);
    fetch_response_free(&r);

    CHECK(read_text("HTTP/1.0 404 Not Found\r\n\r\nto the end", 0, 1 << 20, &r, &err, &b) == 0);
    CHECK(r.status == 404 && r.body_len == 10);
    fetch_response_free(&r);

    CHECK(read_text("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 1, 1 << 20, &r, &err, &b) == 0);
    CHECK(r.body_len == 0);
    fetch_response_free(&r);
    CHECK(read_text("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n", 0, 1 << 20, &r, &err, &b) == 0);
    CHECK(r.status == 204 && r.body_len == 0);
    fetch_response_free(&r);
}

static void expect_refused(const char *text, size_t max, const char *msg) {
    fetch_response r;
    char *err;
    budget b;
    CHECK(read_text(text, 0, max, &r, &err, &b) == -1);
    CHECK(err && strstr(err, msg) != NULL);
    if (err && !strstr(err, msg)) fprintf(stderr, "message: %s\n", err);
    free(err);
    fetch_response_free(&r);
}

static void test_refusals(void) {
    expect_refused("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", 1 << 20, "bare CR");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1 << 20, "before the whole body");
    expect_refused("SSH-2.0-OpenSSH\r\n\r\n", 1 << 20, "did not answer with HTTP/1.x");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 1 << 20, "malformed content-length");
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1 << 20, "unsupported response transfer-encoding");
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1 << 20, "malformed chunked");
    expect_refused("HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n", 1 << 20, "malformed response header name");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 40, "over budget");
    /* more than FETCH_MAX_HEADERS headers */
    size_t n = 64 + (FETCH_MAX_HEADERS + 1) * 8;
    char *many = malloc(n);
    strcpy(many, "HTTP/1.1 200 OK\r\n");
    for (unsigned i = 0; i <= FETCH_MAX_HEADERS; i++) strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    expect_refused(many, 1 << 20, "header section is longer than");
    free(many);
}

int main(void) {
    test_bodies();
    test_refusals();
    return CHECK_DONE();
}
