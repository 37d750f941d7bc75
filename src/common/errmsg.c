/* errmsg.c - see errmsg.h. */
/* vasprintf: the build defines _GNU_SOURCE */
#include "common/errmsg.h"

#include <stdarg.h>
#include <stdio.h>

int errmsg(char **err, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0) *err = NULL;
    va_end(ap);
    return -1;
}
