/* file.h - the state directory and its small files (credentials, sealed
 * keys, the platform key): the directory must be private to its owner, files
 * are written so that a crash leaves the old content or the new, never half,
 * and no file is created or read through a symbolic link someone planted. */
#ifndef TFAAS_HOST_UTIL_FILE_H
#define TFAAS_HOST_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes data to path through path.tmp (created with mode, fsynced) and a
 * rename. 0, or -1 with errno and no temporary file left behind. A link at
 * path.tmp is removed, never followed; one at path is replaced by the file. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* The whole file at path (at most max bytes) in a malloc'd buffer with a NUL
 * after the content, its length in *len. NULL with errno: ENOENT when
 * absent, ELOOP when path is a symbolic link (never followed), EFBIG when
 * larger than max. */
uint8_t *file_read(const char *path, size_t max, size_t *len);

/* 0 when dir is a directory that only this process's user can change: owned
 * by the effective uid and writable by neither group nor others (anyone who
 * can write to it could plant links or replace files there). Otherwise -1
 * with a malloc'd message naming dir, the reason and the remedy in *err. */
int file_check_private_dir(const char *dir, char **err);

#endif
