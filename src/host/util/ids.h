/* ids.h - identifiers and secrets drawn from the OS CSPRNG (getrandom),
 * small draws through a per-thread pool (ids.c). */
#ifndef TFAAS_HOST_UTIL_IDS_H
#define TFAAS_HOST_UTIL_IDS_H
#include <stddef.h>

/* Fills buf with n random bytes. 0, or -1 if the kernel refused. */
int ids_random(void *buf, size_t n);
/* Writes 2*nbytes lowercase hex digits and a NUL into out (size 2*nbytes+1). */
int ids_hex(char *out, size_t nbytes);
/* An activation id: 32 lowercase hex digits like OpenWhisk's, of which the
 * first 12 are the wall-clock milliseconds and the other 20 random (80 bits).
 * Time-ordered ids land at the end of the store's primary-key index instead
 * of on a random page, which keeps its writes cheap. */
int ids_activation(char out[33]);
/* A random (version 4) UUID in canonical form: out has room for 37 bytes. */
int ids_uuid(char out[37]);
/* A random secret of len characters from [A-Za-z0-9] (no modulo bias); out has len+1. */
int ids_secret(char *out, size_t len);
#endif
