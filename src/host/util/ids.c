/* ids.c - random identifiers and secrets; see ids.h. */
#include "host/util/ids.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int os_random(uint8_t *p, size_t n) {
    while (n) {
        ssize_t k = getrandom(p, n, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Each thread draws from the kernel 256 bytes at a time: an activation id
 * takes 10, and a system call per id was 2% of a hello's server CPU. Bytes
 * are wiped as they are handed out, so none is given twice or lingers (and
 * the server forks only to exec, so no child inherits a pool to reuse). */
#define POOL_BYTES 256u
static _Thread_local struct {
    uint8_t bytes[POOL_BYTES];
    size_t left; /* the unused ones are the last `left` */
} pool;

int ids_random(void *buf, size_t n) {
    uint8_t *p = buf;
    if (n > POOL_BYTES / 4) return os_random(p, n);
    if (pool.left < n) {
        if (os_random(pool.bytes, POOL_BYTES) < 0) return -1;
        pool.left = POOL_BYTES;
    }
    uint8_t *from = pool.bytes + POOL_BYTES - pool.left;
    memcpy(p, from, n);
    memset(from, 0, n);
    pool.left -= n;
    return 0;
}

static const char HEX[] = "0123456789abcdef";

int ids_hex(char *out, size_t nbytes) {
    uint8_t raw[64];
    if (nbytes > sizeof raw || ids_random(raw, nbytes) < 0) return -1;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = HEX[raw[i] >> 4];
        out[2 * i + 1] = HEX[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

int ids_activation(char out[33]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (int i = 11; i >= 0; i--, ms >>= 4) out[i] = HEX[ms & 15];
    return ids_hex(out + 12, 10);
}

int ids_uuid(char out[37]) {
    uint8_t b[16];
    if (ids_random(b, sizeof b) < 0) return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = HEX[b[i] >> 4];
        *p++ = HEX[b[i] & 15];
    }
    *p = '\0';
    return 0;
}

int ids_secret(char *out, size_t len) {
    static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < len) {
        uint8_t b[64];
        if (ids_random(b, sizeof b) < 0) return -1;
        for (size_t j = 0; j < sizeof b && i < len; j++)
            if (b[j] < 248) out[i++] = ALPHABET[b[j] % 62]; /* 248 = 4*62: unbiased */
    }
    out[len] = '\0';
    return 0;
}
