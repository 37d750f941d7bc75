/* errmsg.h - the one way tfaas functions report a failure in words: they
 * take `char **err` and, on failure, leave a malloc'd message there for the
 * caller to print and free. */
#ifndef TFAAS_COMMON_ERRMSG_H
#define TFAAS_COMMON_ERRMSG_H

/* Sets *err (when err is not NULL) to the formatted message, or to NULL when
 * memory is short, and returns -1 so that callers can `return errmsg(...)`. */
__attribute__((format(printf, 2, 3)))
int errmsg(char **err, const char *fmt, ...);

#endif
