/* test_util_cron.c - the alarms feed's cron parser and next-time search:
 * the syntax it accepts, every refusal with its result, hostile input (long,
 * many fields, huge numbers, steps of 0), next times across month, year and
 * leap-day boundaries, and the ISO 8601 dates of once/startDate/stopDate. */
#include "check.h"
#include "host/util/cron.h"

#include <stdint.h>
#include <string.h>

/* 2026-12-07T10:20:30Z in ms (a Monday). */
#define T0 1796638830000LL

static int64_t next_after(const char *expr, int64_t after) {
    cron_expr e;
    int64_t n = -1;
    if (cron_parse(expr, &e) != CRON_OK || cron_next(&e, after, &n) != CRON_OK) return -1;
    return n;
}

static int64_t date(const char *s) {
    int64_t ms = -1;
    return cron_parse_date(s, &ms) == 0 ? ms : -1;
}

static void test_dates(void) {
    CHECK(date("2026-12-07T10:20:30Z") == T0);
    CHECK(date("2026-12-07T10:20:30.5Z") == T0 + 500);
    CHECK(date("2026-12-07T11:20:30+01:00") == T0);
    CHECK(date("2026-12-07T10:20Z") == T0 - 30000);
    CHECK(date("1970-01-01") == 0);
    CHECK(date("2024-02-29T00:00:00Z") > 0);
    CHECK(date("2023-02-29T00:00:00Z") == -1); /* not a leap year */
    CHECK(date("2026-13-01T00:00:00Z") == -1);
    CHECK(date("2026-12-07T10:20:30") == -1);  /* no zone */
    CHECK(date("2026-12-07T24:00:00Z") == -1);
    CHECK(date("2026-12-07T10:20:30Zjunk") == -1);
    CHECK(date("") == -1);
    CHECK(date("99999-01-01") == -1);
}

static void test_refusals(void) {
    cron_expr e;
    CHECK(cron_parse("", &e) == CRON_EMPTY);
    CHECK(cron_parse("   ", &e) == CRON_EMPTY);
    CHECK(cron_parse(NULL, &e) == CRON_EMPTY);
    CHECK(cron_parse("* * * *", &e) == CRON_FIELD_COUNT);
    CHECK(cron_parse("* * * * * * *", &e) == CRON_FIELD_COUNT);
    CHECK(cron_parse("60 * * * *", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("* 24 * * *", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("* * 0 * *", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("* * * 13 *", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("* * * * 8", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("99999999999999999999 * * * *", &e) == CRON_OUT_OF_RANGE);
    CHECK(cron_parse("5-1 * * * *", &e) == CRON_BAD_RANGE);
    CHECK(cron_parse("*/0 * * * *", &e) == CRON_BAD_STEP);
    CHECK(cron_parse("*/61 * * * *", &e) == CRON_BAD_STEP);
    CHECK(cron_parse("*/ * * * *", &e) == CRON_BAD_STEP);
    CHECK(cron_parse("*/9999 * * * *", &e) == CRON_BAD_STEP);
    CHECK(cron_parse("a * * * *", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse("1, * * * *", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse(",1 * * * *", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse("1-2-3 * * * *", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse("* * * janx *", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse("* * * * mon-", &e) == CRON_BAD_VALUE);
    CHECK(cron_parse("0 0 30 2 *", &e) == CRON_NEVER);
    CHECK(cron_parse("0 0 31 4,6,9,11 *", &e) == CRON_NEVER);
    char longer[CRON_MAX_LEN + 10];
    memset(longer, '*', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    CHECK(cron_parse(longer, &e) == CRON_TOO_LONG);
    for (int r = CRON_OK; r <= CRON_NEVER; r++) CHECK(strlen(cron_result_name((cron_result)r)) > 0);
}

static void test_next(void) {
    CHECK(next_after("* * * * *", T0) == T0 + 30000);            /* 10:21:00 */
    CHECK(next_after("* * * * * *", T0) == T0 + 1000);           /* every second */
    CHECK(next_after("*/8 * * * * *", T0) == T0 + 2000);         /* :32 */
    CHECK(next_after("0 0 * * *", T0) == date("2026-12-08T00:00:00Z"));
    CHECK(next_after("30 10 * * *", T0) == date("2026-12-07T10:30:00Z"));
    CHECK(next_after("0 12 1 jan *", T0) == date("2027-01-01T12:00:00Z"));
    CHECK(next_after("0 0 29 2 *", T0) == date("2028-02-29T00:00:00Z"));
    CHECK(next_after("0 9 * * MON-FRI", date("2026-12-11T10:00:00Z")) == date("2026-12-14T09:00:00Z")); /* Fri -> Mon */
    CHECK(next_after("0 0 * * 7", T0) == date("2026-12-13T00:00:00Z"));   /* Sunday as 7 */
    CHECK(next_after("0 0 * * 0", T0) == date("2026-12-13T00:00:00Z"));
    /* both day fields restricted: either matches (the 15th, or a Sunday) */
    CHECK(next_after("0 0 15 * sun", T0) == date("2026-12-13T00:00:00Z"));
    CHECK(next_after("0 0 15 * *", T0) == date("2026-12-15T00:00:00Z"));
    CHECK(next_after("5/20 * * * *", T0) == date("2026-12-07T10:25:00Z"));
    CHECK(next_after("1-3,50 * * * *", T0) == date("2026-12-07T10:50:00Z"));
    CHECK(next_after("*/59,25/10 * * * *", date("2026-12-07T10:26:00Z")) == date("2026-12-07T10:35:00Z")); /* N/S after a star */
    CHECK(next_after("59 23 31 12 *", date("2026-12-31T23:59:00Z")) == date("2027-12-31T23:59:00Z"));
    /* strictly after: a time that matches is not its own next */
    CHECK(next_after("* * * * *", date("2026-12-07T10:21:00Z")) == date("2026-12-07T10:22:00Z"));
    CHECK(next_after("* * * * *", date("2026-12-07T10:21:00.001Z")) == date("2026-12-07T10:22:00Z"));
}

int main(void) {
    test_dates();
    test_refusals();
    test_next();
    return CHECK_DONE();
}
