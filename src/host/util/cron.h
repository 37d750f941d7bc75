/* cron.h - cron expressions of the whisk.system/alarms `alarm` feed: a parser
 * (outside input: tenants write them) and the next firing time after a given
 * instant, in UTC. Pure, no I/O; unit-tested and fuzzed (fuzz_cron).
 *
 * Syntax, as OpenWhisk's alarms package accepts it: five fields (minute hour
 * day-of-month month day-of-week) or six with seconds first. A field is a
 * comma list of `*`, `N` or `N-M`, each optionally `/STEP`. Months may be
 * JAN..DEC, days of week SUN..SAT (any case); day of week 7 is Sunday too.
 * When both day fields are restricted a day matching either fires (Vixie
 * cron's rule). No Debian package offers a C cron parser (only Perl and
 * Ruby ones), hence this small one. */
#ifndef TFAAS_HOST_UTIL_CRON_H
#define TFAAS_HOST_UTIL_CRON_H

#include <stdint.h>

#define CRON_MAX_LEN 256 /* longer expressions are refused */

typedef struct {
    uint64_t second, minute; /* bit n: second/minute n */
    uint32_t hour;           /* bits 0..23 */
    uint32_t mday;           /* bits 1..31 */
    uint32_t month;          /* bits 1..12 */
    uint32_t wday;           /* bits 0..6, Sunday 0 */
    int mday_any, wday_any;  /* the field was `*` (or `*` with a step) */
} cron_expr;

typedef enum {
    CRON_OK = 0,
    CRON_EMPTY,        /* nothing but blanks */
    CRON_TOO_LONG,     /* over CRON_MAX_LEN */
    CRON_FIELD_COUNT,  /* not 5 or 6 fields */
    CRON_BAD_VALUE,    /* not a number or a known name */
    CRON_OUT_OF_RANGE, /* a value outside its field's range */
    CRON_BAD_RANGE,    /* N-M with N > M */
    CRON_BAD_STEP,     /* a step of 0, or larger than the field's range */
    CRON_NEVER,        /* parses, but no date matches (e.g. 30 February) */
} cron_result;

const char *cron_result_name(cron_result r);
/* Parses text (NUL-terminated). CRON_OK fills *out. */
cron_result cron_parse(const char *text, cron_expr *out);
/* The first instant strictly after after_ms (ms since the epoch, UTC) that
 * e matches, whole seconds, in *next_ms. CRON_NEVER when there is none
 * within the next 28 years (a 29 February on a Monday recurs within that). */
cron_result cron_next(const cron_expr *e, int64_t after_ms, int64_t *next_ms);

/* A date as the alarms feed's `date`, `startDate` and `stopDate` take it:
 * ISO 8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+HH:MM"/"-HH:MM"
 * (a date alone is midnight UTC). 0 and ms since the epoch in *ms, or -1. */
int cron_parse_date(const char *text, int64_t *ms);

#endif
