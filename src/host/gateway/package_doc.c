/* package_doc.c - package PUT validation; see package_doc.h. */
#include "host/gateway/package_doc.h"

#include "host/gateway/action_doc.h"
#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

const char *package_doc_result_name(package_doc_result r) {
    switch (r) {
    case PACKAGE_DOC_OK: return "ok";
    case PACKAGE_DOC_MALFORMED: return "malformed";
    case PACKAGE_DOC_RESERVED: return "reserved name";
    case PACKAGE_DOC_BAD_BINDING: return "bad binding";
    case PACKAGE_DOC_BECOME_BINDING: return "package cannot become a binding";
    }
    return "unknown";
}

int package_doc_is_binding(const json_t *doc) {
    return json_get_str(json_object_get(doc, "binding"), "name", NULL) != NULL;
}

/* body's member, else old's. */
static const json_t *pick(const json_t *body, const json_t *old, const char *key) {
    const json_t *v = json_object_get(body, key);
    return v ? v : json_object_get(old, key);
}

/* The binding member of the body as a new {namespace, name} or {}; NULL
 * when malformed. */
static json_t *binding_of(const json_t *b, const char *caller) {
    if (!b || (json_is_object(b) && json_object_size(b) == 0)) return json_object();
    if (!json_is_object(b)) return NULL;
    const json_t *nsv = json_object_get(b, "namespace"), *namev = json_object_get(b, "name");
    if (!json_is_string(namev) || (nsv && !json_is_string(nsv))) return NULL;
    const char *ns = nsv ? json_string_value(nsv) : "_";
    const char *name = json_string_value(namev);
    /* by length too: a NUL inside a name would cut it short */
    if (strlen(name) != json_string_length(namev) || (nsv && strlen(ns) != json_string_length(nsv))) return NULL;
    if (!strcmp(ns, "_")) ns = caller;
    if (!action_name_valid(ns) || !action_name_valid(name)) return NULL;
    return json_pack("{ss ss}", "namespace", ns, "name", name);
}

package_doc_result package_doc_build(const json_t *body, const json_t *old, const char *name, const char *caller,
                                     json_t **out, char *err, size_t errsize) {
    *out = NULL;
    if (!strcmp(name, "default")) {
        snprintf(err, errsize, "Package name '%s' is reserved.", name);
        return PACKAGE_DOC_RESERVED;
    }
    if (!json_is_object(body)) {
        snprintf(err, errsize, "The request content was malformed: the package must be a JSON object");
        return PACKAGE_DOC_MALFORMED;
    }
    const json_t *params = pick(body, old, "parameters"), *annots = pick(body, old, "annotations");
    const json_t *publish = pick(body, old, "publish");
    if ((params && !action_kv_list_valid(params)) || (annots && !action_kv_list_valid(annots))) {
        snprintf(err, errsize, "%s must be an array of {\"key\": string, \"value\": any}",
                 params && !action_kv_list_valid(params) ? "parameters" : "annotations");
        return PACKAGE_DOC_MALFORMED;
    }
    if (publish && !json_is_boolean(publish)) {
        snprintf(err, errsize, "publish must be true or false");
        return PACKAGE_DOC_MALFORMED;
    }
    const json_t *given = json_object_get(body, "binding");
    json_t *binding = binding_of(given, caller);
    if (!binding) {
        snprintf(err, errsize, "binding must be {} or {\"namespace\": NS, \"name\": PACKAGE} of valid entity names");
        return PACKAGE_DOC_BAD_BINDING;
    }
    if (old && json_object_size(binding) > 0 && !package_doc_is_binding(old)) {
        json_decref(binding);
        snprintf(err, errsize, "Resource is a package and cannot be converted into a binding.");
        return PACKAGE_DOC_BECOME_BINDING;
    }
    if (old && json_object_size(binding) == 0 && package_doc_is_binding(old)) { /* an update keeps its binding */
        json_decref(binding);
        binding = json_deep_copy(json_object_get(old, "binding"));
    }
    json_t *anns = annots ? json_deep_copy(annots) : json_array();
    for (size_t i = json_array_size(anns); i-- > 0;)
        if (!strcmp(json_get_str(json_array_get(anns, i), "key", ""), "binding")) json_array_remove(anns, i);
    if (anns && json_object_size(binding) > 0) json_kv_set(anns, "binding", json_deep_copy(binding));
    json_t *doc = json_pack("{so so so sb}", "binding", binding, "parameters",
                            params ? json_deep_copy(params) : json_array(), "annotations", anns, "publish",
                            json_is_true(publish));
    if (!doc) {
        snprintf(err, errsize, "out of memory");
        return PACKAGE_DOC_MALFORMED;
    }
    *out = doc;
    return PACKAGE_DOC_OK;
}
