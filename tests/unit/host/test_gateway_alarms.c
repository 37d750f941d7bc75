/* test_gateway_alarms.c - alarm schedules from the feed's parameters (what
 * each feed keeps and refuses) and their next times: cron, once, interval,
 * startDate/stopDate bounds, and times that never come. */
#include "check.h"
#include "host/gateway/alarms.h"
#include "host/store/store_entities.h"

#include <jansson.h>
#include <string.h>

#define NOW 1796638830000LL /* 2026-12-07T10:20:30Z */

static json_t *build(const char *feed, const char *params, char *err) {
    json_t *p = json_loads(params, 0, NULL);
    json_t *doc = alarm_schedule_build(feed, p, NOW, err, 256);
    json_decref(p);
    return doc;
}

static void refused(const char *feed, const char *params, const char *why) {
    char err[256] = "";
    json_t *doc = build(feed, params, err);
    CHECK(doc == NULL);
    CHECK(strstr(err, why) != NULL);
    if (!strstr(err, why)) fprintf(stderr, "  %s %s: %s\n", feed, params, err);
    json_decref(doc);
}

static void test_refusals(void) {
    refused("nope", "{}", "unknown feed");
    refused("alarm", "{}", "require a cron parameter");
    refused("alarm", "{\"cron\":7}", "require a cron parameter");
    refused("alarm", "{\"cron\":\"0 0 30 2 *\"}", "matches no date");
    refused("alarm", "{\"cron\":\"* * * * *\",\"trigger_payload\":[1]}", "trigger_payload must be an object");
    refused("once", "{}", "require a date parameter");
    refused("once", "{\"date\":1}", "must be in the future");
    refused("once", "{\"date\":\"2026-12-07T10:20:30Z\"}", "must be in the future"); /* now is not the future */
    refused("once", "{\"date\":253402300800000}", "require a date parameter");      /* year 10000 */
    refused("interval", "{\"minutes\":0}", "minutes parameter");
    refused("interval", "{\"minutes\":525601}", "minutes parameter");
    refused("interval", "{\"minutes\":\"5\"}", "minutes parameter");
    refused("interval", "{\"minutes\":5,\"startDate\":\"yesterday\"}", "startDate and stopDate");
    refused("interval", "{\"minutes\":5,\"startDate\":9223372036854775807}", "from 1970 to 9999");
    refused("interval", "{\"minutes\":5,\"startDate\":20,\"stopDate\":10}", "stopDate must be after startDate");
}

static int64_t next_of(const char *feed, const char *params, int64_t after) {
    char err[256] = "";
    json_t *doc = build(feed, params, err);
    if (!doc) {
        fprintf(stderr, "  %s %s refused: %s\n", feed, params, err);
        return -1;
    }
    int64_t n = alarm_schedule_next(doc, after);
    json_decref(doc);
    return n;
}

static void test_next(void) {
    CHECK(next_of("alarm", "{\"cron\":\"* * * * *\"}", NOW) == NOW + 30000);
    CHECK(next_of("alarm", "{\"cron\":\"*/8 * * * * *\"}", NOW) == NOW + 2000);
    /* nothing before startDate, nothing after stopDate */
    CHECK(next_of("alarm", "{\"cron\":\"* * * * *\",\"startDate\":\"2027-01-01T00:00:00Z\"}", NOW) ==
          1798761600000LL);
    CHECK(next_of("alarm", "{\"cron\":\"0 0 * * *\",\"stopDate\":\"2026-12-07T23:00:00Z\"}", NOW) == STORE_ALARM_NONE);
    CHECK(next_of("once", "{\"date\":\"2026-12-07T10:21:00Z\"}", NOW) == NOW + 30000);
    CHECK(next_of("once", "{\"date\":\"2026-12-07T10:21:00Z\"}", NOW + 30000) == STORE_ALARM_NONE); /* fired */
    /* an interval counts from its creation (NOW), or from startDate */
    CHECK(next_of("interval", "{\"minutes\":5}", NOW) == NOW + 300000);
    CHECK(next_of("interval", "{\"minutes\":5}", NOW + 300000) == NOW + 600000);
    CHECK(next_of("interval", "{\"minutes\":5}", NOW + 299999) == NOW + 300000);
    CHECK(next_of("interval", "{\"minutes\":1,\"startDate\":1796638800000}", NOW) == 1796638860000LL);
    char err[256];
    json_t *doc = build("alarm", "{\"cron\":\"* * * * *\",\"trigger_payload\":{\"a\":1}}", err);
    CHECK(doc && json_integer_value(json_object_get(json_object_get(doc, "payload"), "a")) == 1);
    CHECK(doc && !strcmp(json_string_value(json_object_get(doc, "feed")), "alarm"));
    json_decref(doc);
    json_t *junk = json_pack("{s:s}", "feed", "elsewhere");
    CHECK(alarm_schedule_next(junk, NOW) == STORE_ALARM_NONE);
    json_decref(junk);
    CHECK(alarm_feed_known("once") && alarm_feed_known("interval") && alarm_feed_known("alarm"));
    CHECK(!alarm_feed_known("ONCE") && !alarm_feed_known(NULL) && !alarm_feed_known(""));
}

int main(void) {
    test_refusals();
    test_next();
    return CHECK_DONE();
}
