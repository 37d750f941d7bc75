/* cron.c - cron expression parser and next-time search; see cron.h. */
#include "host/util/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *cron_result_name(cron_result r) {
    switch (r) {
    case CRON_OK: return "ok";
    case CRON_EMPTY: return "the expression is empty";
    case CRON_TOO_LONG: return "the expression is too long";
    case CRON_FIELD_COUNT: return "the expression must have 5 fields (minute hour day month weekday) or 6 (seconds first)";
    case CRON_BAD_VALUE: return "a field holds something that is not a number or a month or weekday name";
    case CRON_OUT_OF_RANGE: return "a value is outside its field's range";
    case CRON_BAD_RANGE: return "a range starts after its end";
    case CRON_BAD_STEP: return "a step is 0 or larger than its field's range";
    case CRON_NEVER: return "the expression matches no date";
    }
    return "unknown";
}

typedef struct {
    int min, max;
    const char *const *names; /* names[i] is value min + i; NULL for none */
} field_spec;

static const char *const MONTHS[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const WDAYS[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

enum { F_SEC, F_MIN, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_COUNT };
static const field_spec SPECS[F_COUNT] = {
    [F_SEC] = {0, 59, NULL},   [F_MIN] = {0, 59, NULL},       [F_HOUR] = {0, 23, NULL},
    [F_MDAY] = {1, 31, NULL},  [F_MONTH] = {1, 12, MONTHS},  [F_WDAY] = {0, 7, WDAYS}, /* 7: Sunday again */
};

/* A value at *p (advanced past it): a number of at most 3 digits, or a name. */
static cron_result value(const char **p, const field_spec *f, int *out) {
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0, n = 0;
        while (isdigit((unsigned char)*s)) {
            if (++n > 3) return CRON_OUT_OF_RANGE;
            v = v * 10 + (*s++ - '0');
        }
        if (v < f->min || v > f->max) return CRON_OUT_OF_RANGE;
        *p = s;
        *out = v;
        return CRON_OK;
    }
    for (int i = 0; f->names && f->names[i]; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *p = s + 3;
            *out = f->min + i;
            return CRON_OK;
        }
    }
    return CRON_BAD_VALUE;
}

/* One field, [start, end) of the text, into a bit set. *any: it was `*`. */
static cron_result field(const char *start, const char *end, const field_spec *f, uint64_t *bits, int *any) {
    *bits = 0;
    *any = 0;
    const char *p = start;
    while (p < end) {
        int lo, hi, step = 1, star = *p == '*';
        cron_result r;
        if (star) {
            lo = f->min;
            hi = f->max;
            p++;
            *any = 1;
        } else {
            if ((r = value(&p, f, &lo)) != CRON_OK) return r;
            hi = lo;
            if (p < end && *p == '-') {
                p++;
                if ((r = value(&p, f, &hi)) != CRON_OK) return r;
                if (hi < lo) return CRON_BAD_RANGE;
            }
        }
        if (p < end && *p == '/') {
            p++;
            if (!isdigit((unsigned char)*p)) return CRON_BAD_STEP;
            step = 0;
            for (int n = 0; isdigit((unsigned char)*p); n++, p++) {
                if (n >= 3) return CRON_BAD_STEP;
                step = step * 10 + (*p - '0');
            }
            if (step == 0 || step > f->max - f->min + 1) return CRON_BAD_STEP;
            if (lo == hi && !star) hi = f->max; /* "N/S": from N to the end, as cron does */
        }
        for (int v = lo; v <= hi; v += step) *bits |= 1ull << v;
        if (p < end) {
            if (*p != ',' || p + 1 == end) return CRON_BAD_VALUE;
            p++;
        }
    }
    return p == start ? CRON_BAD_VALUE : CRON_OK;
}

cron_result cron_parse(const char *text, cron_expr *out) {
    memset(out, 0, sizeof *out);
    if (!text) return CRON_EMPTY;
    size_t len = strnlen(text, CRON_MAX_LEN + 1);
    if (len > CRON_MAX_LEN) return CRON_TOO_LONG;
    const char *fs[F_COUNT], *fe[F_COUNT];
    int n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\t') { p++; continue; }
        if (n == F_COUNT) return CRON_FIELD_COUNT;
        fs[n] = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        fe[n++] = p;
    }
    if (n == 0) return CRON_EMPTY;
    if (n != 5 && n != 6) return CRON_FIELD_COUNT;
    int first = n == 6 ? F_SEC : F_MIN; /* five fields: seconds are 0 */
    uint64_t bits[F_COUNT] = {[F_SEC] = 1};
    int any[F_COUNT] = {0};
    for (int i = first; i < F_COUNT; i++) {
        cron_result r = field(fs[i - first], fe[i - first], &SPECS[i], &bits[i], &any[i]);
        if (r != CRON_OK) return r;
    }
    out->second = bits[F_SEC];
    out->minute = bits[F_MIN];
    out->hour = (uint32_t)bits[F_HOUR];
    out->mday = (uint32_t)bits[F_MDAY];
    out->month = (uint32_t)bits[F_MONTH];
    out->wday = (uint32_t)((bits[F_WDAY] | (bits[F_WDAY] >> 7)) & 0x7f); /* 7 is Sunday */
    out->mday_any = any[F_MDAY];
    out->wday_any = any[F_WDAY];
    int64_t next;
    return cron_next(out, 0, &next) == CRON_OK ? CRON_OK : CRON_NEVER;
}

/* Days since 1970-01-01 <-> civil date (proleptic Gregorian), after
 * Howard Hinnant's well-known algorithms. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int day_matches(const cron_expr *e, int64_t day) {
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    if (!(e->month >> m & 1)) return 0;
    unsigned wd = (unsigned)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int md = (int)(e->mday >> d & 1), w = (int)(e->wday >> wd & 1);
    if (e->mday_any || e->wday_any) return md && w;
    return md || w;
}

/* The first second of the day at or after second-of-day `from` that e's
 * time fields match; -1 when none. */
static int64_t first_time(const cron_expr *e, int64_t from) {
    for (int h = (int)(from / 3600); h < 24; h++) {
        if (!(e->hour >> h & 1)) continue;
        int m0 = h == from / 3600 ? (int)(from % 3600 / 60) : 0;
        for (int m = m0; m < 60; m++) {
            if (!(e->minute >> m & 1)) continue;
            int s0 = h == from / 3600 && m == from % 3600 / 60 ? (int)(from % 60) : 0;
            for (int s = s0; s < 60; s++)
                if (e->second >> s & 1) return h * 3600 + m * 60 + s;
        }
    }
    return -1;
}

#define CRON_SEARCH_DAYS (28 * 366)

cron_result cron_next(const cron_expr *e, int64_t after_ms, int64_t *next_ms) {
    int64_t t = (after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000)) + 1; /* the next whole second */
    int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t from = t - day * 86400;
    for (int i = 0; i < CRON_SEARCH_DAYS; i++, day++, from = 0) {
        if (!day_matches(e, day)) continue;
        int64_t s = first_time(e, from);
        if (s >= 0) {
            *next_ms = (day * 86400 + s) * 1000;
            return CRON_OK;
        }
    }
    return CRON_NEVER;
}

/* Exactly n digits at *p (advanced): their value, or -1. */
static int digits(const char **p, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

int cron_parse_date(const char *text, int64_t *ms) {
    if (!text || strnlen(text, 64) >= 64) return -1;
    const char *p = text;
    int y = digits(&p, 4), mo, d, h = 0, mi = 0, s = 0, frac = 0, off = 0;
    if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' || (d = digits(&p, 2)) < 1)
        return -1;
    static const int MDAYS[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > MDAYS[mo - 1] || (mo == 2 && d == 29 && !leap)) return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59) return -1;
        if (*p == ':') {
            p++;
            if ((s = digits(&p, 2)) < 0 || s > 59) return -1; /* no leap seconds */
            if (*p == '.') {
                p++;
                int n = 0;
                for (; isdigit((unsigned char)*p); p++, n++)
                    if (n < 3) frac = frac * 10 + (*p - '0');
                if (n == 0) return -1;
                for (; n < 3; n++) frac *= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 || om > 59) return -1;
            off = sign * (oh * 60 + om);
        } else {
            return -1; /* a time without its zone is ambiguous */
        }
    }
    if (*p) return -1;
    *ms = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - off * 60) * 1000) + frac;
    return 0;
}
