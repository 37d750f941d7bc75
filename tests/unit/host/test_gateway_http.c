/* test_gateway_http.c - the error body every gateway error uses: OpenWhisk's
 * {"error", "code"} shape, a fresh 32-hex request id each time, and valid
 * UTF-8 even when the message quotes hostile client bytes. */
#include "check.h"

#include "host/gateway/http_response.h"

#include <stdlib.h>
#include <string.h>

static int is_hex32(const char *s) {
    if (!s || strlen(s) != 32) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

int main(void) {
    json_t *a = http_error_body("The requested resource does not exist.");
    json_t *b = http_error_body("The requested resource does not exist.");
    CHECK(a && b);
    CHECK(json_object_size(a) == 2);
    CHECK_STR(json_string_value(json_object_get(a, "error")), "The requested resource does not exist.");
    CHECK(is_hex32(json_string_value(json_object_get(a, "code"))));
    CHECK(strcmp(json_string_value(json_object_get(a, "code")), json_string_value(json_object_get(b, "code"))) != 0);
    json_decref(a);
    json_decref(b);

    /* invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, 0xff */
    json_t *c = http_error_body("name '\x80\xc3' \xe0\x80\x80 \xed\xa0\x80 \xff ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    CHECK(c != NULL);
    CHECK_STR(json_string_value(json_object_get(c, "error")),
              "name '\?\?' \?\?\? \?\?\? \? ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    json_decref(c);

    /* a message longer than the buffer is cut, still valid */
    char *big = malloc(5000);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    big[1022] = '\xc3'; /* a two-byte character split by the cut */
    big[1023] = '\xa9';
    json_t *d = http_error_body(big);
    CHECK(d != NULL);
    CHECK(json_string_length(json_object_get(d, "error")) == 1023);
    json_decref(d);
    free(big);
    return CHECK_DONE();
}
