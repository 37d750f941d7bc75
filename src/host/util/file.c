/* file.c - the state directory's checks and small files; see file.h. */
#include "host/util/file.h"

#include "common/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* A fresh file, never one (or a link) left at tmp by someone else:
     * O_EXCL fails on any name that exists, a link included. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += (size_t)n;
    }
    int ok = off == len && fsync(fd) == 0;
    if (close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

uint8_t *file_read(const char *path, size_t max, size_t *len) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0) {
        /* errno from fstat */
    } else if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
    } else if ((uint64_t)st.st_size > max) {
        errno = EFBIG;
    } else if ((buf = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        if (got != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
            errno = EIO;
        } else {
            buf[got] = 0;
            *len = got;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    return buf;
}

int file_check_private_dir(const char *dir, char **err) {
    struct stat st;
    /* stat, not lstat: the state directory itself may be a link the owner
     * made (~/.tfaas -> /data/tfaas); what counts is the directory reached. */
    if (stat(dir, &st) != 0) return errmsg(err, "cannot reach state directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return errmsg(err, "state directory %s is not a directory", dir);
    uid_t me = geteuid();
    if (st.st_uid != me)
        return errmsg(err, "state directory %s belongs to uid %u, not to this user (uid %u): its owner could "
                      "replace the platform's keys and data; use a directory of your own",
                      dir, (unsigned)st.st_uid, (unsigned)me);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return errmsg(err, "state directory %s is writable by %s (mode %03o): anyone who can write to it could "
                      "plant links or replace the platform's keys; run `chmod go-w %s` (or use mode 700)",
                      dir, (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777), dir);
    return 0;
}
