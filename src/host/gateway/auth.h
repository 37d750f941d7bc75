/* auth.h - HTTP Basic authentication as OpenWhisk uses it: the header
 * "Authorization: Basic base64(uuid:key)". auth_parse_basic is pure (and
 * unit-tested on hostile headers); the store checks the credential. */
#ifndef TFAAS_HOST_GATEWAY_AUTH_H
#define TFAAS_HOST_GATEWAY_AUTH_H

#include <stddef.h>

#define AUTH_MAX_HEADER 1024 /* longer Authorization headers are refused */
#define AUTH_MAX_PART   256  /* longest uuid or key accepted */

typedef enum {
    AUTH_OK = 0,
    AUTH_MISSING,   /* no header: 401 "...not supplied..." */
    AUTH_MALFORMED, /* not Basic, bad base64, no ':', empty or oversized part: 401 "...invalid" */
} auth_status;

/* uuid and key receive NUL-terminated parts (buffers of AUTH_MAX_PART + 1). */
auth_status auth_parse_basic(const char *header, char uuid[AUTH_MAX_PART + 1], char key[AUTH_MAX_PART + 1]);

#endif
