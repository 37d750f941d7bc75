/* quote_proto.c - framing of the quoting channel; see quote_proto.h. */
#include "trusted/quote_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int quote_send_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int quote_recv_all(int fd, void *p, size_t n) {
    uint8_t *b = p;
    while (n) {
        ssize_t k = recv(fd, b, n, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = ECONNRESET;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int quote_request_encode(const char *engine, const uint8_t rd[EVIDENCE_REPORT_DATA_LEN],
                         uint8_t out[QUOTE_REQUEST_LEN]) {
    size_t n = strlen(engine);
    if (n > QUOTE_MAX_ENGINE) return -1;
    memset(out, 0, QUOTE_REQUEST_LEN);
    memcpy(out, QUOTE_MAGIC, 4);
    out[4] = (uint8_t)n;
    memcpy(out + 5, engine, n);
    memcpy(out + 5 + QUOTE_MAX_ENGINE, rd, EVIDENCE_REPORT_DATA_LEN);
    return 0;
}

int quote_request_decode(const uint8_t in[QUOTE_REQUEST_LEN], char engine[QUOTE_MAX_ENGINE + 1],
                         uint8_t rd[EVIDENCE_REPORT_DATA_LEN]) {
    size_t n = in[4];
    if (memcmp(in, QUOTE_MAGIC, 4) != 0 || n > QUOTE_MAX_ENGINE || memchr(in + 5, 0, n)) return -1;
    memcpy(engine, in + 5, n);
    engine[n] = 0;
    memcpy(rd, in + 5 + QUOTE_MAX_ENGINE, EVIDENCE_REPORT_DATA_LEN);
    return 0;
}

int quote_reply_send(int fd, uint8_t status, const void *body, size_t len) {
    if (len > QUOTE_MAX_REPLY) return -1;
    uint8_t head[5] = {status, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    return quote_send_all(fd, head, sizeof head) == 0 && quote_send_all(fd, body, len) == 0 ? 0 : -1;
}
