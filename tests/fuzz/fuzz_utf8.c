/* fuzz_utf8.c - libFuzzer target for the UTF-8 sanitiser
 * (src/host/util/utf8.c) that every outside text goes through before it
 * becomes a JSON string: client input quoted in error messages, and the
 * logs and result a function's enclave sends back.
 *
 * Invariants, checked against jansson's own UTF-8 validation: the length
 * never changes; the output is always valid UTF-8; text that was valid is
 * left exactly as it was, and text that was not is changed. */
#include "fuzz.h"

#include "host/util/utf8.h"

#include <jansson.h>

static int valid(const char *s) {
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstr(data, size);
    size_t len = strlen(s);
    char *orig = strdup(s);
    FUZZ_CHECK(orig != NULL);
    utf8_sanitize(s);
    FUZZ_CHECK(strlen(s) == len);
    FUZZ_CHECK(valid(s));
    FUZZ_CHECK(valid(orig) == (strcmp(orig, s) == 0));
    for (size_t i = 0; i < len; i++) FUZZ_CHECK(s[i] == orig[i] || s[i] == '?');
    free(orig);
    free(s);
    return 0;
}
