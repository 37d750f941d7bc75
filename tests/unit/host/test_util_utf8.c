/* test_util_utf8.c - UTF-8 sanitising of outside text: valid text is kept,
 * each invalid byte becomes '?', and the result is text jansson accepts. */
#include "check.h"
#include "host/util/utf8.h"

#include <jansson.h>
#include <string.h>

/* Sanitises a copy of in and compares it with want. */
static void check_sanitized(const char *in, const char *want) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", in);
    utf8_sanitize(buf);
    CHECK_STR(buf, want);
    json_t *s = json_string(buf);
    CHECK(s != NULL);
    json_decref(s);
}

static void test_valid_kept(void) {
    check_sanitized("", "");
    check_sanitized("plain ascii", "plain ascii");
    check_sanitized("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check_sanitized("\xef\xbf\xbd \xf4\x8f\xbf\xbf", "\xef\xbf\xbd \xf4\x8f\xbf\xbf"); /* U+FFFD, U+10FFFF */
}

static void test_invalid_replaced(void) {
    /* a lone surrogate as Duktape writes it (CESU-8): console.log('\ud800')
     * in a function used to make its activation record unbuildable */
    check_sanitized("bad \xed\xa0\x80 x", "bad ??? x");
    check_sanitized("\x80\xbf", "??");                 /* stray continuation bytes */
    check_sanitized("\xc0\xaf", "??");                 /* overlong '/' */
    check_sanitized("\xe0\x80\xaf", "???");            /* overlong, 3 bytes */
    check_sanitized("\xf4\x90\x80\x80", "????");       /* above U+10FFFF */
    check_sanitized("\xf5\x80\x80\x80", "????");
    check_sanitized("cut \xe2\x82", "cut ??");         /* sequence cut by the end */
    check_sanitized("\xc3(", "?(");                    /* cut by an ASCII byte */
    check_sanitized("\xff\xfe", "??");
}

static void test_seq_lengths(void) {
    CHECK(utf8_seq((const unsigned char *)"a") == 1);
    CHECK(utf8_seq((const unsigned char *)"\xc3\xa9") == 2);
    CHECK(utf8_seq((const unsigned char *)"\xe2\x82\xac") == 3);
    CHECK(utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80") == 4);
    CHECK(utf8_seq((const unsigned char *)"\xed\x9f\xbf") == 3); /* U+D7FF, just below the surrogates */
    CHECK(utf8_seq((const unsigned char *)"\xed\xa0\x80") == 0);
}

int main(void) {
    test_valid_kept();
    test_invalid_replaced();
    test_seq_lengths();
    return CHECK_DONE();
}
