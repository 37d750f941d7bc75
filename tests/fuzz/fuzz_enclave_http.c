/* fuzz_enclave_http.c - libFuzzer target for the enclave's reading of an
 * HTTP response (src/trusted/fetch/http_response.c): the bytes come from
 * whatever server a function fetches from, the least trusted input the
 * enclave takes. The first input byte picks how the bytes are cut into
 * reads (1..256 at a time) and whether the request was a HEAD; the rest is
 * the server's stream.
 *
 * Invariants: on success the status is 200..599, there are at most
 * FETCH_MAX_HEADERS headers, each name a lower-case token and each value
 * without CR or LF, and the body is no longer than the stream; every byte
 * read is charged once, and never more than the stream holds; on failure
 * the message starts with "fetch: ". */
#include "fuzz.h"

#include "trusted/fetch/http_response.h"
#include "../unit/mem_source.h"

#include <ctype.h>

static int count(void *ctx, size_t n, char **err) {
    (void)err;
    *(size_t *)ctx += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    mem_source s = {.p = data + 1, .left = size - 1, .step = (size_t)(data[0] & 0x7f) * 2 + 1};
    size_t charged = 0;
    fetch_response res;
    memset(&res, 0, sizeof res);
    char *err = NULL;
    int rc = http_response_read(mem_source_read, &s, count, &charged, data[0] >> 7, &res, &err);
    FUZZ_CHECK(charged == size - 1 - s.left);
    if (rc == 0) {
        FUZZ_CHECK(res.status >= 200 && res.status <= 599);
        FUZZ_CHECK(res.nheaders <= FETCH_MAX_HEADERS);
        for (size_t i = 0; i < res.nheaders; i++) {
            FUZZ_CHECK(res.headers[i].name[0] != '\0');
            for (const char *q = res.headers[i].name; *q; q++)
                FUZZ_CHECK(http_token_char((unsigned char)*q) && !isupper((unsigned char)*q));
            FUZZ_CHECK(!strpbrk(res.headers[i].value, "\r\n"));
        }
        FUZZ_CHECK(res.body_len <= size - 1);
        FUZZ_CHECK(res.status_text != NULL);
    } else {
        FUZZ_CHECK(err && strncmp(err, "fetch: ", 7) == 0);
    }
    free(err);
    fetch_response_free(&res);
    return 0;
}
