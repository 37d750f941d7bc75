/* alarms.c - alarm schedules and the thread that fires them; see alarms.h.
 *
 * Threads: one firing thread per gateway. `mu` guards `stopping`, `woken`
 * and `joined`; the thread sleeps on `cv` (CLOCK_MONOTONIC) until the
 * earliest schedule is due, ALARM_POLL_MS at most, or alarms_wake (event
 * threads). It fires with no lock held. `thread` belongs to alarms_start
 * and alarms_stop (the main thread). */
#include "host/gateway/alarms.h"
#include "host/gateway/gateway_internal.h"
#include "host/gateway/triggers.h"

#include "host/store/store_entities.h"
#include "host/util/clock.h"
#include "host/util/cron.h"
#include "host/util/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A date parameter: ms since the epoch as a number, or an ISO 8601 string,
 * from 1970 to the end of 9999 (so that no sum of a date and a period can
 * overflow). 1 when present and valid (*ms set), 0 when absent, -1 when
 * invalid. */
static int date_param(const json_t *params, const char *key, int64_t *ms) {
    const json_t *v = json_object_get(params, key);
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) *ms = json_integer_value(v);
    else if (!json_is_string(v) || cron_parse_date(json_string_value(v), ms) != 0) return -1;
    return *ms >= 0 && *ms <= ALARM_MAX_DATE_MS ? 1 : -1;
}

/* --- the feeds: what each keeps of its parameters, and its next time ---- */

/* Each `keep` adds the feed's own members to doc from params: 0, or -1 with
 * the feed's error in err. Each `next` is the first time strictly after
 * `after` (at or past the start) or STORE_ALARM_NONE; origin is startDate,
 * else the creation time. */
static int cron_keep(const json_t *params, int64_t now, json_t *doc, char *err, size_t errsize) {
    (void)now;
    const char *cron = json_get_str(params, "cron", NULL);
    cron_expr e;
    cron_result cr = cron ? cron_parse(cron, &e) : CRON_EMPTY;
    if (!cron) snprintf(err, errsize, "alarms trigger feeds require a cron parameter");
    else if (cr != CRON_OK) snprintf(err, errsize, "cron pattern '%.256s' is not valid: %s", cron, cron_result_name(cr));
    return cron && cr == CRON_OK ? json_object_set_new(doc, "cron", json_string(cron)) : -1;
}

static int64_t cron_next_time(const json_t *s, int64_t after, int64_t origin) {
    (void)origin;
    cron_expr e;
    int64_t next;
    if (cron_parse(json_get_str(s, "cron", ""), &e) != CRON_OK || cron_next(&e, after, &next) != CRON_OK)
        return STORE_ALARM_NONE;
    return next;
}

static int once_keep(const json_t *params, int64_t now, json_t *doc, char *err, size_t errsize) {
    int64_t date = 0;
    int has = date_param(params, "date", &date);
    if (has <= 0)
        snprintf(err, errsize, "once trigger feeds require a date parameter: an ISO 8601 date or ms since the epoch, "
                               "to 9999");
    else if (date <= now) snprintf(err, errsize, "the date parameter must be in the future");
    return has > 0 && date > now ? json_object_set_new(doc, "date", json_integer(date)) : -1;
}

static int64_t once_next(const json_t *s, int64_t after, int64_t origin) {
    (void)origin;
    int64_t date = json_get_int(s, "date", 0);
    return date > after ? date : STORE_ALARM_NONE;
}

static int interval_keep(const json_t *params, int64_t now, json_t *doc, char *err, size_t errsize) {
    (void)now;
    const json_t *m = json_object_get(params, "minutes");
    if (json_is_integer(m) && json_integer_value(m) >= 1 && json_integer_value(m) <= ALARM_MAX_MINUTES)
        return json_object_set_new(doc, "minutes", json_integer(json_integer_value(m)));
    snprintf(err, errsize, "interval trigger feeds require a minutes parameter: an integer from 1 to %d",
             ALARM_MAX_MINUTES);
    return -1;
}

static int64_t interval_next(const json_t *s, int64_t after, int64_t origin) {
    int64_t period = json_get_int(s, "minutes", 0) * 60000;
    if (period <= 0) return STORE_ALARM_NONE;
    return after < origin ? origin + period : origin + ((after - origin) / period + 1) * period;
}

static const struct {
    const char *name;
    int (*keep)(const json_t *params, int64_t now, json_t *doc, char *err, size_t errsize);
    int64_t (*next)(const json_t *schedule, int64_t after, int64_t origin);
} FEEDS[] = {
    {"alarm", cron_keep, cron_next_time},
    {"once", once_keep, once_next},
    {"interval", interval_keep, interval_next},
};
#define NFEEDS (sizeof FEEDS / sizeof FEEDS[0])

static int feed_index(const char *feed) {
    for (size_t i = 0; feed && i < NFEEDS; i++)
        if (!strcmp(feed, FEEDS[i].name)) return (int)i;
    return -1;
}

int alarm_feed_known(const char *feed) { return feed_index(feed) >= 0; }

json_t *alarm_schedule_build(const char *feed, const json_t *params, int64_t now, char *err, size_t errsize) {
    int f = feed_index(feed);
    if (f < 0) {
        snprintf(err, errsize, "unknown feed '%.64s': whisk.system/alarms has alarm, once and interval",
                 feed ? feed : "");
        return NULL;
    }
    const json_t *payload = json_object_get(params, "trigger_payload");
    if (payload && !json_is_null(payload) && !json_is_object(payload)) {
        snprintf(err, errsize, "trigger_payload must be an object");
        return NULL;
    }
    int64_t start = 0, stop = 0;
    int has_start = date_param(params, "startDate", &start), has_stop = date_param(params, "stopDate", &stop);
    if (has_start < 0 || has_stop < 0) {
        snprintf(err, errsize, "startDate and stopDate must be ISO 8601 dates with a time zone, or ms since the "
                               "epoch, from 1970 to 9999");
        return NULL;
    }
    if (has_start && has_stop && stop <= start) {
        snprintf(err, errsize, "stopDate must be after startDate");
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:o, s:I}", "feed", feed, "payload",
                            json_is_object(payload) ? json_deep_copy(payload) : json_object(), "origin",
                            (json_int_t)now);
    if (!doc || (has_start && json_object_set_new(doc, "startDate", json_integer(start)) < 0) ||
        (has_stop && json_object_set_new(doc, "stopDate", json_integer(stop)) < 0)) {
        snprintf(err, errsize, "The server ran out of memory");
        json_decref(doc);
        return NULL;
    }
    if (FEEDS[f].keep(params, now, doc, err, errsize) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int64_t alarm_schedule_next(const json_t *s, int64_t after) {
    int f = feed_index(json_get_str(s, "feed", ""));
    if (f < 0) return STORE_ALARM_NONE;
    int64_t start = json_get_int(s, "startDate", INT64_MIN), stop = json_get_int(s, "stopDate", INT64_MAX);
    if (start != INT64_MIN && after < start - 1) after = start - 1; /* nothing before the start */
    int64_t next = FEEDS[f].next(s, after, start != INT64_MIN ? start : json_get_int(s, "origin", 0));
    return next != STORE_ALARM_NONE && next <= stop ? next : STORE_ALARM_NONE;
}

/* --- the firing thread ------------------------------------------------------ */

struct alarms {
    gateway *gw;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping; /* under mu */
    int woken;    /* under mu */
    int joined;   /* under mu: alarms_stop has joined the thread */
};

/* Claims and fires one due schedule {namespace, trigger, next_fire, doc}.
 * 1 when it was claimed (fired, or skipped as too late), 0 when not. */
static int fire_one(alarms *a, const json_t *due) {
    store *st = a->gw->store;
    const char *ns = json_get_str(due, "namespace", ""), *trigger = json_get_str(due, "trigger", "");
    int64_t due_at = json_get_int(due, "next_fire", 0), now = clock_wall_ms();
    const json_t *doc = json_object_get(due, "doc");
    /* The next time after now: every time missed meanwhile folds into this one */
    int64_t next = alarm_schedule_next(doc, now > due_at ? now : due_at);
    if (store_alarm_advance(st, ns, trigger, due_at, next) != STORE_OK) return 0; /* gone, changed, or the store failed */
    if (now - due_at > ALARM_CATCHUP_MS) {
        fprintf(stderr, "tfaas serve: alarm of trigger %s/%s due %lld ms ago is past the %d ms catch-up window: skipped\n",
                ns, trigger, (long long)(now - due_at), ALARM_CATCHUP_MS);
        return 1;
    }
    char ns_id[STORE_NSID_LEN + 1], tenant[GATEWAY_NS_MAX + 1 + STORE_NSID_LEN], id[33];
    if (store_namespace_id(st, ns, ns_id) != STORE_OK) return 1;
    snprintf(tenant, sizeof tenant, "%s#%s", ns, ns_id);
    invoke_caller c = {ns, ns_id, tenant};
    /* The time it fires for, so a record says which firing it is */
    json_t *ann = json_pack("[{s:s, s:I}]", "key", "alarm", "value", (json_int_t)due_at);
    fire_status fs = trigger_fire(a->gw, &c, trigger, json_object_get(doc, "payload"), ann, id);
    json_decref(ann);
    if (fs == FIRE_ERROR) fprintf(stderr, "tfaas serve: alarm of trigger %s/%s could not fire: %s\n", ns, trigger,
                                  store_last_error());
    return 1;
}

static void *alarms_main(void *arg) {
    alarms *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int stop = a->stopping;
        a->woken = 0;
        pthread_mutex_unlock(&a->mu);
        if (stop) break;
        json_t *due = NULL;
        size_t claimed = 0;
        if (store_alarm_due(a->gw->store, clock_wall_ms(), ALARM_DUE_BATCH, &due) == STORE_OK) {
            size_t i;
            json_t *d;
            json_array_foreach(due, i, d) claimed += (size_t)fire_one(a, d);
        }
        size_t found = json_array_size(due);
        json_decref(due);
        if (found == ALARM_DUE_BATCH && claimed > 0) continue; /* more may be due */
        /* Nothing claimed of what was due means the store refuses writes
         * (read-only, full disk): look again after ALARM_POLL_MS, not at
         * once, or the thread would spin on the same due schedules. */
        int64_t earliest = STORE_ALARM_NONE, wait = ALARM_POLL_MS;
        if ((found == 0 || claimed > 0) && store_alarm_earliest(a->gw->store, &earliest) == STORE_OK &&
            earliest != STORE_ALARM_NONE) {
            int64_t until = earliest - clock_wall_ms();
            if (until < wait) wait = until > 0 ? until : 0;
        }
        struct timespec dl = clock_mono_deadline((uint64_t)wait);
        pthread_mutex_lock(&a->mu);
        while (!a->stopping && !a->woken && wait > 0)
            if (pthread_cond_timedwait(&a->cv, &a->mu, &dl) != 0) break;
        pthread_mutex_unlock(&a->mu);
    }
    return NULL;
}

alarms *alarms_start(gateway *gw) {
    alarms *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->gw = gw;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&a->mu, NULL);
    if (pthread_create(&a->thread, NULL, alarms_main, a) != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        free(a);
        return NULL;
    }
    return a;
}

void alarms_wake(alarms *a) {
    if (!a) return;
    pthread_mutex_lock(&a->mu);
    a->woken = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void alarms_stop(alarms *a) {
    if (!a) return;
    pthread_mutex_lock(&a->mu);
    int join = !a->joined;
    a->stopping = a->joined = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (join) pthread_join(a->thread, NULL);
}

void alarms_free(alarms *a) {
    if (!a) return;
    alarms_stop(a);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}
