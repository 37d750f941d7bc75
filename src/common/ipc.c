/* ipc.c - frame encoding, decoding and blocking socket I/O for ipc.h. */
#include "common/ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int writer_reserve(ipc_writer *w, size_t extra) {
    if (w->failed) return -1;
    if (extra > IPC_MAX_FRAME || w->len + extra > 4u + IPC_MAX_FRAME) { w->failed = 1; return -1; }
    if (w->len + extra <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra) cap *= 2;
    uint8_t *p = realloc(w->data, cap);
    if (!p) { w->failed = 1; return -1; }
    w->data = p;
    w->cap = cap;
    return 0;
}

void ipc_writer_begin(ipc_writer *w, ipc_type type, uint64_t id) {
    w->len = 0;
    w->nfields = 0;
    w->failed = 0;
    if (writer_reserve(w, 4 + IPC_HEADER_LEN) < 0) return;
    memset(w->data, 0, 4 + IPC_HEADER_LEN);
    w->data[4] = IPC_VERSION;
    w->data[5] = (uint8_t)type;
    put_le64(w->data + 8, id);
    w->len = 4 + IPC_HEADER_LEN;
}

void ipc_put_bytes(ipc_writer *w, const void *bytes, size_t len) {
    if (w->nfields >= IPC_MAX_FIELDS) { w->failed = 1; return; }
    if (writer_reserve(w, 4 + len) < 0) return;
    put_le32(w->data + w->len, (uint32_t)len);
    if (len) memcpy(w->data + w->len + 4, bytes, len);
    w->len += 4 + len;
    w->nfields++;
}

void ipc_put_str(ipc_writer *w, const char *s) {
    ipc_put_bytes(w, s ? s : "", s ? strlen(s) : 0);
}

void ipc_put_u64(ipc_writer *w, uint64_t v) {
    uint8_t b[8];
    put_le64(b, v);
    ipc_put_bytes(w, b, sizeof b);
}

ipc_status ipc_writer_finish(ipc_writer *w) {
    if (w->failed || !w->data) return w->data ? IPC_ERR_TOO_LARGE : IPC_ERR_NOMEM;
    if (w->len - 4 > IPC_MAX_FRAME) return IPC_ERR_TOO_LARGE;
    put_le32(w->data, (uint32_t)(w->len - 4));
    w->data[6] = (uint8_t)(w->nfields & 0xff);
    w->data[7] = (uint8_t)(w->nfields >> 8);
    return IPC_OK;
}

void ipc_writer_free(ipc_writer *w) {
    free(w->data);
    memset(w, 0, sizeof *w);
}

ipc_status ipc_decode(const uint8_t *body, size_t len, ipc_msg *out) {
    memset(out, 0, sizeof *out);
    if (len < IPC_HEADER_LEN) return IPC_ERR_TRUNCATED;
    if (len > IPC_MAX_FRAME) return IPC_ERR_TOO_LARGE;
    if (body[0] != IPC_VERSION) return IPC_ERR_VERSION;
    out->type = body[1];
    out->nfields = (uint16_t)(body[2] | body[3] << 8);
    out->id = get_le64(body + 4);
    if (out->nfields > IPC_MAX_FIELDS) return IPC_ERR_FIELDS;
    size_t off = IPC_HEADER_LEN;
    for (unsigned i = 0; i < out->nfields; i++) {
        if (len - off < 4) return IPC_ERR_TRUNCATED;
        uint32_t flen = get_le32(body + off);
        off += 4;
        if (flen > len - off) return IPC_ERR_TRUNCATED;
        out->fields[i].ptr = body + off;
        out->fields[i].len = flen;
        off += flen;
    }
    if (off != len) return IPC_ERR_FIELDS;
    return IPC_OK;
}

/* send() with MSG_NOSIGNAL so a dead peer is an error, not a SIGPIPE. */
static ipc_status write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return IPC_ERR_IO;
        }
        p += k;
        n -= (size_t)k;
    }
    return IPC_OK;
}

/* Reads exactly n bytes. IPC_ERR_EOF only when nothing was read at all. */
static ipc_status read_all(int fd, uint8_t *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0) {
            if (errno == EINTR) continue;
            return IPC_ERR_IO;
        }
        if (k == 0) return got ? IPC_ERR_TRUNCATED : IPC_ERR_EOF;
        got += (size_t)k;
    }
    return IPC_OK;
}

ipc_status ipc_send(int fd, const ipc_writer *w) {
    if (w->failed || w->len < 4 + IPC_HEADER_LEN) return IPC_ERR_TOO_LARGE;
    return write_all(fd, w->data, w->len);
}

ipc_status ipc_try_send(int fd, const ipc_writer *w) {
    if (w->failed || w->len < 4 + IPC_HEADER_LEN) return IPC_ERR_TOO_LARGE;
    ssize_t k;
    do k = send(fd, w->data, w->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (k < 0 && errno == EINTR);
    if (k < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? IPC_ERR_AGAIN : IPC_ERR_IO;
    return write_all(fd, w->data + k, w->len - (size_t)k);
}

/* A frame's declared length: IPC_OK when it may be read. */
static ipc_status frame_len_check(uint32_t len) {
    if (len > IPC_MAX_FRAME) return IPC_ERR_TOO_LARGE;
    if (len < IPC_HEADER_LEN) return IPC_ERR_TRUNCATED;
    return IPC_OK;
}

/* The frame body of len bytes (checked), of which the first `have` bytes
 * are at `head` already: the rest is read from fd, then decoded into out,
 * which owns the buffer. */
static ipc_status frame_body(int fd, uint32_t len, const uint8_t *head, size_t have, ipc_msg *out) {
    uint8_t *buf = malloc(len);
    if (!buf) return IPC_ERR_NOMEM;
    if (have) memcpy(buf, head, have);
    ipc_status s = IPC_OK;
    if (have < len) {
        s = read_all(fd, buf + have, len - have);
        if (s == IPC_ERR_EOF) s = IPC_ERR_TRUNCATED;
    }
    if (s == IPC_OK) s = ipc_decode(buf, len, out);
    if (s != IPC_OK) {
        free(buf);
        memset(out, 0, sizeof *out);
        return s;
    }
    out->buf = buf;
    return IPC_OK;
}

ipc_status ipc_recv(int fd, ipc_msg *out) {
    uint8_t lenbuf[4];
    memset(out, 0, sizeof *out);
    ipc_status s = read_all(fd, lenbuf, 4);
    if (s != IPC_OK) return s;
    uint32_t len = get_le32(lenbuf);
    if ((s = frame_len_check(len)) != IPC_OK) return s;
    return frame_body(fd, len, NULL, 0, out);
}

void ipc_inbuf_init(ipc_inbuf *b, int fd) {
    b->fd = fd;
    b->start = b->end = 0;
}

int ipc_inbuf_pending(const ipc_inbuf *b) {
    return b->end > b->start;
}

int ipc_inbuf_ready(const ipc_inbuf *b) {
    size_t have = b->end - b->start;
    if (have < 4) return 0;
    uint32_t len = get_le32(b->data + b->start);
    /* a bad length is "ready" too: ipc_inbuf_recv reports it without reading */
    return frame_len_check(len) != IPC_OK || have - 4 >= len;
}

/* Reads whatever the channel has into the free end of the buffer (at least
 * one byte, blocking). IPC_ERR_EOF when the peer closed. */
static ipc_status inbuf_fill(ipc_inbuf *b) {
    if (b->start > 0) { /* keep the unread bytes at the front */
        memmove(b->data, b->data + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
    }
    for (;;) {
        ssize_t k = read(b->fd, b->data + b->end, sizeof b->data - b->end);
        if (k > 0) {
            b->end += (size_t)k;
            return IPC_OK;
        }
        if (k == 0) return IPC_ERR_EOF;
        if (errno != EINTR) return IPC_ERR_IO;
    }
}

ipc_status ipc_inbuf_recv(ipc_inbuf *b, ipc_msg *out) {
    memset(out, 0, sizeof *out);
    while (b->end - b->start < 4) {
        int between_frames = b->end == b->start;
        ipc_status s = inbuf_fill(b);
        if (s == IPC_ERR_EOF && !between_frames) return IPC_ERR_TRUNCATED;
        if (s != IPC_OK) return s;
    }
    uint32_t len = get_le32(b->data + b->start);
    ipc_status s = frame_len_check(len);
    if (s != IPC_OK) return s;
    b->start += 4;
    /* what is here already; a frame larger than that is read straight into its buffer */
    size_t got = b->end - b->start < len ? b->end - b->start : len;
    s = frame_body(b->fd, len, b->data + b->start, got, out);
    b->start += got;
    return s;
}

void ipc_msg_free(ipc_msg *m) {
    free(m->buf);
    memset(m, 0, sizeof *m);
}

int ipc_get_u64(const ipc_msg *m, unsigned idx, uint64_t *out) {
    if (idx >= m->nfields || m->fields[idx].len != 8) return -1;
    *out = get_le64(m->fields[idx].ptr);
    return 0;
}

char *ipc_get_str(const ipc_msg *m, unsigned idx) {
    if (idx >= m->nfields) return NULL;
    char *s = malloc((size_t)m->fields[idx].len + 1);
    if (!s) return NULL;
    if (m->fields[idx].len) memcpy(s, m->fields[idx].ptr, m->fields[idx].len);
    s[m->fields[idx].len] = '\0';
    return s;
}

const char *ipc_status_str(ipc_status s) {
    switch (s) {
    case IPC_OK: return "ok";
    case IPC_ERR_EOF: return "peer closed the channel";
    case IPC_ERR_IO: return "channel I/O error";
    case IPC_ERR_TRUNCATED: return "truncated frame";
    case IPC_ERR_TOO_LARGE: return "frame too large";
    case IPC_ERR_VERSION: return "unknown protocol version";
    case IPC_ERR_FIELDS: return "malformed field list";
    case IPC_ERR_NOMEM: return "out of memory";
    case IPC_ERR_AGAIN: return "channel busy";
    }
    return "unknown ipc status";
}
