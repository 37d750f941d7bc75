/* catalog.c - the whisk.system catalog's contents and its installation;
 * see catalog.h. The actions are written here from the behaviour OpenWhisk
 * documents for its utils package; they are ES5, so they run on Duktape.
 * Tables: a package or action more is a row more. */
#include "host/gateway/catalog.h"

#include "host/gateway/action_doc.h"
#include "host/store/store_packages.h"
#include "host/util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name, *description;
} catalog_package;

typedef struct {
    const char *package, *name, *description, *code;
} catalog_action;

static const catalog_package PACKAGES[] = {
    {"utils", "Building blocks that format and assemble data"},
    /* The alarm feeds (alarm, once, interval) are served by tfaas itself: the
     * triggers work adds their rows to ACTIONS. */
    {"alarms", "Alarms and periodic utility"},
};

static const catalog_action ACTIONS[] = {
    {"utils", "echo", "Returns the input",
     "function main(params) { return params; }"},
    {"utils", "cat", "Concatenates input into a string",
     "function main(params) {\n"
     "  var lines = params.lines || [];\n"
     "  if (!(lines instanceof Array)) return { error: 'lines must be an array' };\n"
     "  return { lines: lines, payload: lines.join('\\n') };\n"
     "}"},
    {"utils", "sort", "Sorts an array",
     "function main(params) {\n"
     "  var lines = params.lines || [];\n"
     "  if (!(lines instanceof Array)) return { error: 'lines must be an array' };\n"
     "  var sorted = lines.slice().sort();\n"
     "  return { length: sorted.length, lines: sorted };\n"
     "}"},
    {"utils", "split", "Splits a string into an array of strings",
     "function main(params) {\n"
     "  var payload = params.payload === undefined ? '' : String(params.payload);\n"
     "  var separator = params.separator === undefined ? '\\n' : String(params.separator);\n"
     "  return { lines: payload.split(separator), payload: payload };\n"
     "}"},
    {"utils", "head", "Extracts the head of an array",
     "function main(params) {\n"
     "  var lines = params.lines || [];\n"
     "  if (!(lines instanceof Array)) return { error: 'lines must be an array' };\n"
     "  var num = params.num === undefined ? 1 : Number(params.num);\n"
     "  if (!(num >= 0)) return { error: 'num must be a non-negative number' };\n"
     "  return { lines: lines.slice(0, num), num: num };\n"
     "}"},
    {"utils", "date", "Current date and time",
     "function main(params) { return { date: new Date().toISOString() }; }"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int fail(char **err, const char *what, const char *name) {
    if (asprintf(err, "whisk.system catalog: cannot install %s '%s': %s", what, name, store_last_error()) < 0)
        *err = NULL;
    return -1;
}

static json_t *description(const char *text) {
    return json_pack("[{ss ss}]", "key", "description", "value", text);
}

static int install_package(store *s, const catalog_package *p, char **err) {
    json_t *want = json_pack("{s{} s[] so sb}", "binding", "parameters", "annotations", description(p->description),
                             "publish", 1);
    json_t *have = NULL;
    store_status st = store_package_get(s, CATALOG_NAMESPACE, p->name, &have);
    int same = st == STORE_OK && json_equal(json_object_get(have, "annotations"), json_object_get(want, "annotations")) &&
               json_is_true(json_object_get(have, "publish"));
    json_decref(have);
    if (st == STORE_OK && same) { json_decref(want); return 0; }
    st = st == STORE_ERROR ? STORE_ERROR : store_package_put(s, CATALOG_NAMESPACE, p->name, want, 0, 1, NULL);
    json_decref(want);
    return st == STORE_OK ? 0 : fail(err, "package", p->name);
}

static int install_action(store *s, const catalog_action *a, char **err) {
    char name[2 * ACTION_MAX_NAME + 2];
    snprintf(name, sizeof name, "%s/%s", a->package, a->name);
    json_t *have = NULL;
    store_status st = store_action_get(s, CATALOG_NAMESPACE, name, &have);
    const char *code = json_string_value(json_object_get(json_object_get(have, "exec"), "code"));
    int same = st == STORE_OK && code && !strcmp(code, a->code);
    json_decref(have);
    if (same) return 0;
    if (st == STORE_ERROR) return fail(err, "action", name);
    json_t *body = json_pack("{s{ss ss} so}", "exec", "kind", "js:duktape", "code", a->code, "annotations",
                             description(a->description));
    char msg[256];
    json_t *doc = body ? action_doc_build(body, NULL, msg, sizeof msg) : NULL;
    json_decref(body);
    st = doc ? store_action_put(s, CATALOG_NAMESPACE, name, doc, 1, NULL) : STORE_ERROR;
    json_decref(doc);
    return st == STORE_OK ? 0 : fail(err, "action", name);
}

int catalog_install(store *s, char **err) {
    *err = NULL;
    store_status st = store_namespace_create(s, CATALOG_NAMESPACE, NULL, NULL, NULL, NULL);
    if (st == STORE_CONFLICT) {
        /* It exists: give it a fresh credential nobody learns, so whoever may
         * have held one (a state from before tfaas admin refused the name)
         * can no longer write here. */
        char uuid[STORE_UUID_LEN + 1], key[STORE_KEY_LEN + 1];
        if (ids_uuid(uuid) != 0 || ids_secret(key, STORE_KEY_LEN) != 0) {
            *err = strdup("whisk.system catalog: cannot draw a random credential");
            return -1;
        }
        st = store_namespace_set_credential(s, CATALOG_NAMESPACE, uuid, key);
        explicit_bzero(key, sizeof key);
    }
    if (st != STORE_OK) return fail(err, "namespace", CATALOG_NAMESPACE);
    for (size_t i = 0; i < N(PACKAGES); i++)
        if (install_package(s, &PACKAGES[i], err) < 0) return -1;
    for (size_t i = 0; i < N(ACTIONS); i++)
        if (install_action(s, &ACTIONS[i], err) < 0) return -1;
    return 0;
}
