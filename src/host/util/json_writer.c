/* json_writer.c - see json_writer.h. */
#include "host/util/json_writer.h"

#include "common/bytebuf.h"
#include "common/json_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static char *room(json_writer *w, size_t n) {
    if (w->oom || bytebuf_reserve(&w->data, &w->cap, w->len, n) < 0) {
        w->oom = 1;
        return NULL;
    }
    return w->data + w->len;
}

void jw_raw(json_writer *w, const char *s, size_t n) {
    char *d = room(w, n);
    if (!d) return;
    memcpy(d, s, n);
    w->len += n;
    w->data[w->len] = '\0';
}

void jw_lit(json_writer *w, const char *s) { jw_raw(w, s, strlen(s)); }

void jw_escaped(json_writer *w, const char *s, size_t n) {
    char *d = room(w, JSON_TEXT_ESCAPED_MAX(n));
    if (d) w->len += json_text_escape(d, s, n); /* NUL-terminates */
}

void jw_stringn(json_writer *w, const char *s, size_t n) {
    jw_raw(w, "\"", 1);
    jw_escaped(w, s, n);
    jw_raw(w, "\"", 1);
}

void jw_string(json_writer *w, const char *s) { jw_stringn(w, s, strlen(s)); }

void jw_int(json_writer *w, int64_t v) {
    char buf[24];
    jw_raw(w, buf, (size_t)snprintf(buf, sizeof buf, "%" PRId64, v));
}
