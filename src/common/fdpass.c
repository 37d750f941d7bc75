/* fdpass.c - file descriptors over AF_UNIX sockets; see fdpass.h. */
#include "common/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

typedef union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
} fd_cmsg;

int fdpass_send(int sock, int fd) {
    char b = 'f';
    fd_cmsg c;
    memset(&c, 0, sizeof c);
    struct iovec iov = {&b, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    ssize_t n;
    do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

int fdpass_recv(int sock, int *fd) {
    char b;
    fd_cmsg c;
    struct iovec iov = {&b, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    ssize_t n;
    do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    *fd = -1;
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(fd, CMSG_DATA(h), sizeof(int));
    return 0;
}
