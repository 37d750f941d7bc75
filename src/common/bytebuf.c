/* bytebuf.c - see bytebuf.h. */
#include "common/bytebuf.h"

#include <stdlib.h>

int bytebuf_reserve(char **data, size_t *cap, size_t len, size_t extra) {
    if (len + extra + 1 <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < len + extra + 1) c *= 2;
    char *p = realloc(*data, c);
    if (!p) return -1;
    *data = p;
    *cap = c;
    return 0;
}
