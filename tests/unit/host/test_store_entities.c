/* test_store_entities.c - triggers, rules and alarm schedules in the store:
 * create/conflict/update (version bump), lookups by reference, a deleted
 * trigger taking its schedule along and leaving its rules inactive, the
 * compare-and-set that claims an alarm firing once, due and earliest
 * schedules, a reopened store keeping them, and a deleted namespace taking
 * everything of its own. */
#include "check.h"
#include "test_store_helpers.h"

#include "host/store/store.h"
#include "host/store/store_entities.h"

static json_t *doc(const char *text) { return json_loads(text, 0, NULL); }

static void test_entities(store *s) {
    json_t *t = doc("{\"parameters\":[]}"), *out = NULL;
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "guest", "t1", t, NULL, 0, &out) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(out, "version")), "0.0.1");
    CHECK_STR(json_string_value(json_object_get(out, "namespace")), "guest");
    json_decref(out);
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "guest", "t1", t, NULL, 0, NULL) == STORE_CONFLICT);
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "guest", "t1", t, NULL, 1, &out) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(out, "version")), "0.0.2");
    json_decref(out);
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "nobody", "t1", t, NULL, 0, NULL) == STORE_NOT_FOUND);
    /* the same name as another kind is another entity */
    json_t *r = doc("{\"status\":\"active\"}");
    CHECK(store_entity_put(s, STORE_ENTITY_RULE, "guest", "t1", r, "t1", 0, NULL) == STORE_OK);
    CHECK(store_entity_put(s, STORE_ENTITY_RULE, "guest", "r2", r, "t1", 0, NULL) == STORE_OK);
    /* a rule's trigger must exist when the rule is written, in the same
     * transaction: one deleted meanwhile (through another node) refuses it */
    CHECK(store_entity_put(s, STORE_ENTITY_RULE, "guest", "r3", r, "other", 0, NULL) == STORE_NOT_FOUND);
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "guest", "other", t, NULL, 0, NULL) == STORE_OK);
    CHECK(store_entity_put(s, STORE_ENTITY_RULE, "guest", "r3", r, "other", 0, NULL) == STORE_OK);
    CHECK(store_entity_by_ref(s, STORE_ENTITY_RULE, "guest", "t1", &out) == STORE_OK);
    CHECK(json_array_size(out) == 2);
    json_decref(out);
    int64_t n = 0;
    CHECK(store_entity_count(s, STORE_ENTITY_RULE, "guest", &n) == STORE_OK && n == 3);
    CHECK(store_entity_list(s, STORE_ENTITY_RULE, "guest", 2, 0, &out) == STORE_OK && json_array_size(out) == 2);
    json_decref(out);
    CHECK(store_entity_list(s, STORE_ENTITY_RULE, "guest", 2, 2, &out) == STORE_OK && json_array_size(out) == 1);
    json_decref(out);
    json_decref(r);
    json_decref(t);
}

static void test_alarms(store *s) {
    json_t *a = doc("{\"feed\":\"once\",\"date\":5000}"), *got = NULL;
    CHECK(store_alarm_put(s, "guest", "missing", a, 5000, 1) == STORE_NOT_FOUND);
    CHECK(store_alarm_put(s, "guest", "t1", a, 5000, 1) == STORE_OK);
    CHECK(store_alarm_put(s, "guest", "t1", a, 5000, 1) == STORE_CONFLICT);
    int64_t next = 0, earliest = 0;
    CHECK(store_alarm_get(s, "guest", "t1", &got, &next) == STORE_OK && next == 5000);
    json_decref(got);
    CHECK(store_alarm_earliest(s, &earliest) == STORE_OK && earliest == 5000);
    json_t *due = NULL;
    CHECK(store_alarm_due(s, 4999, 10, &due) == STORE_OK && json_array_size(due) == 0);
    json_decref(due);
    CHECK(store_alarm_due(s, 5000, 10, &due) == STORE_OK && json_array_size(due) == 1);
    CHECK(json_integer_value(json_object_get(json_array_get(due, 0), "next_fire")) == 5000);
    CHECK(json_is_object(json_object_get(json_array_get(due, 0), "doc")));
    json_decref(due);
    /* a firing is claimed once: the second claim of the same time fails */
    CHECK(store_alarm_advance(s, "guest", "t1", 5000, STORE_ALARM_NONE) == STORE_OK);
    CHECK(store_alarm_advance(s, "guest", "t1", 5000, STORE_ALARM_NONE) == STORE_NOT_FOUND);
    CHECK(store_alarm_get(s, "guest", "t1", &got, &next) == STORE_OK && next == STORE_ALARM_NONE);
    json_decref(got);
    CHECK(store_alarm_earliest(s, &earliest) == STORE_OK && earliest == STORE_ALARM_NONE);
    CHECK(store_alarm_put(s, "guest", "t1", a, 7000, 0) == STORE_OK); /* replace */
    /* a replace (UPDATE, PAUSE of the feed, which read the schedule first)
     * does not bring back a schedule deleted since */
    CHECK(store_alarm_delete(s, "guest", "t1") == STORE_OK);
    CHECK(store_alarm_put(s, "guest", "t1", a, 7000, 0) == STORE_NOT_FOUND);
    CHECK(store_alarm_get(s, "guest", "t1", &got, &next) == STORE_NOT_FOUND);
    CHECK(store_alarm_put(s, "guest", "t1", a, 7000, 1) == STORE_OK);
    json_decref(a);
}

static void test_trigger_delete(store *s) {
    json_t *deleted = NULL, *out = NULL, *got = NULL;
    CHECK(store_entity_delete(s, STORE_ENTITY_TRIGGER, "guest", "t1", &deleted) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(deleted, "name")), "t1");
    json_decref(deleted);
    CHECK(store_entity_delete(s, STORE_ENTITY_TRIGGER, "guest", "t1", NULL) == STORE_NOT_FOUND);
    CHECK(store_alarm_get(s, "guest", "t1", &got, NULL) == STORE_NOT_FOUND);
    CHECK(store_entity_get(s, STORE_ENTITY_RULE, "guest", "r2", &out) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "inactive");
    json_decref(out);
    CHECK(store_entity_get(s, STORE_ENTITY_RULE, "guest", "r3", &out) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "active"); /* another trigger's */
    json_decref(out);
}

int main(void) {
    char *dir = scratch_dir("entities");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    CHECK(store_namespace_create(s, "guest", NULL, NULL, NULL, NULL) == STORE_OK);
    test_entities(s);
    test_alarms(s);
    /* kept across a reopen */
    json_t *t = json_loads("{}", 0, NULL);
    CHECK(store_entity_put(s, STORE_ENTITY_TRIGGER, "guest", "t9", t, NULL, 0, NULL) == STORE_OK);
    CHECK(store_alarm_put(s, "guest", "t9", t, 9000, 1) == STORE_OK);
    json_decref(t);
    store_close(s);
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    int64_t earliest = 0;
    CHECK(store_alarm_earliest(s, &earliest) == STORE_OK && earliest == 7000);
    test_trigger_delete(s);
    /* a deleted namespace takes its triggers, rules and schedules */
    CHECK(store_namespace_delete(s, "guest") == STORE_OK);
    CHECK(store_alarm_earliest(s, &earliest) == STORE_OK && earliest == STORE_ALARM_NONE);
    int64_t n = 1;
    CHECK(store_entity_count(s, STORE_ENTITY_RULE, "guest", &n) == STORE_OK && n == 0);
    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    return CHECK_DONE();
}
