/* fuzz_bhttp.c - libFuzzer target for the Binary HTTP decoder
 * (src/common/bhttp.c), which reads what an OHTTP client sealed: after
 * decapsulation those bytes are still a stranger's.
 *
 * The first byte picks request or response. Invariants: every slice of an
 * accepted message lies inside the input; the limits hold; re-encoding an
 * accepted message and decoding that gives the same message. */
#include "fuzz.h"

#include "common/bhttp.h"

static int inside(bhttp_bytes b, const uint8_t *in, size_t len) {
    return b.len == 0 || (b.ptr >= in && b.len <= len && b.ptr - in <= (ptrdiff_t)(len - b.len));
}

static int same(bhttp_bytes a, bhttp_bytes b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_message(const bhttp_message *m, const uint8_t *in, size_t len) {
    FUZZ_CHECK(m->nheaders + m->ntrailers <= BHTTP_MAX_FIELDS);
    FUZZ_CHECK(m->content.len <= BHTTP_MAX_CONTENT);
    FUZZ_CHECK(inside(m->method, in, len) && inside(m->scheme, in, len) && inside(m->authority, in, len) &&
               inside(m->path, in, len) && inside(m->content, in, len));
    for (size_t i = 0; i < m->nheaders + m->ntrailers; i++) {
        FUZZ_CHECK(m->fields[i].name.len > 0);
        FUZZ_CHECK(inside(m->fields[i].name, in, len) && inside(m->fields[i].value, in, len));
    }
}

static void check_same(const bhttp_message *a, const bhttp_message *b, int request) {
    FUZZ_CHECK(a->nheaders == b->nheaders && a->ntrailers == b->ntrailers && same(a->content, b->content));
    if (request)
        FUZZ_CHECK(same(a->method, b->method) && same(a->scheme, b->scheme) &&
                   same(a->authority, b->authority) && same(a->path, b->path));
    else
        FUZZ_CHECK(a->status == b->status);
    for (size_t i = 0; i < a->nheaders + a->ntrailers; i++)
        FUZZ_CHECK(same(a->fields[i].name, b->fields[i].name) && same(a->fields[i].value, b->fields[i].value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int request = data[0] & 1;
    size_t len = size - 1;
    uint8_t *in = fuzz_bytes(data + 1, len);
    bhttp_message *m = malloc(sizeof *m), *again = malloc(sizeof *again);
    FUZZ_CHECK(m && again);
    bhttp_result r = request ? bhttp_request_decode(m, in, len) : bhttp_response_decode(m, in, len);
    if (r == BHTTP_OK) {
        check_message(m, in, len);
        uint8_t *out = NULL;
        size_t out_len = 0;
        r = request ? bhttp_request_encode(m, &out, &out_len) : bhttp_response_encode(m, &out, &out_len);
        FUZZ_CHECK(r == BHTTP_OK);
        r = request ? bhttp_request_decode(again, out, out_len) : bhttp_response_decode(again, out, out_len);
        FUZZ_CHECK(r == BHTTP_OK);
        check_same(m, again, request);
        free(out);
    }
    free(again);
    free(m);
    free(in);
    return 0;
}
