/* bytebuf.h - the one growable byte buffer: capacity doubles from 1 KiB,
 * and the bytes stay NUL-terminated for text users (log_buffer, fetch). */
#ifndef TFAAS_COMMON_BYTEBUF_H
#define TFAAS_COMMON_BYTEBUF_H

#include <stddef.h>

/* Makes room in *data (capacity *cap) for len + extra bytes and a NUL.
 * 0, or -1 when out of memory (the buffer is unchanged). */
int bytebuf_reserve(char **data, size_t *cap, size_t len, size_t extra);

#endif
