/* test_gateway_framing.c - the gateway's verdict on a request's body
 * framing (RFC 9112 §6): each ambiguity that allows request smuggling, and
 * the ordinary framings that must pass. */
#include "check.h"

#include "host/gateway/framing.h"

#include <stdio.h>

/* One request's headers (at most two; NULL name: none) and the verdict. */
typedef struct {
    int http10;
    const char *n1, *v1, *n2, *v2;
    framing_result want;
} framing_case;

static const framing_case CASES[] = {
    /* ordinary requests */
    {0, "Host", "x", NULL, NULL, FRAMING_OK},
    {0, "Content-Length", "12", NULL, NULL, FRAMING_OK},
    {0, "content-length", "12", "Content-Length", "12", FRAMING_OK}, /* the same value twice */
    {0, "Transfer-Encoding", "chunked", NULL, NULL, FRAMING_OK},
    {0, "transfer-encoding", " CHUNKED ", NULL, NULL, FRAMING_OK},
    {0, "Transfer-Encoding", ", chunked,", NULL, NULL, FRAMING_OK}, /* empty list elements */
    {1, "Content-Length", "3", NULL, NULL, FRAMING_OK},
    {0, "X-Ok_1.2~!#$%&'*+^`|", "1", NULL, NULL, FRAMING_OK},
    /* ambiguous lengths */
    {0, "Content-Length", "2", "Content-Length", "40", FRAMING_CL_CONFLICT},
    {0, "Content-Length", "4", "Transfer-Encoding", "chunked", FRAMING_CL_AND_TE},
    {0, "Transfer-Encoding", "chunked", "Content-Length", "4", FRAMING_CL_AND_TE},
    /* transfer codings */
    {0, "Transfer-Encoding", "gzip", NULL, NULL, FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "chunked, identity", NULL, NULL, FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "", NULL, NULL, FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "xchunked", NULL, NULL, FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "chunked;ext=1", NULL, NULL, FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "chunked", "Transfer-Encoding", "gzip", FRAMING_TE_NOT_CHUNKED},
    {0, "Transfer-Encoding", "gzip, chunked", NULL, NULL, FRAMING_TE_UNSUPPORTED},
    {0, "Transfer-Encoding", "gzip", "Transfer-Encoding", "chunked", FRAMING_TE_UNSUPPORTED},
    {0, "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", FRAMING_TE_UNSUPPORTED},
    {1, "Transfer-Encoding", "chunked", NULL, NULL, FRAMING_TE_HTTP10},
    /* header names: whitespace before the colon, or other non-token bytes */
    {0, "Content-Length ", "5", NULL, NULL, FRAMING_BAD_NAME},
    {0, "Transfer-Encoding\t", "chunked", NULL, NULL, FRAMING_BAD_NAME},
    {0, "X Y", "1", NULL, NULL, FRAMING_BAD_NAME},
    {0, "", "1", NULL, NULL, FRAMING_BAD_NAME},
};

int main(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const framing_case *c = &CASES[i];
        framing f = {0};
        framing_add(&f, c->n1, c->v1);
        if (c->n2) framing_add(&f, c->n2, c->v2);
        framing_result got = framing_check(&f, c->http10);
        if (got != c->want) fprintf(stderr, "case %zu (%s: %s): %s\n", i, c->n1, c->v1, framing_name(got));
        CHECK(got == c->want);
    }

    /* statuses and names */
    CHECK(framing_status(FRAMING_OK) == 0);
    CHECK(framing_status(FRAMING_TE_UNSUPPORTED) == 501);
    for (int r = FRAMING_BAD_NAME; r <= FRAMING_TE_UNSUPPORTED; r++) {
        if (r != FRAMING_TE_UNSUPPORTED) CHECK(framing_status((framing_result)r) == 400);
        CHECK(framing_name((framing_result)r)[0] != '\0');
    }
    CHECK_STR(framing_name(FRAMING_CL_AND_TE), "the request has both Content-Length and Transfer-Encoding");
    return CHECK_DONE();
}
