/* scratch.h - scratch directories for the C unit tests: a fresh directory
 * under $TMPDIR (or /tmp), paths inside it, and rm -rf at the end. Only libc,
 * so tests of any layer can include it. */
#ifndef TFAAS_TESTS_SCRATCH_H
#define TFAAS_TESTS_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int scratch_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Makes a fresh directory under $TMPDIR; the returned path is malloc'd. */
static inline char *scratch_dir(const char *tag) {
    const char *tmp = getenv("TMPDIR");
    char buf[512];
    snprintf(buf, sizeof buf, "%s/tfaas-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(buf);
}

/* rm -rf, then frees the path. */
static inline void scratch_remove(char *dir) {
    if (!dir) return;
    nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* "dir/sub" into a static buffer (tests are single-threaded here). */
static inline const char *path_join(const char *dir, const char *sub) {
    static char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s/%s", dir, sub);
    if (n < 0 || (size_t)n >= sizeof buf) {
        fprintf(stderr, "path too long: %s/%s\n", dir, sub);
        exit(2);
    }
    return buf;
}

#endif
