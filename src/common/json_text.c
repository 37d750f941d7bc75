/* json_text.c - see json_text.h. */
#include "common/json_text.h"

size_t json_text_escape(char *dst, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s, *end = p + len; p < end; p++) {
        switch (*p) {
        case '"': dst[n++] = '\\'; dst[n++] = '"'; break;
        case '\\': dst[n++] = '\\'; dst[n++] = '\\'; break;
        case '\n': dst[n++] = '\\'; dst[n++] = 'n'; break;
        case '\r': dst[n++] = '\\'; dst[n++] = 'r'; break;
        case '\t': dst[n++] = '\\'; dst[n++] = 't'; break;
        default:
            if (*p < 0x20) {
                dst[n++] = '\\'; dst[n++] = 'u'; dst[n++] = '0'; dst[n++] = '0';
                dst[n++] = hex[*p >> 4]; dst[n++] = hex[*p & 15];
            } else {
                dst[n++] = (char)*p;
            }
        }
    }
    dst[n] = '\0';
    return n;
}
