/* fuzz_cron.c - libFuzzer target for the alarms feed's cron parser and
 * next-time search (src/host/util/cron.c), which take tenants' text.
 *
 * The first 8 input bytes are the instant to search after, the rest the
 * expression. Invariants: a parsed expression has a next time strictly
 * after that instant, on a whole second, whose fields it matches; a refusal
 * has a name; cron_parse_date never accepts what does not round-trip to a
 * time within years 0..9999. */
#include "fuzz.h"

#include "host/util/cron.h"

#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    /* a window of years around now: the search covers 28 years from it */
    int64_t after = (int64_t)(fuzz_le64(data) % (4102444800000ULL)); /* up to 2100 */
    char *s = fuzz_cstr(data + 8, size - 8);
    cron_expr e;
    cron_result r = cron_parse(s, &e);
    FUZZ_CHECK(cron_result_name(r) != NULL);
    if (r == CRON_OK) {
        int64_t next = 0;
        if (cron_next(&e, after, &next) == CRON_OK) {
            FUZZ_CHECK(next > after);
            FUZZ_CHECK(next % 1000 == 0);
            time_t t = (time_t)(next / 1000);
            struct tm tm;
            FUZZ_CHECK(gmtime_r(&t, &tm) != NULL);
            FUZZ_CHECK(e.second >> tm.tm_sec & 1);
            FUZZ_CHECK(e.minute >> tm.tm_min & 1);
            FUZZ_CHECK(e.hour >> tm.tm_hour & 1);
            FUZZ_CHECK(e.month >> (tm.tm_mon + 1) & 1);
            int md = (int)(e.mday >> tm.tm_mday & 1), wd = (int)(e.wday >> tm.tm_wday & 1);
            FUZZ_CHECK(e.mday_any || e.wday_any ? md && wd : md || wd);
        }
    }
    int64_t ms;
    if (cron_parse_date(s, &ms) == 0) FUZZ_CHECK(ms >= -62167219200000LL - 86400000LL && ms < 253402387200000LL);
    free(s);
    return 0;
}
