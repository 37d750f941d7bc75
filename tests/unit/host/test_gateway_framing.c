/* test_gateway_framing.c - the gateway's verdict on a request's body
 * framing (RFC 9112 §6): each ambiguity that allows request smuggling, and
 * the ordinary framings that must pass. */
#include "check.h"

#include "host/gateway/framing.h"

/* Verdict for up to four headers (name, value pairs; NULL ends the list). */
static framing_result judge(int http10, const char *const *h) {
    framing f = {0};
    for (; h[0]; h += 2) framing_add(&f, h[0], h[1]);
    return framing_check(&f, http10);
}
#define J(http10, ...) judge(http10, (const char *const[]){__VA_ARGS__, NULL})

int main(void) {
    /* ordinary requests */
    CHECK(J(0, "Host", "x") == FRAMING_OK);
    CHECK(J(0, "Content-Length", "12") == FRAMING_OK);
    CHECK(J(0, "content-length", "12", "Content-Length", "12") == FRAMING_OK); /* same value twice */
    CHECK(J(0, "Transfer-Encoding", "chunked") == FRAMING_OK);
    CHECK(J(0, "transfer-encoding", " CHUNKED ") == FRAMING_OK);
    CHECK(J(0, "Transfer-Encoding", ", chunked,") == FRAMING_OK); /* empty list elements */
    CHECK(J(1, "Content-Length", "3") == FRAMING_OK);

    /* ambiguous lengths */
    CHECK(J(0, "Content-Length", "2", "Content-Length", "40") == FRAMING_CL_CONFLICT);
    CHECK(J(0, "Content-Length", "4", "Transfer-Encoding", "chunked") == FRAMING_CL_AND_TE);
    CHECK(J(0, "Transfer-Encoding", "chunked", "Content-Length", "4") == FRAMING_CL_AND_TE);

    /* transfer codings */
    CHECK(J(0, "Transfer-Encoding", "gzip") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(0, "Transfer-Encoding", "chunked, identity") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(0, "Transfer-Encoding", "") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(0, "Transfer-Encoding", "xchunked") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(0, "Transfer-Encoding", "chunked;ext=1") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(0, "Transfer-Encoding", "gzip, chunked") == FRAMING_TE_UNSUPPORTED);
    CHECK(J(0, "Transfer-Encoding", "gzip", "Transfer-Encoding", "chunked") == FRAMING_TE_UNSUPPORTED);
    CHECK(J(0, "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked") == FRAMING_TE_UNSUPPORTED);
    CHECK(J(0, "Transfer-Encoding", "chunked", "Transfer-Encoding", "gzip") == FRAMING_TE_NOT_CHUNKED);
    CHECK(J(1, "Transfer-Encoding", "chunked") == FRAMING_TE_HTTP10);

    /* header names: whitespace before the colon, or other non-token bytes */
    CHECK(J(0, "Content-Length ", "5") == FRAMING_BAD_NAME);
    CHECK(J(0, "Transfer-Encoding\t", "chunked") == FRAMING_BAD_NAME);
    CHECK(J(0, "X Y", "1") == FRAMING_BAD_NAME);
    CHECK(J(0, "", "1") == FRAMING_BAD_NAME);
    CHECK(J(0, "X-Ok_1.2~!#$%&'*+^`|", "1") == FRAMING_OK);

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
