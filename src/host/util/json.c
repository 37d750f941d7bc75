/* json.c - shared jansson helpers; see json.h. */
#include "host/util/json.h"

#include <string.h>

const char *json_get_str(const json_t *obj, const char *key, const char *dflt) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : dflt;
}

json_int_t json_get_int(const json_t *obj, const char *key, json_int_t dflt) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int json_get_bool(const json_t *obj, const char *key, int dflt) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *json_kv(const char *key, json_t *value) {
    if (!value) return NULL;
    json_t *e = json_object();
    if (!e || json_object_set_new(e, "key", json_string(key)) < 0 ||
        json_object_set(e, "value", value) < 0) {
        json_decref(e);
        json_decref(value);
        return NULL;
    }
    json_decref(value); /* e holds its own reference now */
    return e;
}

json_t *json_kv_find(const json_t *list, const char *key) {
    size_t i;
    json_t *e;
    if (!json_is_array(list)) return NULL;
    json_array_foreach(list, i, e) {
        const char *k = json_get_str(e, "key", NULL);
        if (k && strcmp(k, key) == 0) return json_object_get(e, "value");
    }
    return NULL;
}

int json_kv_set(json_t *list, const char *key, json_t *value) {
    size_t i;
    json_t *e;
    if (!value) return -1;
    if (!json_is_array(list)) { json_decref(value); return -1; }
    json_array_foreach(list, i, e) {
        const char *k = json_get_str(e, "key", NULL);
        if (k && strcmp(k, key) == 0) return json_object_set_new(e, "value", value);
    }
    json_t *entry = json_kv(key, value);
    return entry ? json_array_append_new(list, entry) : -1;
}

json_t *json_kv_to_object(const json_t *list) {
    json_t *obj = json_object();
    size_t i;
    json_t *e;
    if (!obj || !json_is_array(list)) return obj;
    json_array_foreach(list, i, e) {
        const char *k = json_get_str(e, "key", NULL);
        json_t *v = json_is_object(e) ? json_object_get(e, "value") : NULL;
        if (!k || !v) continue;
        if (json_object_set(obj, k, v) < 0) { json_decref(obj); return NULL; }
    }
    return obj;
}

char *json_dump_compact(const json_t *v) {
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}
