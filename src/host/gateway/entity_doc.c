/* entity_doc.c - trigger and rule documents, and the rule name resolver;
 * see entity_doc.h. */
#include "host/gateway/entity_doc.h"
#include "host/gateway/action_doc.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

/* Member of body, or when absent of old (update keeps what it is not given). */
static const json_t *pick(const json_t *body, const json_t *old, const char *key) {
    const json_t *v = json_object_get(body, key);
    if ((!v || json_is_null(v)) && old) v = json_object_get(old, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* annotations and publish, common to both kinds; NULL with err. */
static json_t *common_build(const json_t *body, const json_t *old, const char *what, char *err, size_t errsize) {
    if (!json_is_object(body)) {
        snprintf(err, errsize, "The request content was malformed: the %s must be a JSON object", what);
        return NULL;
    }
    const json_t *annots = pick(body, old, "annotations");
    const json_t *publish = pick(body, old, "publish");
    if (annots && !action_kv_list_valid(annots)) {
        snprintf(err, errsize, "annotations must be an array of {\"key\": string, \"value\": any}");
        return NULL;
    }
    if (publish && !json_is_boolean(publish)) {
        snprintf(err, errsize, "publish must be true or false");
        return NULL;
    }
    json_t *doc = json_pack("{s:o, s:b}", "annotations", annots ? json_deep_copy(annots) : json_array(), "publish",
                            publish && json_is_true(publish));
    if (!doc) snprintf(err, errsize, "The server ran out of memory");
    return doc;
}

/* An entity path as OpenWhisk's feed annotation takes it: NAME, NS/NAME,
 * NS/PKG/NAME, with or without a leading '/', each part a valid name. */
static int entity_path_valid(const char *path) {
    if (*path == '/') path++;
    char part[ENTITY_NAME_MAX];
    int parts = 0;
    for (const char *p = path;; parts++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= sizeof part || parts == 3) return 0;
        memcpy(part, p, len);
        part[len] = '\0';
        if (!action_name_valid(part)) return 0;
        if (!slash) return parts < 3;
        p = slash + 1;
    }
}

json_t *entity_trigger_build(const json_t *body, const json_t *old, char *err, size_t errsize) {
    json_t *doc = common_build(body, old, "trigger", err, errsize);
    if (!doc) return NULL;
    const json_t *params = pick(body, old, "parameters");
    const json_t *limits = pick(body, old, "limits");
    const json_t *feed = json_kv_find(json_object_get(doc, "annotations"), "feed");
    const char *bad = NULL;
    if (params && !action_kv_list_valid(params)) bad = "parameters must be an array of {\"key\": string, \"value\": any}";
    else if (limits && !json_is_object(limits)) bad = "limits must be an object";
    else if (feed && (!json_is_string(feed) || !entity_path_valid(json_string_value(feed)))) bad = "Feed name is not valid";
    if (bad || json_object_set_new(doc, "parameters", params ? json_deep_copy(params) : json_array()) < 0 ||
        json_object_set_new(doc, "limits", limits ? json_deep_copy(limits) : json_object()) < 0) {
        snprintf(err, errsize, "%s", bad ? bad : "The server ran out of memory");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *entity_rule_build(const json_t *body, const json_t *old, char *err, size_t errsize) {
    return common_build(body, old, "rule", err, errsize);
}

const char *entity_ref_result_name(entity_ref_result r) {
    switch (r) {
    case ENTITY_REF_OK: return "ok";
    case ENTITY_REF_BAD_NAME: return "not a valid entity name: use NAME or /NAMESPACE/NAME";
    case ENTITY_REF_PACKAGED: return "in a package, where triggers cannot be";
    }
    return "unknown";
}

/* Copies [p, p+len) into out (size cap) if it is a valid name. */
static int take(const char *p, size_t len, char *out, size_t cap) {
    if (len == 0 || len >= cap) return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

entity_ref_result entity_resolve(const char *caller_ns, const char *given, char ns_out[ENTITY_NS_MAX],
                                 char name_out[ENTITY_NAME_MAX]) {
    ns_out[0] = name_out[0] = '\0';
    if (!given || !caller_ns) return ENTITY_REF_BAD_NAME;
    if (given[0] != '/') {
        if (strchr(given, '/')) return ENTITY_REF_PACKAGED;
        if (take(given, strlen(given), name_out, ENTITY_NAME_MAX) < 0 || !action_name_valid(name_out))
            return ENTITY_REF_BAD_NAME;
        snprintf(ns_out, ENTITY_NS_MAX, "%s", caller_ns);
        return ENTITY_REF_OK;
    }
    const char *ns = given + 1, *slash = strchr(ns, '/');
    if (!slash) return ENTITY_REF_BAD_NAME;
    const char *name = slash + 1;
    if (strchr(name, '/')) return ENTITY_REF_PACKAGED;
    if (take(ns, (size_t)(slash - ns), ns_out, ENTITY_NS_MAX) < 0 ||
        take(name, strlen(name), name_out, ENTITY_NAME_MAX) < 0 || !action_name_valid(name_out) ||
        (strcmp(ns_out, "_") != 0 && !action_name_valid(ns_out))) {
        ns_out[0] = name_out[0] = '\0';
        return ENTITY_REF_BAD_NAME;
    }
    if (!strcmp(ns_out, "_")) snprintf(ns_out, ENTITY_NS_MAX, "%s", caller_ns);
    return ENTITY_REF_OK;
}
