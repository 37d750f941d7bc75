/* test_util_file.c - file_write_atomic: content and mode of a new file, a
 * replacement, a stale or planted temporary file or link, and failures that
 * leave the old content and no temporary file; file_read, which never
 * follows a link; file_check_private_dir on the modes and owners it refuses. */
#include "check.h"
#include "host/util/file.h"
#include "scratch.h"

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

    /* A link planted at the path itself is replaced by the file, its target untouched. */
    char link[1024];
    snprintf(link, sizeof link, "%s", path_join(dir, "linked"));
    CHECK(symlink(elsewhere, link) == 0);
    CHECK(file_write_atomic(link, "four", 4, 0600) == 0);
    struct stat lst;
    CHECK(lstat(link, &lst) == 0 && S_ISREG(lst.st_mode));
    CHECK(read_all(elsewhere, buf, sizeof buf) == 0);

    /* file_read: the content, NUL-terminated; never through a link. */
    size_t len = 0;
    uint8_t *got = file_read(path, 64, &len);
    CHECK(got && len == 4 && strcmp((char *)got, "two!") == 0);
    free(got);
    CHECK(symlink(path, tmp) == 0);
    errno = 0;
    CHECK(file_read(tmp, 64, &len) == NULL && errno == ELOOP);
    unlink(tmp);
    CHECK(file_read(path_join(dir, "absent"), 64, &len) == NULL && errno == ENOENT);
    CHECK(file_read(path, 3, &len) == NULL && errno == EFBIG);
    CHECK(file_read(sub, 64, &len) == NULL && errno == EINVAL); /* a directory */

    /* file_check_private_dir: only the owner may write. */
    char *err = NULL;
    char priv[1024];
    snprintf(priv, sizeof priv, "%s", path_join(dir, "private"));
    CHECK(mkdir(priv, 0700) == 0);
    CHECK(file_check_private_dir(priv, &err) == 0 && err == NULL);
    CHECK(chmod(priv, 0755) == 0 && file_check_private_dir(priv, &err) == 0); /* readable is fine */
    CHECK(chmod(priv, 0770) == 0 && file_check_private_dir(priv, &err) == -1);
    CHECK(err && strstr(err, "writable by its group") && strstr(err, "chmod go-w"));
    free(err);
    err = NULL;
    CHECK(chmod(priv, 01777) == 0 && file_check_private_dir(priv, &err) == -1);
    CHECK(err && strstr(err, "writable by others") && strstr(err, priv));
    free(err);
    err = NULL;
    CHECK(chmod(priv, 0700) == 0);
    CHECK(file_check_private_dir(path, &err) == -1 && err && strstr(err, "not a directory"));
    free(err);
    err = NULL;
    CHECK(file_check_private_dir(path_join(dir, "absent"), &err) == -1 && err && strstr(err, "No such file"));
    free(err);
    err = NULL;
    if (geteuid() == 0) { /* another user's directory (only root can make one) */
        CHECK(chown(priv, 65534, 65534) == 0);
        CHECK(file_check_private_dir(priv, &err) == -1 && err && strstr(err, "belongs to uid 65534"));
        free(err);
        err = NULL;
    }

    scratch_remove(dir);
    return CHECK_DONE();
}
