/* alarms.h - the whisk.system/alarms feed's schedules: what a schedule is
 * (alarm_schedule_*: pure, unit-tested) and the thread that fires the due
 * ones (alarms_*), host-side, no JavaScript.
 *
 * Exactly once: a firing is claimed by moving the stored schedule from its
 * due time to the next one (store_alarm_advance, a committed compare-and-
 * set) BEFORE the trigger fires, so a kill -9 at any point never fires a
 * time twice. The price: a kill -9 between that commit and the firing's
 * submission (microseconds, no I/O between them but the trigger's own
 * reads) loses that one firing. A time that passed while the server was
 * down fires once on restart if it is at most ALARM_CATCHUP_MS old; older
 * ones are skipped (and logged), and every missed time of one schedule
 * collapses into that single firing. */
#ifndef TFAAS_HOST_GATEWAY_ALARMS_H
#define TFAAS_HOST_GATEWAY_ALARMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ALARM_CATCHUP_MS (5 * 60 * 1000) /* docs/api.md, Alarms */
#define ALARM_POLL_MS 1000               /* the thread looks at least this often */
#define ALARM_DUE_BATCH 64               /* schedules fired per look */
#define ALARM_MAX_MINUTES 525600         /* an interval of at most a year */
#define ALARM_MAX_DATE_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z: the latest date taken */

/* The schedule document kept for a trigger (store_alarm_put) from the feed
 * action's parameters: {feed: alarm|once|interval, cron | date | minutes,
 * startDate?, stopDate?, payload, origin}. now: ms since the epoch (an
 * interval counts from its startDate, else from now). NULL with a message
 * for the feed's error in err. */
json_t *alarm_schedule_build(const char *feed, const json_t *params, int64_t now, char *err, size_t errsize);
/* The first firing time of the schedule strictly after `after`, or
 * INT64_MIN (STORE_ALARM_NONE) when it never fires again. */
int64_t alarm_schedule_next(const json_t *schedule, int64_t after);
/* Whether `feed` is one of alarm, once, interval. */
int alarm_feed_known(const char *feed);

typedef struct gateway gateway;
typedef struct alarms alarms;
/* Starts the firing thread over gw's store. NULL on failure. */
alarms *alarms_start(gateway *gw);
/* A schedule was created or changed: look again now. NULL, or a stopped
 * one, is a no-op. Any thread. */
void alarms_wake(alarms *a);
/* Stops and joins the thread: no firing after it returns. Idempotent; NULL
 * is a no-op. alarms_wake stays safe until alarms_free. */
void alarms_stop(alarms *a);
void alarms_free(alarms *a);

#endif
