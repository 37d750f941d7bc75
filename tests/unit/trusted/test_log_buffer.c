/* test_log_buffer.c - OpenWhisk log lines: timestamp and stream prefix,
 * multi-line messages, the byte limit and its single truncation line. */
#include "check.h"
#include "trusted/log_buffer.h"

#include <stdlib.h>
#include <string.h>

/* "2026-11-24T16:09:00.123Z stdout: " is 33 bytes. */
static int line_ok(const char *line, size_t len, const char *stream, const char *text) {
    char want[128];
    snprintf(want, sizeof want, " %s: %s", stream, text);
    return len == 24 + strlen(want) && line[4] == '-' && line[10] == 'T' && line[23] == 'Z' &&
           memcmp(line + 24, want, strlen(want)) == 0;
}

static void test_lines(void) {
    log_buffer b = {0};
    log_buffer_reset(&b, 1 << 20);
    CHECK(log_buffer_write(&b, 0, "hello", 5) == 0);
    CHECK(log_buffer_write(&b, 1, "two\nlines", 9) == 0);
    CHECK(log_buffer_write(&b, 0, "", 0) == 0); /* an empty message is an empty line */
    char *text = log_buffer_take(&b);
    CHECK(text != NULL);
    const char *l1 = text, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1, *l4 = strchr(l3, '\n') + 1;
    CHECK(line_ok(l1, (size_t)(l2 - l1 - 1), "stdout", "hello"));
    CHECK(line_ok(l2, (size_t)(l3 - l2 - 1), "stderr", "two"));
    CHECK(line_ok(l3, (size_t)(l4 - l3 - 1), "stderr", "lines"));
    CHECK(line_ok(l4, strlen(l4), "stdout", ""));
    free(text);
    /* after take the buffer is empty and reusable */
    text = log_buffer_take(&b);
    CHECK_STR(text, "");
    free(text);
    log_buffer_free(&b);
}

static void test_limit(void) {
    log_buffer b = {0};
    log_buffer_reset(&b, 100);
    CHECK(log_buffer_write(&b, 0, "0123456789", 10) == 0); /* 43 bytes */
    CHECK(log_buffer_write(&b, 0, "0123456789", 10) == 0); /* 87 bytes */
    CHECK(b.len <= 100 && !b.truncated);
    CHECK(log_buffer_write(&b, 0, "0123456789", 10) == 0); /* would pass 100 */
    CHECK(b.truncated);
    size_t len = b.len;
    CHECK(log_buffer_write(&b, 0, "more", 4) == 0);         /* dropped silently */
    CHECK(b.len == len);
    char *text = log_buffer_take(&b);
    const char *last = strrchr(text, '\n') + 1;
    CHECK(strstr(last, " stderr: Logs were truncated because the total bytes size exceeds the limit of 100 bytes.") != NULL);
    CHECK(strstr(text, "more") == NULL);
    free(text);

    /* a limit of 0 keeps only the truncation line; reset clears the flag */
    log_buffer_reset(&b, 0);
    CHECK(log_buffer_write(&b, 0, "x", 1) == 0);
    CHECK(b.truncated && strstr(b.data, "limit of 0 bytes") != NULL);
    log_buffer_reset(&b, 1000);
    CHECK(!b.truncated && b.len == 0);
    CHECK(log_buffer_write(&b, 0, "after", 5) == 0);
    CHECK(strstr(b.data, "stdout: after") != NULL);
    log_buffer_free(&b);
}

int main(void) {
    test_lines();
    test_limit();
    return CHECK_DONE();
}
