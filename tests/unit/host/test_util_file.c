/* test_util_file.c - file_write_atomic: content and mode of a new file, a
 * replacement, a stale or planted temporary file, and failures that leave
 * the old content and no temporary file. */
#include "check.h"
#include "host/util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

int main(void) {
    const char *base = getenv("TMPDIR");
    char dir[1024], path[1100], tmp[1200], link_target[1200], buf[64];
    snprintf(dir, sizeof dir, "%s/tfaas-file-XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/state", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(link_target, sizeof link_target, "%s/elsewhere", dir);

    CHECK(file_write_atomic(path, "one", 3, 0600) == 0);
    CHECK(read_all(path, buf, sizeof buf) == 3 && strcmp(buf, "one") == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(access(tmp, F_OK) != 0);

    /* A planted link at the temporary name is replaced, not followed. */
    FILE *f = fopen(link_target, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    CHECK(symlink(link_target, tmp) == 0);
    CHECK(file_write_atomic(path, "two!", 4, 0600) == 0);
    CHECK(read_all(path, buf, sizeof buf) == 4 && strcmp(buf, "two!") == 0);
    CHECK(read_all(link_target, buf, sizeof buf) == 0);
    CHECK(access(tmp, F_OK) != 0);

    /* A rename that cannot happen (path is a non-empty directory): -1, the
     * directory untouched, no temporary file left. */
    char sub[1100], inner[1200];
    snprintf(sub, sizeof sub, "%s/dir", dir);
    snprintf(inner, sizeof inner, "%s/x", sub);
    CHECK(mkdir(sub, 0700) == 0);
    f = fopen(inner, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    errno = 0;
    CHECK(file_write_atomic(sub, "three", 5, 0600) == -1 && errno != 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    CHECK(access(tmp, F_OK) != 0 && access(inner, F_OK) == 0);

    /* No directory: -1 with errno. */
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/no/such/file", dir);
    CHECK(file_write_atomic(missing, "x", 1, 0600) == -1 && errno == ENOENT);

    unlink(inner);
    rmdir(sub);
    unlink(link_target);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    return CHECK_DONE();
}
