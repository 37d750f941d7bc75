/* test_util_file.c - file_write_atomic: content and mode of a new file, a
 * replacement, a stale or planted temporary file, and failures that leave
 * the old content and no temporary file. */
#include "check.h"
#include "host/util/file.h"
#include "scratch.h"

#include <errno.h>
#include <stdio.h>
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

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
}

int main(void) {
    char *dir = scratch_dir("file");
    char path[1024], tmp[1024], elsewhere[1024], sub[1024], inner[1024], buf[64];
    snprintf(path, sizeof path, "%s", path_join(dir, "state"));
    snprintf(tmp, sizeof tmp, "%s", path_join(dir, "state.tmp"));
    snprintf(elsewhere, sizeof elsewhere, "%s", path_join(dir, "elsewhere"));
    snprintf(sub, sizeof sub, "%s", path_join(dir, "dir"));
    snprintf(inner, sizeof inner, "%s", path_join(dir, "dir/x"));

    CHECK(file_write_atomic(path, "one", 3, 0600) == 0);
    CHECK(read_all(path, buf, sizeof buf) == 3 && strcmp(buf, "one") == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(access(tmp, F_OK) != 0);

    /* A planted link at the temporary name is replaced, not followed. */
    touch(elsewhere);
    CHECK(symlink(elsewhere, tmp) == 0);
    CHECK(file_write_atomic(path, "two!", 4, 0600) == 0);
    CHECK(read_all(path, buf, sizeof buf) == 4 && strcmp(buf, "two!") == 0);
    CHECK(read_all(elsewhere, buf, sizeof buf) == 0);
    CHECK(access(tmp, F_OK) != 0);

    /* A rename that cannot happen (the path is a non-empty directory): -1,
     * the directory untouched, no temporary file left. */
    CHECK(mkdir(sub, 0700) == 0);
    touch(inner);
    errno = 0;
    CHECK(file_write_atomic(sub, "three", 5, 0600) == -1 && errno != 0);
    CHECK(access(path_join(dir, "dir.tmp"), F_OK) != 0 && access(inner, F_OK) == 0);

    /* No directory: -1 with errno. */
    CHECK(file_write_atomic(path_join(dir, "no/such/file"), "x", 1, 0600) == -1 && errno == ENOENT);

    scratch_remove(dir);
    return CHECK_DONE();
}
