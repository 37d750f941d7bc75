/* json_depth.c - nesting depth of JSON text in one pass; see json_depth.h. */
#include "common/json_depth.h"

size_t json_depth(const char *text, size_t len, size_t limit) {
    size_t depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++; /* the escaped character cannot end the string */
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest && (deepest = depth) > limit) return limit + 1;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}
