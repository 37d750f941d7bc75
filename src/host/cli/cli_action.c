/* cli_action.c - `tfaas action create|update|get|list|delete|invoke`: builds
 * OpenWhisk action documents and invocation requests, prints the replies. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_file.h"
#include "host/cli/cli_output.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_KIND "js:duktape"

/* A zip archive (a zip action): its local-header signature, as a zip
 * written by any tool starts; JavaScript text never does. */
static int is_zip(const char *data, size_t len) { return len >= 4 && !memcmp(data, "PK\3\4", 4); }

/* Reads the code file into a JSON string: the text, or for a zip archive
 * its base64 with *binary set (OpenWhisk's form of a zip action). NULL
 * after printing the reason. */
static json_t *load_code(const char *path, int *binary) {
    char *data = NULL, err[512];
    size_t len = 0;
    if (cli_file_read(path, CLI_FILE_MAX, &data, &len, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return NULL;
    }
    json_t *code = NULL;
    *binary = is_zip(data, len);
    if (*binary) {
        char *b64 = malloc((len + 2) / 3 * 4 + 1);
        if (b64) code = json_stringn(b64, (size_t)EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)data, (int)len));
        free(b64);
        if (!code) fprintf(stderr, "error: out of memory\n");
    } else if (!(code = json_stringn(data, len))) {
        fprintf(stderr, "error: %s is neither UTF-8 text nor a zip archive\n", strcmp(path, "-") ? path : "(stdin)");
    }
    free(data);
    return code;
}

/* --sequence A,B,C: {kind: "sequence", components: ["A", "B", "C"]}. NULL
 * after printing why. */
static json_t *sequence_exec(const char *list) {
    json_t *comps = json_array();
    const char *p = list;
    while (comps && *p) {
        size_t n = strcspn(p, ",");
        json_t *name = n ? json_stringn(p, n) : NULL;
        if (!name || json_array_append_new(comps, name)) {
            fprintf(stderr, "error: --sequence takes action names separated by ',' (UTF-8, none empty)\n");
            json_decref(comps);
            return NULL;
        }
        p += n + (p[n] == ',');
    }
    if (json_array_size(comps) == 0) {
        fprintf(stderr, "error: --sequence needs at least one action name\n");
        json_decref(comps);
        return NULL;
    }
    return json_pack("{s:s s:o}", "kind", "sequence", "components", comps);
}

/* --web true|false|raw: OpenWhisk's web-export (and raw-http) annotations,
 * set over whatever annotations doc carries. 0 or -1 (out of memory). */
static int web_annotations(json_t *doc, const char *web) {
    json_t *anns = json_object_get(doc, "annotations");
    if (!json_is_array(anns)) {
        if (json_object_set_new(doc, "annotations", anns = json_array())) return -1;
    }
    /* the entries are replaced, not appended: an update may hold them already */
    const char *keys[] = {"web-export", "raw-http"};
    int values[] = {strcmp(web, "false") != 0, !strcmp(web, "raw")};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *e;
        int set = 0;
        json_array_foreach(anns, i, e) {
            if (strcmp(cli_json_str(e, "key", ""), keys[k]) != 0) continue;
            if (json_object_set_new(e, "value", json_boolean(values[k]))) return -1;
            set = 1;
        }
        if (!set && json_array_append_new(anns, json_pack("{s:s s:b}", "key", keys[k], "value", values[k]))) return -1;
    }
    return 0;
}

/* Builds the PUT body from the flags, keeping what `existing` (an action
 * document from GET, or NULL) has for everything the flags leave unset.
 * code_path may be NULL only when existing has an exec. NULL after printing. */
static json_t *action_doc(const struct cli_args *a, const char *code_path, json_t *existing) {
    json_t *old_exec = json_object_get(existing, "exec");
    json_t *exec = json_is_object(old_exec) ? json_deep_copy(old_exec) : json_object();
    json_t *doc = json_object();
    int binary = json_is_true(json_object_get(exec, "binary"));
    if (!exec || !doc) goto oom;
    if (a->sequence) {
        /* exec {kind: sequence, components}: the server resolves the names */
        json_decref(exec);
        exec = sequence_exec(a->sequence);
        if (!exec) goto fail;
        if (json_object_set(doc, "exec", exec)) goto oom;
    } else if (code_path) {
        json_t *code = load_code(code_path, &binary);
        if (!code) goto fail;
        if (json_object_set_new(exec, "code", code)) goto oom;
        json_object_set_new(exec, "binary", json_boolean(binary));
    } else if (!strcmp(cli_json_str(exec, "kind", ""), "sequence")) {
        if (json_object_set(doc, "exec", exec)) goto oom; /* an update keeps the components */
        goto rest;
    } else if (!json_is_string(json_object_get(exec, "code"))) {
        fprintf(stderr, "error: the existing action has no code to keep; give a FILE\n");
        goto fail;
    }
    if (a->sequence) goto rest;
    /* a zip runs on V8 only: nodejs:default unless --kind says otherwise */
    const char *kind = a->kind ? a->kind : cli_json_str(exec, "kind", binary ? "nodejs:default" : DEFAULT_KIND);
    json_t *jkind = json_string(kind), *jmain = a->main_name ? json_string(a->main_name) : NULL;
    if (!jkind || (a->main_name && !jmain)) {
        json_decref(jkind);
        json_decref(jmain);
        fprintf(stderr, "error: --kind and --main must be UTF-8 text\n");
        goto fail;
    }
    if (json_object_set_new(exec, "kind", jkind)) goto oom;
    if (jmain && json_object_set_new(exec, "main", jmain)) goto oom;
    if (json_object_set(doc, "exec", exec)) goto oom;
rest:;
    json_t *params = a->params_given || !existing ? cli_keyvalue_array(a->params)
                                                  : json_incref(json_object_get(existing, "parameters"));
    if (params && json_object_set_new(doc, "parameters", params)) goto oom;
    json_t *annots = a->annotations_given || !existing
                         ? cli_keyvalue_array(a->annotations)
                         : json_incref(json_object_get(existing, "annotations"));
    if (annots && json_object_set_new(doc, "annotations", annots)) goto oom;
    if (a->web && web_annotations(doc, a->web) < 0) goto oom;
    json_t *limits = cli_limits_json(a, json_object_get(existing, "limits"));
    if (!limits) goto oom;
    if (json_object_size(limits) == 0) json_decref(limits); /* server defaults */
    else if (json_object_set_new(doc, "limits", limits)) goto oom;
    json_decref(exec);
    return doc;
oom:
    fprintf(stderr, "error: out of memory\n");
fail:
    json_decref(exec);
    json_decref(doc);
    return NULL;
}

static int put_action(struct cli_ctx *c, json_t *doc, bool overwrite, const char *verb) {
    return cli_put_entity(c, "actions", "action", doc, overwrite, verb);
}

int cli_action_create(struct cli_ctx *c) {
    if (c->args.confidential && (c->args.web || c->args.sequence)) {
        /* its parameters and results would cross the host in the clear */
        fprintf(stderr, "error: a confidential action cannot be a web action or a sequence\n");
        return CLI_EXIT_USAGE;
    }
    if (c->args.confidential) return cli_confidential_create(c);
    if (c->args.sequence ? c->args.npos != 1 : c->args.npos != 2) {
        fprintf(stderr, "error: %s\nusage: tfaas action create NAME FILE [options]\n"
                        "       tfaas action create NAME --sequence A,B,... [options]\n",
                c->args.sequence ? "--sequence takes no FILE" : "missing FILE");
        return CLI_EXIT_USAGE;
    }
    if (c->args.policy || c->args.ninvoker_keys) {
        fprintf(stderr, "error: --policy and --invoker-key need --confidential\n");
        return CLI_EXIT_USAGE;
    }
    json_t *doc = action_doc(&c->args, c->args.pos[1], NULL);
    if (!doc) return CLI_EXIT_FAIL;
    int rc = put_action(c, doc, false, "created");
    json_decref(doc);
    return rc;
}

int cli_action_update(struct cli_ctx *c) {
    if (c->args.confidential && (c->args.web || c->args.sequence)) {
        fprintf(stderr, "error: a confidential action cannot be a web action or a sequence\n");
        return CLI_EXIT_USAGE;
    }
    if (c->args.confidential) return cli_confidential_update(c);
    if (c->args.sequence && c->args.npos != 1) {
        fprintf(stderr, "error: --sequence takes no FILE\n");
        return CLI_EXIT_USAGE;
    }
    if (c->args.policy || c->args.ninvoker_keys) {
        fprintf(stderr, "error: --policy and --invoker-key need --confidential\n");
        return CLI_EXIT_USAGE;
    }
    /* Like wsk: what the flags do not mention stays as it is, so start from
     * the current document; a missing action is created. */
    struct cli_reply cur;
    int rc = cli_api(c, "GET", "actions", c->args.pos[0], NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, &cur);
    if (rc) return rc;
    json_t *existing = NULL;
    if (cur.status == 200 && json_is_object(cur.json)) existing = cur.json;
    else if (cur.status != 404) {
        rc = cli_report_error(&cur);
        cli_reply_free(&cur);
        return rc;
    }
    const char *file = c->args.npos > 1 ? c->args.pos[1] : NULL;
    if (!existing && !file) {
        fprintf(stderr, "error: action %s does not exist; give a FILE to create it\n", c->args.pos[0]);
        cli_reply_free(&cur);
        return CLI_EXIT_FAIL;
    }
    json_t *doc = action_doc(&c->args, file, existing);
    cli_reply_free(&cur);
    if (!doc) return CLI_EXIT_FAIL;
    rc = put_action(c, doc, true, "updated");
    json_decref(doc);
    return rc;
}

int cli_action_get(struct cli_ctx *c) {
    struct cli_reply r;
    const char *name = c->args.pos[0];
    int rc = cli_api(c, "GET", "actions", name, NULL, c->args.code ? NULL : "code=false", NULL,
                     CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_object(r.json)) {
        rc = cli_report_error(&r);
    } else if (c->args.json) {
        cli_print_raw(stdout, r.raw.body, r.raw.len);
    } else {
        if (!c->args.code) json_object_del(json_object_get(r.json, "exec"), "code");
        printf("ok: got action %s\n", name);
        cli_print_json(stdout, r.json);
    }
    cli_reply_free(&r);
    return rc;
}

/* The kind of a listed action: exec.kind, or OpenWhisk's "exec" annotation. */
static const char *listed_kind(const json_t *action) {
    const char *kind = cli_json_str(json_object_get(action, "exec"), "kind", NULL);
    if (kind) return kind;
    size_t i;
    json_t *ann;
    json_array_foreach(json_object_get(action, "annotations"), i, ann)
        if (!strcmp(cli_json_str(ann, "key", ""), "exec")) return cli_json_str(ann, "value", "-");
    return "-";
}

void cli_page_query(const struct cli_args *a, char *q, size_t qlen) {
    size_t n = strlen(q);
    if (a->limit != CLI_UNSET)
        n += (size_t)snprintf(q + n, qlen - n, "%slimit=%ld", n ? "&" : "", a->limit);
    if (a->skip != CLI_UNSET && n < qlen)
        snprintf(q + n, qlen - n, "%sskip=%ld", n ? "&" : "", a->skip);
}

int cli_action_list(struct cli_ctx *c) {
    char query[96] = "";
    cli_page_query(&c->args, query, sizeof query);
    struct cli_reply r;
    int rc = cli_api(c, "GET", "actions", NULL, NULL, *query ? query : NULL, NULL,
                     CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_array(r.json)) {
        rc = cli_report_error(&r);
    } else if (c->args.json) {
        cli_print_raw(stdout, r.raw.body, r.raw.len);
    } else {
        printf("%-40s %-16s %s\n", "NAME", "KIND", "VERSION");
        size_t i;
        json_t *a;
        json_array_foreach(r.json, i, a)
            printf("%-40s %-16s %s\n", cli_json_str(a, "name", "?"), listed_kind(a),
                   cli_json_str(a, "version", "-"));
    }
    cli_reply_free(&r);
    return rc;
}

int cli_action_delete(struct cli_ctx *c) { return cli_delete_entity(c, "actions", "action"); }

/* Prints a blocking invocation's reply (200: succeeded, 502: the action failed). */
static int print_blocking(struct cli_ctx *c, const struct cli_reply *r) {
    const char *name = c->args.pos[0];
    bool ok = r->status == 200;
    if (c->args.json) {
        cli_print_raw(stdout, r->raw.body, r->raw.len);
    } else if (c->args.result) {
        cli_print_json(stdout, r->json);
    } else {
        printf("ok: invoked %s with id %s\n", name, cli_json_str(r->json, "activationId", "?"));
        cli_print_json(stdout, r->json);
    }
    if (ok) return CLI_EXIT_OK;
    const json_t *result = c->args.result ? r->json
                                          : json_object_get(json_object_get(r->json, "response"), "result");
    fprintf(stderr, "error: action %s failed: %s\n", name,
            cli_json_str(result, "error", "the activation did not succeed"));
    return CLI_EXIT_FAIL;
}

int cli_action_invoke(struct cli_ctx *c) {
    if (c->args.confidential) return cli_confidential_invoke(c);
    if (c->args.expect_ns || c->args.expect_code_hash || c->args.expect_version != CLI_UNSET || c->args.sign_with) {
        fprintf(stderr, "error: --expect-* and --sign-with need --confidential\n");
        return CLI_EXIT_USAGE;
    }
    const char *name = c->args.pos[0];
    bool blocking = c->args.blocking || c->args.result;
    const char *query = c->args.result ? "blocking=true&result=true"
                        : blocking     ? "blocking=true" : "blocking=false";
    struct cli_reply r;
    int rc = cli_api(c, "POST", "actions", name, NULL, query, c->args.params,
                     blocking ? CLI_HTTP_BLOCKING_TIMEOUT_S : CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (blocking && (r.status == 200 || r.status == 502) && r.json) {
        rc = print_blocking(c, &r);
    } else if (r.status == 202 && cli_json_str(r.json, "activationId", NULL)) {
        const char *id = cli_json_str(r.json, "activationId", NULL);
        if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
        else if (blocking)
            printf("ok: invoked %s with id %s (still running: see `tfaas activation get %s`)\n",
                   name, id, id);
        else printf("ok: invoked %s with id %s\n", name, id);
    } else {
        rc = cli_report_error(&r);
    }
    cli_reply_free(&r);
    return rc;
}
