/* log_buffer.h - one invocation's console output in OpenWhisk's log format.
 *
 * Each line is "2026-11-24T16:09:00.123Z stdout: text" (or stderr); a message
 * containing newlines becomes several lines with the same prefix. Lines are
 * joined by '\n'. Once the text would exceed `max` bytes, one truncation line
 * is added and everything after it is dropped. */
#ifndef TFAAS_TRUSTED_LOG_BUFFER_H
#define TFAAS_TRUSTED_LOG_BUFFER_H

#include <stddef.h>

typedef struct {
    char *data;     /* malloc'd, NUL-terminated when non-NULL */
    size_t len, cap;
    size_t max;     /* byte limit of the kept text */
    int truncated;  /* the truncation line has been written */
} log_buffer;

/* Empties the buffer (keeping its memory) and sets a new limit. */
void log_buffer_reset(log_buffer *b, size_t max);
/* Appends `text` as one or more lines of the given stream. -1 when out of
 * memory (the text is then dropped), 0 otherwise, including when truncated. */
int log_buffer_write(log_buffer *b, int is_stderr, const char *text, size_t len);
/* Hands over the text (never NULL unless out of memory) and empties the buffer. */
char *log_buffer_take(log_buffer *b);
void log_buffer_free(log_buffer *b);

#endif
