/* egress_config.c - the operator's egress policies and the action's
 * annotation; see egress_config.h. */
#include "host/gateway/egress_config.h"

#include "common/egress_policy.h"
#include "common/errmsg.h"
#include "host/util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 when v is a valid policy object, else -1 with *err. */
static int policy_ok(const json_t *v, char **err) {
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text) return errmsg(err, "egress policy: not a JSON object");
    egress_policy p;
    int rc = egress_policy_parse(text, strlen(text), &p, err);
    if (rc == 0) egress_policy_free(&p);
    free(text);
    return rc;
}

json_t *egress_config_load(const char *path, char **err) {
    json_error_t je;
    json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!c) {
        errmsg(err, "--egress %s: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    if (!json_is_object(c)) {
        json_decref(c);
        errmsg(err, "--egress %s: must be a JSON object of namespace -> policy", path);
        return NULL;
    }
    const char *ns;
    json_t *v;
    json_object_foreach(c, ns, v) {
        char *why = NULL;
        if (policy_ok(v, &why) < 0) {
            errmsg(err, "--egress %s: namespace '%s': %s", path, ns, why ? why : "invalid");
            free(why);
            json_decref(c);
            return NULL;
        }
    }
    return c;
}

static const json_t *annotation(const json_t *annotations) {
    size_t i;
    json_t *e;
    json_array_foreach(annotations, i, e) {
        const char *k = json_get_str(e, "key", NULL);
        if (k && strcmp(k, EGRESS_ANNOTATION) == 0) return json_object_get(e, "value");
    }
    return NULL;
}

char *egress_config_for(const json_t *config, const char *ns, const json_t *annotations) {
    const json_t *p = json_object_get(config, ns);
    if (!p) p = json_object_get(config, "*");
    const json_t *a = json_is_array(annotations) ? annotation(annotations) : NULL;
    /* The common case, on every invocation: no policy of the namespace's
     * and no annotation; the text needs no tree. */
    if (!p && !json_is_object(a)) return strdup("[" EGRESS_DEFAULT_POLICY "]");
    json_t *list = json_array();
    json_t *def = p ? NULL : json_loads(EGRESS_DEFAULT_POLICY, 0, NULL);
    char *out = NULL;
    if (list && (p || def) && json_array_append(list, p ? (json_t *)p : def) == 0 &&
        (!json_is_object(a) || json_array_append(list, (json_t *)a) == 0))
        out = json_dumps(list, JSON_COMPACT);
    json_decref(def);
    json_decref(list);
    return out;
}

int egress_annotation_check(const json_t *annotations, char *err, size_t errsize) {
    const json_t *a = json_is_array(annotations) ? annotation(annotations) : NULL;
    if (!a) return 0;
    char *why = NULL;
    if (policy_ok(a, &why) < 0) {
        /* the parser's messages start with "egress policy: " */
        const char *w = why ? why : "invalid";
        if (strncmp(w, "egress policy: ", 15) == 0) w += 15;
        snprintf(err, errsize, "The annotation %s must be an egress policy: %s", EGRESS_ANNOTATION, w);
        free(why);
        return -1;
    }
    return 0;
}
