/* log_buffer.c - OpenWhisk-format log lines with a byte limit (log_buffer.h). */
#include "trusted/log_buffer.h"

#include "common/bytebuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STAMP_LEN 24 /* "2026-11-24T16:09:00.123Z" */

void log_buffer_reset(log_buffer *b, size_t max) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
    b->max = max;
    b->truncated = 0;
}

static int reserve(log_buffer *b, size_t extra) { return bytebuf_reserve(&b->data, &b->cap, b->len, extra); }

/* Appends one complete line (with its '\n' separator when not the first). */
static int append_line(log_buffer *b, const char *prefix, size_t plen, const char *text, size_t tlen) {
    size_t sep = b->len ? 1 : 0;
    if (reserve(b, sep + plen + tlen) < 0) return -1;
    char *p = b->data + b->len;
    if (sep) *p++ = '\n';
    memcpy(p, prefix, plen);
    memcpy(p + plen, text, tlen);
    b->len += sep + plen + tlen;
    b->data[b->len] = '\0';
    return 0;
}

/* Writes the UTC timestamp; out must hold STAMP_LEN + 1 bytes. */
static void stamp(char *out) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(ts.tv_nsec / 1000000) % 1000u);
    memcpy(out, tmp, STAMP_LEN);
    out[STAMP_LEN] = '\0';
}

int log_buffer_write(log_buffer *b, int is_stderr, const char *text, size_t len) {
    if (b->truncated) return 0;
    char prefix[STAMP_LEN + 16];
    stamp(prefix);
    int plen = snprintf(prefix + STAMP_LEN, sizeof prefix - STAMP_LEN, " %s: ",
                        is_stderr ? "stderr" : "stdout");
    size_t prefix_len = STAMP_LEN + (size_t)plen;
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t need = (b->len ? 1 : 0) + prefix_len + (end - start);
        if (need > b->max || b->len + need > b->max) {
            char msg[160];
            int mlen = snprintf(msg, sizeof msg,
                "Logs were truncated because the total bytes size exceeds the limit of %zu bytes.", b->max);
            /* The truncation line is written on stderr, as OpenWhisk does. */
            memcpy(prefix + STAMP_LEN, " stderr: ", 9);
            b->truncated = 1;
            return append_line(b, prefix, STAMP_LEN + 9, msg, (size_t)mlen);
        }
        if (append_line(b, prefix, prefix_len, text + start, end - start) < 0) return -1;
        if (!nl) return 0;
        start = end + 1;
    }
}

char *log_buffer_take(log_buffer *b) {
    char *out = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = 0;
    return out;
}

void log_buffer_free(log_buffer *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
