/* test_json_depth.c - json_depth: nesting counted as the engines count it,
 * brackets in strings and escapes ignored, and hostile text cut short at
 * the limit. */
#include "check.h"

#include "common/json_depth.h"

#include <stdlib.h>
#include <string.h>

static size_t depth(const char *s, size_t limit) { return json_depth(s, strlen(s), limit); }

/* n arrays inside each other, as text (malloc'd). */
static char *arrays(size_t n) {
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}

int main(void) {
    CHECK(depth("", 10) == 0);
    CHECK(depth("42", 10) == 0);
    CHECK(depth("\"[[[{{{\"", 10) == 0);
    CHECK(depth("{}", 10) == 1);
    CHECK(depth("{\"a\":[1,{\"b\":[]}],\"c\":{}}", 10) == 4);
    CHECK(depth("[[],[[]],[]]", 10) == 3);
    /* an escaped quote does not end the string; an escaped backslash does not escape the quote */
    CHECK(depth("[\"\\\"[[[\"]", 10) == 1);
    CHECK(depth("[\"\\\\\",[[]]]", 10) == 3);
    /* stray closers do not make the count negative */
    CHECK(depth("]]]}}[", 10) == 1);

    char *at = arrays(JSON_MAX_DEPTH), *past = arrays(JSON_MAX_DEPTH + 1), *huge = arrays(100000);
    CHECK(depth(at, JSON_MAX_DEPTH) == JSON_MAX_DEPTH);
    CHECK(depth(past, JSON_MAX_DEPTH) == JSON_MAX_DEPTH + 1);
    CHECK(depth(huge, JSON_MAX_DEPTH) == JSON_MAX_DEPTH + 1);
    /* the whole text is looked at: deep nesting after a shallow start */
    char *late = malloc(strlen(past) + 16);
    strcpy(late, "[1,2],");
    strcat(late, past);
    CHECK(depth(late, JSON_MAX_DEPTH) == JSON_MAX_DEPTH + 1);
    free(at);
    free(past);
    free(huge);
    free(late);
    CHECK(strcmp(JSON_MAX_DEPTH_TEXT, "1000") == 0);
    return CHECK_DONE();
}
