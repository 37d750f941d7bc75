/* test_bhttp.c - Binary HTTP (RFC 9292) and QUIC varints (RFC 9000 §16):
 * known messages, round trips, and hostile input (truncation at every byte,
 * non-minimal and truncated varints, lengths past the end, huge counts). */
#include "check.h"
#include "common/bhttp.h"
#include "common/varint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int eq(bhttp_bytes b, const char *s) {
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void test_varint(void) {
    uint64_t v = 0;
    /* RFC 9000 §A.1 examples. */
    const uint8_t eight[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
    CHECK(varint_decode(eight, 8, &v) == 8 && v == UINT64_C(151288809941952652));
    const uint8_t four[] = {0x9d, 0x7f, 0x3e, 0x7d};
    CHECK(varint_decode(four, 4, &v) == 4 && v == 494878333);
    const uint8_t two[] = {0x7b, 0xbd};
    CHECK(varint_decode(two, 2, &v) == 2 && v == 15293);
    const uint8_t one[] = {0x25};
    CHECK(varint_decode(one, 1, &v) == 1 && v == 37);
    const uint8_t overlong[] = {0x40, 0x25}; /* 37 on two bytes: valid */
    CHECK(varint_decode(overlong, 2, &v) == 2 && v == 37);
    for (size_t cut = 0; cut < 8; cut++) CHECK(varint_decode(eight, cut, &v) == 0);
    CHECK(varint_decode(NULL, 0, &v) == 0);
    uint8_t buf[8];
    const uint64_t values[] = {0, 63, 64, 16383, 16384, (1u << 30) - 1, 1u << 30, VARINT_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t n = varint_encode(values[i], buf);
        CHECK(n == varint_size(values[i]) && varint_decode(buf, n, &v) == n && v == values[i]);
    }
    CHECK(varint_size(VARINT_MAX + 1) == 0);
}

/* From RFC 9458 Appendix A: "GET https://example.com/" and a bare 200. */
static const uint8_t EXAMPLE_REQ[] = {0x00, 0x03, 'G', 'E', 'T', 0x05, 'h', 't', 't', 'p', 's',
                                      0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
                                      0x01, '/'};
static const uint8_t EXAMPLE_RES[] = {0x01, 0x40, 0xc8};

static void test_examples(void) {
    bhttp_message m;
    CHECK(bhttp_request_decode(&m, EXAMPLE_REQ, sizeof EXAMPLE_REQ) == BHTTP_OK);
    CHECK(eq(m.method, "GET") && eq(m.scheme, "https") && eq(m.authority, "example.com") && eq(m.path, "/"));
    CHECK(m.nheaders == 0 && m.ntrailers == 0 && m.content.len == 0);
    CHECK(bhttp_response_decode(&m, EXAMPLE_RES, sizeof EXAMPLE_RES) == BHTTP_OK);
    CHECK(m.status == 200 && m.nheaders == 0 && m.content.len == 0);
}

static void build_request(bhttp_message *m) {
    memset(m, 0, sizeof *m);
    m->method = bhttp_str("POST");
    m->scheme = bhttp_str("https");
    m->authority = bhttp_str("tfaas.example");
    m->path = bhttp_str("/run?x=1");
    m->fields[0] = (bhttp_field){bhttp_str("content-type"), bhttp_str("application/json")};
    m->fields[1] = (bhttp_field){bhttp_str("x-empty"), bhttp_str("")};
    m->fields[2] = (bhttp_field){bhttp_str("trailer-one"), bhttp_str("t")};
    m->nheaders = 2;
    m->ntrailers = 1;
    m->content = bhttp_str("{\"name\":\"Ada\"}");
}

static void test_round_trip_and_truncation(void) {
    bhttp_message m, d;
    build_request(&m);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(bhttp_request_encode(&m, &buf, &len) == BHTTP_OK);
    CHECK(bhttp_request_decode(&d, buf, len) == BHTTP_OK);
    CHECK(eq(d.method, "POST") && eq(d.path, "/run?x=1") && d.nheaders == 2 && d.ntrailers == 1);
    CHECK(eq(d.fields[0].name, "content-type") && eq(d.fields[1].value, "") && eq(d.fields[2].name, "trailer-one"));
    CHECK(eq(d.content, "{\"name\":\"Ada\"}"));

    /* Every prefix: accepted only at a section boundary, otherwise a named error. */
    size_t control_end = 1 + 5 + 6 + 14 + 9;
    size_t headers_end = control_end + 1 + (1 + 12 + 1 + 16) + (1 + 7 + 1);
    size_t content_end = headers_end + 1 + 14;
    for (size_t cut = 0; cut < len; cut++) {
        bhttp_result r = bhttp_request_decode(&d, buf, cut);
        int boundary = cut == control_end || cut == headers_end || cut == content_end;
        CHECK(boundary ? r == BHTTP_OK : (r == BHTTP_ERR_TRUNCATED));
    }
    /* Padding: zeros are fine, anything else is not. */
    uint8_t *padded = calloc(len + 4, 1);
    memcpy(padded, buf, len);
    CHECK(bhttp_request_decode(&d, padded, len + 4) == BHTTP_OK);
    padded[len + 3] = 1;
    CHECK(bhttp_request_decode(&d, padded, len + 4) == BHTTP_ERR_PADDING);
    free(padded);
    /* Framing. */
    buf[0] = 2;
    CHECK(bhttp_request_decode(&d, buf, len) == BHTTP_ERR_INDETERMINATE);
    buf[0] = 1;
    CHECK(bhttp_request_decode(&d, buf, len) == BHTTP_ERR_FRAMING);
    free(buf);

    /* A response with an informational 103 first. */
    const uint8_t res[] = {0x01, 0x40, 0x67, 0x05, 0x01, 'l', 0x02, 'a', 'b',
                           0x40, 0xc8, 0x00, 0x02, 'o', 'k', 0x00};
    CHECK(bhttp_response_decode(&d, res, sizeof res) == BHTTP_OK);
    CHECK(d.status == 200 && d.nheaders == 0 && eq(d.content, "ok"));
    for (size_t cut = 0; cut < sizeof res; cut++) {
        bhttp_result r = bhttp_response_decode(&d, res, cut);
        CHECK(r != BHTTP_OK || cut == 11 || cut == 12 || cut == 15);
    }
    memset(&m, 0, sizeof m);
    m.status = 404;
    m.content = bhttp_str("not found");
    CHECK(bhttp_response_encode(&m, &buf, &len) == BHTTP_OK);
    CHECK(bhttp_response_decode(&d, buf, len) == BHTTP_OK && d.status == 404 && eq(d.content, "not found"));
    free(buf);
    m.status = 101;
    CHECK(bhttp_response_encode(&m, &buf, &len) == BHTTP_ERR_STATUS);
}

static void test_hostile(void) {
    bhttp_message d;
    /* Lengths past the end, with 8-byte varints near 2^62. */
    const uint8_t huge_method[] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(bhttp_request_decode(&d, huge_method, sizeof huge_method) == BHTTP_ERR_CONTROL);
    const uint8_t past_end[] = {0x00, 0x05, 'G', 'E', 'T'};
    CHECK(bhttp_request_decode(&d, past_end, sizeof past_end) == BHTTP_ERR_TRUNCATED);
    const uint8_t empty_method[] = {0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK(bhttp_request_decode(&d, empty_method, sizeof empty_method) == BHTTP_ERR_CONTROL);
    const uint8_t truncated_varint[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00, 0x80, 0x01};
    CHECK(bhttp_request_decode(&d, truncated_varint, sizeof truncated_varint) == BHTTP_ERR_TRUNCATED);
    const uint8_t huge_section[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff};
    CHECK(bhttp_request_decode(&d, huge_section, sizeof huge_section) == BHTTP_ERR_SECTION);
    const uint8_t huge_content[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff};
    CHECK(bhttp_request_decode(&d, huge_content, sizeof huge_content) == BHTTP_ERR_CONTENT);
    /* A field line that runs past its section's end. */
    const uint8_t line_past[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00, 0x03, 0x01, 'a', 0x05};
    CHECK(bhttp_request_decode(&d, line_past, sizeof line_past) == BHTTP_ERR_SECTION);
    const uint8_t empty_name[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00, 0x02, 0x00, 0x00};
    CHECK(bhttp_request_decode(&d, empty_name, sizeof empty_name) == BHTTP_ERR_FIELD);
    /* More field lines than BHTTP_MAX_FIELDS. */
    size_t n = BHTTP_MAX_FIELDS + 1, sec = n * 4;
    uint8_t *many = malloc(8 + 2 + sec), *p = many;
    const uint8_t head[] = {0x00, 0x03, 'G', 'E', 'T', 0x00, 0x00, 0x00};
    memcpy(p, head, sizeof head);
    p += sizeof head;
    p += varint_encode(sec, p);
    for (size_t i = 0; i < n; i++) {
        *p++ = 1; *p++ = 'a'; *p++ = 1; *p++ = 'b';
    }
    CHECK(bhttp_request_decode(&d, many, (size_t)(p - many)) == BHTTP_ERR_TOO_MANY);
    free(many);
    /* Statuses out of range, too many informational responses. */
    const uint8_t s99[] = {0x01, 0x40, 0x63};
    CHECK(bhttp_response_decode(&d, s99, sizeof s99) == BHTTP_ERR_STATUS);
    const uint8_t s600[] = {0x01, 0x42, 0x58};
    CHECK(bhttp_response_decode(&d, s600, sizeof s600) == BHTTP_ERR_STATUS);
    uint8_t infos[3 * (BHTTP_MAX_INFORMATIONAL + 1) + 3];
    size_t k = 0;
    infos[k++] = 0x01;
    for (size_t i = 0; i <= BHTTP_MAX_INFORMATIONAL; i++) {
        infos[k++] = 0x40; infos[k++] = 0x64; infos[k++] = 0x00;
    }
    CHECK(bhttp_response_decode(&d, infos, k) == BHTTP_ERR_TOO_MANY);
    const uint8_t indeterminate[] = {0x03, 0x40, 0xc8};
    CHECK(bhttp_response_decode(&d, indeterminate, sizeof indeterminate) == BHTTP_ERR_INDETERMINATE);
    CHECK(bhttp_response_decode(&d, NULL, 0) == BHTTP_ERR_TRUNCATED);
    /* The encoder refuses what the decoder would. */
    bhttp_message m;
    build_request(&m);
    m.fields[1].name = bhttp_str("");
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(bhttp_request_encode(&m, &buf, &len) == BHTTP_ERR_FIELD);
    build_request(&m);
    m.ntrailers = BHTTP_MAX_FIELDS;
    CHECK(bhttp_request_encode(&m, &buf, &len) == BHTTP_ERR_TOO_MANY);
}

/* bhttp_header: the first header of a name, without case; not a trailer. */
static void test_header_lookup(void) {
    bhttp_message m;
    memset(&m, 0, sizeof m);
    m.nheaders = 2;
    m.ntrailers = 1;
    m.fields[0].name = bhttp_str("Date");
    m.fields[0].value = bhttp_str("one");
    m.fields[1].name = bhttp_str("date");
    m.fields[1].value = bhttp_str("two");
    m.fields[2].name = bhttp_str("tfaas-receipt");
    m.fields[2].value = bhttp_str("trailer");
    const bhttp_field *f = bhttp_header(&m, "DATE");
    CHECK(f && f->value.len == 3 && memcmp(f->value.ptr, "one", 3) == 0);
    CHECK(bhttp_header(&m, "tfaas-receipt") == NULL);
    CHECK(bhttp_header(&m, "dat") == NULL);
}

int main(void) {
    test_header_lookup();
    test_varint();
    test_examples();
    test_round_trip_and_truncation();
    test_hostile();
    return CHECK_DONE();
}
