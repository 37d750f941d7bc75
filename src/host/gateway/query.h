/* query.h - strict parsing of query-string values (limit, skip, since,
 * blocking, ...). Pure functions, unit-tested; the HTTP layer looks values
 * up and turns a -1 into a 400 that names the parameter. */
#ifndef TFAAS_HOST_GATEWAY_QUERY_H
#define TFAAS_HOST_GATEWAY_QUERY_H

#include <stdint.h>

/* Decimal integer in [min, max], no sign other than a leading '-', no
 * spaces, no trailing garbage. NULL (absent) gives dflt. 0 or -1. */
int query_int(const char *s, int64_t min, int64_t max, int64_t dflt, int64_t *out);
/* "true" / "false" (OpenWhisk's spelling); NULL gives dflt. 0 or -1. */
int query_bool(const char *s, int dflt, int *out);

#endif
