/* fuzz_code_archive.c - libFuzzer target for a zip action's archive
 * (src/common/code_archive.c over libzip): tenants' bytes, unzipped by the
 * gateway at create and by the enclave before anything runs.
 *
 * Invariants: an archive that opens has at most CODE_ARCHIVE_MAX_ENTRIES
 * files, each with a path that passes the path rules (relative, no empty,
 * '.' or '..' segment, no backslash), data NUL-terminated and within the
 * per-entry cap, CODE_ARCHIVE_MAX_TOTAL_BYTES in all, and each is found
 * again by its path; a refusal names a status with words. */
#include "fuzz.h"

#include "common/code_archive.h"

/* The path rules, restated independently of code_archive.c. */
static int path_ok(const char *p) {
    if (!*p || *p == '/' || strchr(p, '\\')) return 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        if (!e) break;
        s = e + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    code_archive *a = NULL;
    char entry[CODE_ARCHIVE_MAX_PATH + 1];
    code_archive_status st = code_archive_open(data, size, &a, entry, sizeof entry);
    FUZZ_CHECK(strcmp(code_archive_status_name(st), "unknown") != 0);
    if (st != CODE_ARCHIVE_OK) {
        FUZZ_CHECK(a == NULL);
        return 0;
    }
    FUZZ_CHECK(a != NULL && code_archive_count(a) <= CODE_ARCHIVE_MAX_ENTRIES);
    FUZZ_CHECK(code_archive_bytes(a) <= CODE_ARCHIVE_MAX_TOTAL_BYTES);
    size_t total = 0;
    for (size_t i = 0; i < code_archive_count(a); i++) {
        const code_archive_file *f = code_archive_at(a, i);
        FUZZ_CHECK(f && path_ok(f->path) && strlen(f->path) <= CODE_ARCHIVE_MAX_PATH);
        FUZZ_CHECK(f->len <= CODE_ARCHIVE_MAX_ENTRY_BYTES && f->data[f->len] == 0);
        FUZZ_CHECK(code_archive_find(a, f->path, strlen(f->path)) == f);
        total += f->len;
    }
    FUZZ_CHECK(total == code_archive_bytes(a));
    code_archive_free(a);
    return 0;
}
