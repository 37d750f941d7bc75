/* file.h - writing the state directory's small files (credentials, sealed
 * keys) so that a crash leaves the old content or the new, never half. */
#ifndef TFAAS_HOST_UTIL_FILE_H
#define TFAAS_HOST_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path through path.tmp (created with mode, fsynced) and a
 * rename. 0, or -1 with errno and no temporary file left behind. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
