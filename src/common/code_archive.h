/* code_archive.h - the zip archive of a zip (multi-file) action, read and
 * checked in memory with libzip.
 *
 * Both sides use it: the gateway checks a plaintext zip action when it is
 * created (a clear 400 instead of a failure at every invocation), and the
 * enclave, which trusts no check the host made, unzips and checks it again
 * before any file reaches the engine (a confidential zip is only ever
 * opened there). Nothing is written anywhere: the files are held in memory.
 *
 * Refused (each a code_archive_status): anything libzip cannot read, more
 * than CODE_ARCHIVE_MAX_ENTRIES entries, an entry whose path is absolute,
 * has a `..`, `.` or empty segment, a backslash or a NUL, symbolic links,
 * encrypted entries, compression methods other than stored and deflated,
 * an entry over CODE_ARCHIVE_MAX_ENTRY_BYTES or, past 1 MiB, more than
 * CODE_ARCHIVE_MAX_RATIO times its compressed size, more than
 * CODE_ARCHIVE_MAX_TOTAL_BYTES in all, the same path twice (or another
 * inconsistency of the central directory), and an entry
 * whose data does not match its header (size or CRC): sizes are counted
 * while inflating, never taken from the headers. */
#ifndef TFAAS_COMMON_CODE_ARCHIVE_H
#define TFAAS_COMMON_CODE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

/* OpenWhisk's code limit (whisk.exec.sizeLimit, 48 MB): the zip itself. */
#define CODE_ARCHIVE_MAX_ZIP_BYTES (48u << 20)
#define CODE_ARCHIVE_MAX_ENTRIES 10000u
#define CODE_ARCHIVE_MAX_ENTRY_BYTES (32u << 20)
#define CODE_ARCHIVE_MAX_TOTAL_BYTES (128u << 20)
#define CODE_ARCHIVE_MAX_RATIO 100u
#define CODE_ARCHIVE_MAX_PATH 1024u

typedef enum {
    CODE_ARCHIVE_OK = 0,
    CODE_ARCHIVE_NOT_ZIP,          /* not a zip archive libzip can read */
    CODE_ARCHIVE_ZIP_TOO_LARGE,    /* the archive is over CODE_ARCHIVE_MAX_ZIP_BYTES */
    CODE_ARCHIVE_TOO_MANY_ENTRIES,
    CODE_ARCHIVE_BAD_PATH,         /* absolute, traversal, empty/./.. segment, backslash, NUL, too long */
    CODE_ARCHIVE_SYMLINK,
    CODE_ARCHIVE_ENCRYPTED,
    CODE_ARCHIVE_METHOD,           /* compression other than stored or deflated */
    CODE_ARCHIVE_ENTRY_TOO_LARGE,
    CODE_ARCHIVE_RATIO,            /* a zip bomb's entry */
    CODE_ARCHIVE_TOTAL_TOO_LARGE,
    CODE_ARCHIVE_INCONSISTENT,     /* two entries with one path, or a directory that disagrees with itself */
    CODE_ARCHIVE_CORRUPT,          /* data that does not match its header */
    CODE_ARCHIVE_NOMEM,
} code_archive_status;

/* What the status means, in words for the action's developer. */
const char *code_archive_status_name(code_archive_status s);

typedef struct {
    const char *path; /* NUL-terminated, as in the archive ("lib/a.js") */
    const uint8_t *data;
    size_t len;       /* data[len] is a NUL too, so text can be used as is */
} code_archive_file;

typedef struct code_archive code_archive;

/* Reads and checks the zip of len bytes (the caller keeps it; the archive
 * holds copies). On failure *out is NULL and, when entry is given, the
 * offending entry's path (cut to entry_size) is written there, or "" when
 * no entry is to blame. */
code_archive_status code_archive_open(const void *zip, size_t len, code_archive **out, char *entry,
                                      size_t entry_size);

/* The file at path (len bytes, no trailing '/'), or NULL. Directories are
 * not files; code_archive_is_dir tells whether any file lies under path. */
const code_archive_file *code_archive_find(const code_archive *a, const char *path, size_t len);
int code_archive_is_dir(const code_archive *a, const char *path, size_t len);
size_t code_archive_count(const code_archive *a);
/* The i-th file (i < code_archive_count) in path order. */
const code_archive_file *code_archive_at(const code_archive *a, size_t i);
/* The unzipped files' bytes in all (what the archive holds in memory). */
size_t code_archive_bytes(const code_archive *a);

/* The user's words for a refusal: "The zip archive ...: <why> (entry 'p')". */
void code_archive_message(code_archive_status s, const char *entry, char *buf, size_t size);

void code_archive_free(code_archive *a);

#endif
