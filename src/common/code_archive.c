/* code_archive.c - a zip action's archive read and checked in memory
 * (code_archive.h). libzip (Debian's libzip) parses the archive, inflates
 * and verifies each entry's CRC; this file decides what is refused and
 * keeps the files in a table sorted by path for lookups. */
#include "common/code_archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

struct code_archive {
    code_archive_file *files; /* sorted by path (strcmp) */
    size_t n;
    size_t bytes; /* of all files' data */
};

const char *code_archive_status_name(code_archive_status s) {
    switch (s) {
    case CODE_ARCHIVE_OK: return "ok";
    case CODE_ARCHIVE_NOT_ZIP: return "it is not a zip archive that can be read";
    case CODE_ARCHIVE_ZIP_TOO_LARGE: return "it is larger than 48 MB (50331648 bytes)";
    case CODE_ARCHIVE_TOO_MANY_ENTRIES: return "it has more than 10000 entries";
    case CODE_ARCHIVE_BAD_PATH:
        return "an entry's path is absolute, has an empty, '.' or '..' segment, a backslash or a NUL, or is "
               "longer than 1024 bytes";
    case CODE_ARCHIVE_SYMLINK: return "an entry is a symbolic link";
    case CODE_ARCHIVE_ENCRYPTED: return "an entry is encrypted";
    case CODE_ARCHIVE_METHOD: return "an entry is compressed with a method other than stored or deflated";
    case CODE_ARCHIVE_ENTRY_TOO_LARGE: return "an entry unzips to more than 32 MiB";
    case CODE_ARCHIVE_RATIO: return "an entry unzips to more than 100 times its compressed size (a zip bomb)";
    case CODE_ARCHIVE_TOTAL_TOO_LARGE: return "its entries unzip to more than 128 MiB in all";
    case CODE_ARCHIVE_INCONSISTENT:
        return "its directory is inconsistent (two entries with the same path, or headers that disagree)";
    case CODE_ARCHIVE_CORRUPT: return "an entry's data does not match its header (size or checksum)";
    case CODE_ARCHIVE_NOMEM: return "out of memory while unzipping it";
    }
    return "unknown";
}

void code_archive_message(code_archive_status s, const char *entry, char *buf, size_t size) {
    if (entry && *entry)
        snprintf(buf, size, "The zip archive of the action is refused: %s (entry '%.256s')", code_archive_status_name(s),
                 entry);
    else
        snprintf(buf, size, "The zip archive of the action is refused: %s", code_archive_status_name(s));
}

/* A relative path of non-empty segments other than "." and ".."; a
 * trailing '/' (a directory entry) is allowed. */
static int path_ok(const char *p, size_t len) {
    if (len == 0 || len > CODE_ARCHIVE_MAX_PATH || p[0] == '/' || memchr(p, '\\', len) || memchr(p, '\0', len))
        return 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && p[j] != '/') j++;
        size_t seg = j - i;
        if (seg == 0 || (seg == 1 && p[i] == '.') || (seg == 2 && p[i] == '.' && p[i + 1] == '.')) return 0;
        if (j == len - 1) break; /* "dir/" */
        i = j + 1;
    }
    return 1;
}

/* Sorts files by path: a merge sort, not qsort, because glibc's qsort asks
 * the kernel for the machine's memory (sysinfo) on large arrays, a system
 * call the enclave's sandbox refuses by killing the process. */
static int sort_by_path(code_archive_file *files, size_t n) {
    code_archive_file *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = strcmp(files[i].path, files[j].path) <= 0 ? files[i++] : files[j++];
            while (i < mid) tmp[k++] = files[i++];
            while (j < hi) tmp[k++] = files[j++];
        }
        memcpy(files, tmp, n * sizeof *tmp);
    }
    free(tmp);
    return 0;
}

void code_archive_free(code_archive *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        free((char *)a->files[i].path);
        free((uint8_t *)a->files[i].data);
    }
    free(a->files);
    free(a);
}

/* Inflates entry idx into *data, counting what actually comes out: a header
 * may lie about the size, so the limits hold for the bytes themselves. */
static code_archive_status read_entry(zip_t *z, zip_uint64_t idx, const zip_stat_t *st, size_t total,
                                      uint8_t **data, size_t *len) {
    zip_file_t *f = zip_fopen_index(z, idx, 0);
    if (!f) return CODE_ARCHIVE_CORRUPT;
    size_t cap = st->size < 4096 ? 4096 : (size_t)st->size + 1, n = 0;
    if (cap > CODE_ARCHIVE_MAX_ENTRY_BYTES + 1) cap = CODE_ARCHIVE_MAX_ENTRY_BYTES + 1;
    uint8_t *buf = malloc(cap + 1);
    code_archive_status rc = buf ? CODE_ARCHIVE_OK : CODE_ARCHIVE_NOMEM;
    while (rc == CODE_ARCHIVE_OK) {
        if (n == cap) {
            size_t ncap = cap * 2 > CODE_ARCHIVE_MAX_ENTRY_BYTES + 1 ? CODE_ARCHIVE_MAX_ENTRY_BYTES + 1 : cap * 2;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap + 1) : NULL;
            if (!nb) {
                rc = ncap > cap ? CODE_ARCHIVE_NOMEM : CODE_ARCHIVE_ENTRY_TOO_LARGE;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        zip_int64_t got = zip_fread(f, buf + n, cap - n);
        if (got < 0) rc = CODE_ARCHIVE_CORRUPT; /* also a CRC mismatch at the end */
        else if (got == 0) break;
        else n += (size_t)got;
        if (n > CODE_ARCHIVE_MAX_ENTRY_BYTES) rc = CODE_ARCHIVE_ENTRY_TOO_LARGE;
        else if (total + n > CODE_ARCHIVE_MAX_TOTAL_BYTES) rc = CODE_ARCHIVE_TOTAL_TOO_LARGE;
        else if (n > (1u << 20) && n / CODE_ARCHIVE_MAX_RATIO > st->comp_size) rc = CODE_ARCHIVE_RATIO;
    }
    zip_fclose(f);
    if (rc == CODE_ARCHIVE_OK && n != st->size) rc = CODE_ARCHIVE_CORRUPT;
    if (rc != CODE_ARCHIVE_OK) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return CODE_ARCHIVE_OK;
}

/* The checks an entry's header allows before any byte is inflated. */
static code_archive_status check_header(zip_t *z, zip_uint64_t idx, const zip_stat_t *st) {
    const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                              ZIP_STAT_ENCRYPTION_METHOD;
    if ((st->valid & need) != need) return CODE_ARCHIVE_CORRUPT;
    if (!path_ok(st->name, strlen(st->name))) return CODE_ARCHIVE_BAD_PATH;
    zip_uint8_t opsys;
    zip_uint32_t attr;
    if (zip_file_get_external_attributes(z, idx, 0, &opsys, &attr) < 0) return CODE_ARCHIVE_CORRUPT;
    /* Unix-made archives keep st_mode in the high half (zip's and
     * Info-ZIP's convention); a link there is refused whatever its name. */
    if (opsys == ZIP_OPSYS_UNIX && S_ISLNK((attr >> 16) & 0xffff)) return CODE_ARCHIVE_SYMLINK;
    if (st->encryption_method != ZIP_EM_NONE) return CODE_ARCHIVE_ENCRYPTED;
    if (st->comp_method != ZIP_CM_STORE && st->comp_method != ZIP_CM_DEFLATE) return CODE_ARCHIVE_METHOD;
    if (st->size > CODE_ARCHIVE_MAX_ENTRY_BYTES) return CODE_ARCHIVE_ENTRY_TOO_LARGE;
    return CODE_ARCHIVE_OK;
}

static void blame(char *entry, size_t entry_size, const char *name) {
    if (entry && entry_size) snprintf(entry, entry_size, "%s", name ? name : "");
}

code_archive_status code_archive_open(const void *zip, size_t len, code_archive **out, char *entry,
                                      size_t entry_size) {
    *out = NULL;
    blame(entry, entry_size, "");
    if (len > CODE_ARCHIVE_MAX_ZIP_BYTES) return CODE_ARCHIVE_ZIP_TOO_LARGE;
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = zip_source_buffer_create(zip, len, 0, &zerr);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr) : NULL;
    int why = zip_error_code_zip(&zerr);
    zip_error_fini(&zerr);
    if (!z) {
        zip_source_free(src);
        /* libzip refuses a second entry of one path as "exists" */
        if (why == ZIP_ER_INCONS || why == ZIP_ER_EXISTS) return CODE_ARCHIVE_INCONSISTENT;
        return why == ZIP_ER_MEMORY ? CODE_ARCHIVE_NOMEM : CODE_ARCHIVE_NOT_ZIP;
    }
    code_archive_status rc = CODE_ARCHIVE_OK;
    code_archive *a = calloc(1, sizeof *a);
    zip_int64_t count = zip_get_num_entries(z, 0);
    if (!a) rc = CODE_ARCHIVE_NOMEM;
    else if (count < 0) rc = CODE_ARCHIVE_NOT_ZIP;
    else if ((zip_uint64_t)count > CODE_ARCHIVE_MAX_ENTRIES) rc = CODE_ARCHIVE_TOO_MANY_ENTRIES;
    else if (count > 0 && !(a->files = calloc((size_t)count, sizeof *a->files))) rc = CODE_ARCHIVE_NOMEM;
    size_t total = 0;
    for (zip_uint64_t i = 0; rc == CODE_ARCHIVE_OK && i < (zip_uint64_t)count; i++) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(z, i, 0, &st) < 0) {
            rc = CODE_ARCHIVE_CORRUPT;
            break;
        }
        rc = check_header(z, i, &st);
        if (rc == CODE_ARCHIVE_OK && st.name[strlen(st.name) - 1] == '/') continue; /* a directory */
        code_archive_file *f = &a->files[a->n];
        if (rc == CODE_ARCHIVE_OK) rc = read_entry(z, i, &st, total, (uint8_t **)&f->data, &f->len);
        if (rc == CODE_ARCHIVE_OK && !(f->path = strdup(st.name))) {
            free((uint8_t *)f->data);
            rc = CODE_ARCHIVE_NOMEM;
        }
        if (rc != CODE_ARCHIVE_OK) {
            blame(entry, entry_size, st.valid & ZIP_STAT_NAME ? st.name : "");
            break;
        }
        total += f->len;
        a->n++;
    }
    zip_discard(z); /* frees src too */
    if (a) a->bytes = total;
    if (rc == CODE_ARCHIVE_OK && a->n > 1) {
        if (sort_by_path(a->files, a->n) < 0) rc = CODE_ARCHIVE_NOMEM;
        for (size_t i = 1; rc == CODE_ARCHIVE_OK && i < a->n; i++)
            if (!strcmp(a->files[i - 1].path, a->files[i].path)) {
                blame(entry, entry_size, a->files[i].path);
                rc = CODE_ARCHIVE_INCONSISTENT;
                break;
            }
    }
    if (rc != CODE_ARCHIVE_OK) {
        code_archive_free(a);
        return rc;
    }
    *out = a;
    return CODE_ARCHIVE_OK;
}

/* Compares the first len bytes of a NUL-terminated path with key (len bytes). */
static int cmp_n(const char *key, size_t len, const char *path) {
    int c = strncmp(key, path, len);
    if (c) return c;
    return path[len] ? -1 : 0;
}

const code_archive_file *code_archive_find(const code_archive *a, const char *path, size_t len) {
    if (memchr(path, '\0', len)) return NULL;
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_n(path, len, a->files[mid].path);
        if (c == 0) return &a->files[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

int code_archive_is_dir(const code_archive *a, const char *path, size_t len) {
    if (memchr(path, '\0', len)) return 0;
    /* the first path >= "path/" must start with it */
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = a->files[mid].path;
        int c = strncmp(p, path, len);
        if (c == 0) c = p[len] == '\0' ? -1 : (unsigned char)p[len] < '/' ? -1 : (p[len] == '/' ? 0 : 1);
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < a->n && !strncmp(a->files[lo].path, path, len) && a->files[lo].path[len] == '/';
}

size_t code_archive_count(const code_archive *a) { return a->n; }

const code_archive_file *code_archive_at(const code_archive *a, size_t i) { return i < a->n ? &a->files[i] : NULL; }

size_t code_archive_bytes(const code_archive *a) { return a->bytes; }
