/* test_store_race.c - one namespace written through several stores at once,
 * as several servers on one database write it: every update of an action,
 * a package and a trigger gets a version of its own and none is lost; of
 * the stores creating one name without overwrite exactly one succeeds; the
 * route bound (STORE_ROUTES_MAX) and the bound on rules (STORE_ENTITIES_MAX)
 * are exact, round after round; a rule is never left active for a trigger
 * deleted at the same time, nor an action stored into a package deleted
 * at the same time; one alarm time is claimed once. Each store is its own connection, so under scripts/pg-test.sh (ctest
 * pg/store-unit) these are PostgreSQL sessions racing in READ COMMITTED,
 * and store_begin_ns's advisory lock is what serialises them; on SQLite
 * BEGIN IMMEDIATE does. Threads only write; every CHECK runs on the main
 * thread after the join. */
#include "check.h"
#include "test_store_helpers.h"

#include "host/store/store.h"
#include "host/store/store_entities.h"
#include "host/store/store_packages.h"

#include <pthread.h>
#include <stdlib.h>

#define STORES 3
#define WRITES 20 /* per store and kind */

enum { K_ACTION, K_PACKAGE, K_TRIGGER, K_CREATE, K_ROUTE, K_ALARM, K_INTO_PACKAGE, K_RULE_BOUND, K_RULE_TRIGGER, KINDS };

typedef struct {
    store *s;
    int idx;
    pthread_barrier_t *go;
    char versions[KINDS][WRITES][64];
    store_status st[KINDS][WRITES];
    int64_t held[WRITES]; /* K_RULE_BOUND: the count a refusal gave */
} worker;

static const char *version_of(json_t *doc, char out[64]) {
    snprintf(out, 64, "%s", doc ? json_string_value(json_object_get(doc, "version")) : "");
    json_decref(doc);
    return out;
}

static void *run(void *arg) {
    worker *w = arg;
    json_t *action = json_pack("{s{ss ss}}", "exec", "kind", "js:duktape", "code", "function main() {}");
    json_t *empty = json_object();
    for (int kind = 0; kind < KINDS; kind++) {
        pthread_barrier_wait(w->go); /* every store starts each kind at once */
        for (int i = 0; i < WRITES; i++) {
            json_t *doc = NULL;
            char name[32];
            store_status *st = &w->st[kind][i];
            switch (kind) {
            case K_ACTION: *st = store_action_put(w->s, "alice", "a", action, 1, &doc); break;
            case K_PACKAGE: *st = store_package_put(w->s, "alice", "p", empty, 0, 1, &doc); break;
            case K_TRIGGER: *st = store_entity_put(w->s, STORE_ENTITY_TRIGGER, "alice", "t", empty, NULL, 1, &doc); break;
            case K_CREATE:
                snprintf(name, sizeof name, "c%d", i);
                *st = store_action_put(w->s, "alice", name, action, 0, &doc);
                break;
            case K_ROUTE: { /* rounds: every store asks for the last route, then it is deleted again */
                snprintf(name, sizeof name, "/s%d", w->idx);
                json_t *r = json_pack("{ss ss ss ss}", "basepath", "/race", "relpath", name, "verb", "GET", "action", "a");
                *st = store_route_put(w->s, "alice", r);
                json_decref(r);
                pthread_barrier_wait(w->go);
                int gone = 0;
                if (w->idx == 0) store_route_delete(w->s, "alice", "/race", NULL, NULL, &gone);
                pthread_barrier_wait(w->go);
                break;
            }
            case K_INTO_PACKAGE: /* rounds: store 0 deletes package qI while store 1 stores an action in it */
                pthread_barrier_wait(w->go);
                snprintf(name, sizeof name, w->idx == 0 ? "q%d" : "q%d/f", i);
                if (w->idx == 0) *st = store_package_delete(w->s, "alice", name, NULL, NULL);
                else *st = w->idx == 1 ? store_action_put(w->s, "alice", name, action, 1, NULL) : STORE_OK;
                break;
            case K_RULE_BOUND: /* rounds: every store adds the last rule below the bound, the winner's goes again */
                snprintf(name, sizeof name, "b%d-%d", w->idx, i);
                *st = store_entity_put_bounded(w->s, STORE_ENTITY_RULE, "alice", name, empty, "t", 0, &w->held[i], NULL);
                pthread_barrier_wait(w->go);
                if (*st == STORE_OK) store_entity_delete(w->s, STORE_ENTITY_RULE, "alice", name, NULL);
                pthread_barrier_wait(w->go);
                break;
            case K_RULE_TRIGGER: /* rounds: store 0 deletes trigger dI while store 1 stores a rule for it */
                pthread_barrier_wait(w->go);
                snprintf(name, sizeof name, w->idx == 0 ? "d%d" : "rd%d", i);
                if (w->idx == 0) *st = store_entity_delete(w->s, STORE_ENTITY_TRIGGER, "alice", name, NULL);
                else if (w->idx == 1) {
                    char trig[32];
                    snprintf(trig, sizeof trig, "d%d", i);
                    json_t *rule = json_pack("{ss}", "status", "active");
                    *st = store_entity_put(w->s, STORE_ENTITY_RULE, "alice", name, rule, trig, 0, NULL);
                    json_decref(rule);
                } else *st = STORE_OK;
                break;
            case K_ALARM: /* the tick due at 1000+i moves to 1001+i: one store claims it */
                *st = store_alarm_advance(w->s, "alice", "t", 1000 + i, 1001 + i);
                break;
            }
            version_of(doc, w->versions[kind][i]);
        }
    }
    json_decref(action);
    json_decref(empty);
    return NULL;
}

/* How many of kind's writes returned want, over every store. */
static int count(worker *w, int kind, store_status want) {
    int n = 0;
    for (int k = 0; k < STORES; k++)
        for (int i = 0; i < WRITES; i++) n += w[k].st[kind][i] == want;
    return n;
}

/* Every update of kind got its own version, and the last is 0.0.(1 + all). */
static void check_versions(worker *w, int kind, const char *last) {
    CHECK(count(w, kind, STORE_OK) == STORES * WRITES);
    int dup = 0;
    for (int a = 0; a < STORES * WRITES; a++)
        for (int b = a + 1; b < STORES * WRITES; b++)
            dup += !strcmp(w[a / WRITES].versions[kind][a % WRITES], w[b / WRITES].versions[kind][b % WRITES]);
    if (dup) fprintf(stderr, "kind %d: %d versions written twice\n", kind, dup);
    CHECK(dup == 0);
    char want[64];
    snprintf(want, sizeof want, "0.0.%d", 1 + STORES * WRITES);
    CHECK_STR(last, want);
}

int main(void) {
    char *dir = scratch_dir("race");
    store *s[STORES] = {0};
    char *err = NULL;
    char u[STORE_UUID_LEN + 1], k[STORE_KEY_LEN + 1];
    const char *target = test_store_target(dir);
    for (int i = 0; i < STORES; i++) CHECK(store_open(target, &s[i], &err) == STORE_OK);
    CHECK(store_namespace_create(s[0], "alice", NULL, NULL, u, k) == STORE_OK);

    /* What the updates replace, the routes up to one below the bound, and
     * the schedule whose ticks the stores claim. */
    json_t *action = json_pack("{s{ss ss}}", "exec", "kind", "js:duktape", "code", "function main() {}");
    json_t *empty = json_object(), *sched = json_pack("{ss}", "feed", "once");
    CHECK(store_action_put(s[0], "alice", "a", action, 0, NULL) == STORE_OK);
    CHECK(store_package_put(s[0], "alice", "p", empty, 0, 0, NULL) == STORE_OK);
    CHECK(store_entity_put(s[0], STORE_ENTITY_TRIGGER, "alice", "t", empty, NULL, 0, NULL) == STORE_OK);
    CHECK(store_alarm_put(s[0], "alice", "t", sched, 1000, 1) == STORE_OK);
    for (int i = 0; i < WRITES; i++) {
        char pkg[32];
        snprintf(pkg, sizeof pkg, "q%d", i);
        CHECK(store_package_put(s[0], "alice", pkg, empty, 0, 0, NULL) == STORE_OK);
    }
    for (int i = 0; i < WRITES; i++) {
        char trig[32];
        snprintf(trig, sizeof trig, "d%d", i);
        CHECK(store_entity_put(s[0], STORE_ENTITY_TRIGGER, "alice", trig, empty, NULL, 0, NULL) == STORE_OK);
    }
    for (int i = 0; i < STORE_ENTITIES_MAX - 1; i++) {
        char rule[32];
        snprintf(rule, sizeof rule, "f%d", i);
        CHECK(store_entity_put(s[0], STORE_ENTITY_RULE, "alice", rule, empty, "t", 0, NULL) == STORE_OK);
    }
    for (int i = 0; i < STORE_ROUTES_MAX - 1; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "/f%d", i);
        json_t *r = json_pack("{ss ss ss ss}", "basepath", "/fill", "relpath", rel, "verb", "GET", "action", "a");
        CHECK(store_route_put(s[0], "alice", r) == STORE_OK);
        json_decref(r);
    }
    json_decref(action);
    json_decref(empty);
    json_decref(sched);

    static worker w[STORES];
    pthread_t th[STORES];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, STORES);
    for (int i = 0; i < STORES; i++) {
        w[i] = (worker){.s = s[i], .idx = i, .go = &go};
        CHECK(pthread_create(&th[i], NULL, run, &w[i]) == 0);
    }
    for (int i = 0; i < STORES; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);

    json_t *got = NULL;
    CHECK(store_action_get(s[1], "alice", "a", &got) == STORE_OK);
    char last[64];
    check_versions(w, K_ACTION, version_of(got, last));
    CHECK(store_package_get(s[1], "alice", "p", &got) == STORE_OK);
    check_versions(w, K_PACKAGE, version_of(got, last));
    CHECK(store_entity_get(s[1], STORE_ENTITY_TRIGGER, "alice", "t", &got) == STORE_OK);
    check_versions(w, K_TRIGGER, version_of(got, last));
    /* one creator per name, the others told it exists */
    CHECK(count(w, K_CREATE, STORE_OK) == WRITES);
    CHECK(count(w, K_CREATE, STORE_CONFLICT) == (STORES - 1) * WRITES);
    /* in each round one route past STORE_ROUTES_MAX - 1, whichever store
     * asked first; the others told the bound is reached */
    int over = 0;
    for (int i = 0; i < WRITES; i++) {
        int given = 0;
        for (int j = 0; j < STORES; j++) given += w[j].st[K_ROUTE][i] == STORE_OK;
        over += given != 1;
    }
    if (over) fprintf(stderr, "routes: %d of %d rounds did not give exactly one\n", over, WRITES);
    CHECK(over == 0);
    CHECK(count(w, K_ROUTE, STORE_CONFLICT) == (STORES - 1) * WRITES);
    /* each tick claimed by exactly one store (a store that comes late to a
     * tick finds it moved on: STORE_NOT_FOUND) */
    CHECK(count(w, K_ALARM, STORE_OK) == WRITES);
    CHECK(count(w, K_ALARM, STORE_NOT_FOUND) == (STORES - 1) * WRITES);

    /* in each round one rule past STORE_ENTITIES_MAX - 1; the others are
     * told the namespace holds the most it may */
    int past = 0;
    for (int i = 0; i < WRITES; i++) {
        int given = 0, full = 0;
        for (int j = 0; j < STORES; j++) {
            given += w[j].st[K_RULE_BOUND][i] == STORE_OK;
            full += w[j].st[K_RULE_BOUND][i] == STORE_CONFLICT && w[j].held[i] == STORE_ENTITIES_MAX;
        }
        past += given != 1 || full != STORES - 1;
    }
    if (past) fprintf(stderr, "rules: %d of %d rounds did not give exactly one\n", past, WRITES);
    CHECK(past == 0);

    /* never an active rule whose trigger is gone: the rule came first (the
     * delete made it inactive) or it was refused (STORE_NOT_FOUND) */
    int active = 0;
    for (int i = 0; i < WRITES; i++) {
        char name[32];
        snprintf(name, sizeof name, "rd%d", i);
        json_t *rule = NULL;
        store_status kept = store_entity_get(s[2], STORE_ENTITY_RULE, "alice", name, &rule);
        CHECK(w[0].st[K_RULE_TRIGGER][i] == STORE_OK);
        CHECK(kept == (w[1].st[K_RULE_TRIGGER][i] == STORE_OK ? STORE_OK : STORE_NOT_FOUND));
        active += kept == STORE_OK && strcmp(json_string_value(json_object_get(rule, "status")), "inactive") != 0;
        json_decref(rule);
    }
    if (active) fprintf(stderr, "rules: %d of %d stayed active without their trigger\n", active, WRITES);
    CHECK(active == 0);

    /* never an action stored in a package deleted meanwhile: the action
     * wins (the delete finds it: STORE_CONFLICT) or the delete does (the
     * put finds no package: STORE_NOT_FOUND) */
    int orphans = 0;
    for (int i = 0; i < WRITES; i++) {
        store_status del = w[0].st[K_INTO_PACKAGE][i], put = w[1].st[K_INTO_PACKAGE][i];
        orphans += !((put == STORE_OK && del == STORE_CONFLICT) || (del == STORE_OK && put == STORE_NOT_FOUND));
    }
    if (orphans) fprintf(stderr, "into a package: %d of %d rounds both won\n", orphans, WRITES);
    CHECK(orphans == 0);

    for (int i = 0; i < STORES; i++) store_close(s[i]);
    scratch_remove(dir);
    return CHECK_DONE();
}
