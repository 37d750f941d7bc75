/* cli_pin.c - the client's pins of confidential functions; see cli_pin.h. */
#include "host/cli/cli_pin.h"

#include "common/labels.h"
#include "host/cli/cli_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PINS_MAX (4u << 20) /* a pin file larger than this is refused */

void cli_fn_expect_free(struct cli_fn_expect *e) {
    free(e->ns);
    free(e->name);
    free(e->code_hash);
    memset(e, 0, sizeof *e);
}

char *cli_fn_pins_path(void) {
    return cli_file_beside_config("TFAAS_FUNCTION_PINS", "function-pins.json");
}

/* The whole pin file: 1 when absent, 0 with *out ({"functions": {...}}),
 * -1 with err. */
static int load_all(const char *path, json_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (access(path, F_OK) != 0) return 1;
    char *text = NULL;
    size_t len = 0;
    if (cli_file_read(path, PINS_MAX, &text, &len, err, errlen) < 0) return -1;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(json_object_get(j, "functions"))) {
        json_decref(j);
        snprintf(err, errlen, "the function pin file %s is malformed", path);
        return -1;
    }
    *out = j;
    return 0;
}

int cli_fn_pin_load(const char *path, const char *name, struct cli_fn_expect *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    json_t *all = NULL;
    int rc = load_all(path, &all, err, errlen);
    if (rc != 0) return rc;
    json_t *p = json_object_get(json_object_get(all, "functions"), name);
    const char *ns = json_string_value(json_object_get(p, "namespace"));
    const char *pname = json_string_value(json_object_get(p, "name"));
    const char *hash = json_string_value(json_object_get(p, "code_hash"));
    json_int_t version = json_integer_value(json_object_get(p, "version"));
    if (!p) {
        rc = 1;
    } else if (!ns || !pname || !hash || strlen(hash) != 64 || version < 1 || version > DEPLOY_VERSION_MAX) {
        snprintf(err, errlen, "the pin of '%.256s' in %s is malformed", name, path);
        rc = -1;
    } else if (!(out->ns = strdup(ns)) || !(out->name = strdup(pname)) || !(out->code_hash = strdup(hash))) {
        cli_fn_expect_free(out);
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else {
        out->version = version;
    }
    json_decref(all);
    return rc;
}

int cli_fn_pin_save(const char *path, const char *name, const struct cli_fn_expect *e, char *err, size_t errlen) {
    json_t *all = NULL;
    int rc = load_all(path, &all, err, errlen);
    if (rc < 0) return -1;
    if (rc == 1 && !(all = json_pack("{s:{}}", "functions"))) return snprintf(err, errlen, "out of memory"), -1;
    json_t *pin = json_pack("{s:s, s:s, s:s, s:I, s:I}", "namespace", e->ns, "name", e->name, "code_hash",
                            e->code_hash, "version", e->version, "pinned_at", (json_int_t)time(NULL));
    rc = pin && json_object_set_new(json_object_get(all, "functions"), name, pin) == 0
             ? cli_file_write_json(path, all, "function pin file", err, errlen)
             : (snprintf(err, errlen, "out of memory"), -1);
    json_decref(all);
    return rc;
}
