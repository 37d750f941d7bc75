/* cli_trigger.c - `tfaas trigger create|update|get|list|delete|fire`, and
 * the feed protocol wsk speaks for `--feed`: after the trigger is created
 * the feed action is invoked with lifecycleEvent CREATE (and DELETE before
 * the trigger is deleted), the trigger carrying a `feed` annotation. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Invokes the feed action (c->args.feed, /NS/PKG/NAME) for trigger NAME with
 * lifecycleEvent `event` and the -p parameters; 0 when it succeeded. */
static int feed_event(struct cli_ctx *c, const char *feed, const char *event) {
    char ns[257], pkg[257], action[257];
    if (sscanf(feed, "/%256[^/]/%256[^/]/%256s", ns, pkg, action) != 3 || strchr(action, '/')) {
        fprintf(stderr, "error: --feed must be /NAMESPACE/PACKAGE/ACTION, e.g. /whisk.system/alarms/alarm\n");
        return CLI_EXIT_USAGE;
    }
    json_t *params = json_deep_copy(c->args.params);
    char trigger[600];
    snprintf(trigger, sizeof trigger, "/_/%s", c->args.pos[0]);
    if (!params || json_object_set_new(params, "lifecycleEvent", json_string(event)) ||
        json_object_set_new(params, "triggerName", json_string(trigger)) ||
        json_object_set_new(params, "authKey", json_string(c->conn.auth ? c->conn.auth : ""))) {
        json_decref(params);
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    struct cli_reply r;
    c->ns = ns;
    int rc = cli_api(c, "POST", "actions", pkg, action, "blocking=true", params, CLI_HTTP_BLOCKING_TIMEOUT_S, &r);
    c->ns = NULL;
    json_decref(params);
    if (rc) return rc;
    if (r.status != 200) {
        const json_t *result = json_object_get(json_object_get(r.json, "response"), "result");
        const char *why = cli_json_str(result, "error", NULL);
        if (why) fprintf(stderr, "error: feed %s refused %s: %s\n", feed, event, why);
        else cli_report_error(&r);
        rc = CLI_EXIT_FAIL;
    }
    cli_reply_free(&r);
    return rc;
}

int cli_trigger_create(struct cli_ctx *c) {
    const struct cli_args *a = &c->args;
    json_t *annots = json_deep_copy(a->annotations);
    /* With --feed the parameters are the feed's, as wsk does. */
    json_t *doc = json_pack("{s:o, s:o}", "parameters", cli_keyvalue_array(a->feed ? NULL : a->params), "annotations",
                            cli_keyvalue_array(annots));
    json_t *feed = a->feed ? json_string(a->feed) : NULL;
    if (doc && feed) json_array_append_new(json_object_get(doc, "annotations"), json_pack("{s:s, s:o}", "key", "feed", "value", feed));
    json_decref(annots);
    if (!doc || (a->feed && !feed)) {
        json_decref(doc);
        fprintf(stderr, "error: out of memory, or --feed is not UTF-8\n");
        return CLI_EXIT_FAIL;
    }
    int rc = cli_put_entity(c, "triggers", "trigger", doc, false, "created");
    json_decref(doc);
    if (rc || !a->feed) return rc;
    rc = feed_event(c, a->feed, "CREATE");
    if (rc) {
        /* wsk's order: a trigger whose feed refused is removed again */
        cli_delete_entity(c, "triggers", NULL);
        return rc;
    }
    return CLI_EXIT_OK;
}

/* GET of the trigger: 0 with *r (200 JSON object), else the exit status. */
static int fetch(struct cli_ctx *c, struct cli_reply *r, bool missing_ok) {
    int rc = cli_api(c, "GET", "triggers", c->args.pos[0], NULL, NULL, NULL, CLI_HTTP_TIMEOUT_S, r);
    if (rc) return rc;
    if ((r->status == 200 && json_is_object(r->json)) || (missing_ok && r->status == 404)) return 0;
    rc = cli_report_error(r);
    cli_reply_free(r);
    return rc;
}

int cli_trigger_update(struct cli_ctx *c) {
    const struct cli_args *a = &c->args;
    struct cli_reply cur;
    int rc = fetch(c, &cur, true);
    if (rc) return rc;
    json_t *doc = json_object();
    if (doc && a->params_given) json_object_set_new(doc, "parameters", cli_keyvalue_array(a->params));
    if (doc && a->annotations_given) {
        /* a feed annotation stays: the schedule still fires the trigger */
        json_t *annots = cli_keyvalue_array(a->annotations);
        size_t i;
        json_t *old;
        json_array_foreach(json_object_get(cur.json, "annotations"), i, old)
            if (!strcmp(cli_json_str(old, "key", ""), "feed")) json_array_append(annots, old);
        json_object_set_new(doc, "annotations", annots);
    }
    cli_reply_free(&cur);
    if (!doc) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    rc = cli_put_entity(c, "triggers", "trigger", doc, true, "updated");
    json_decref(doc);
    return rc;
}

int cli_trigger_get(struct cli_ctx *c) { return cli_get_entity(c, "triggers", "trigger"); }

int cli_trigger_list(struct cli_ctx *c) { return cli_list_entities(c, "triggers"); }

int cli_trigger_delete(struct cli_ctx *c) {
    struct cli_reply r;
    int rc = fetch(c, &r, false);
    if (rc) return rc;
    /* The feed forgets the trigger first (the server would drop its alarm
     * with the trigger anyway, but another feed may be elsewhere). */
    const char *feed = NULL;
    size_t i;
    json_t *ann;
    json_array_foreach(json_object_get(r.json, "annotations"), i, ann)
        if (!strcmp(cli_json_str(ann, "key", ""), "feed")) feed = cli_json_str(ann, "value", NULL);
    if (feed && feed_event(c, feed, "DELETE") != 0)
        fprintf(stderr, "warning: the feed did not delete its schedule; deleting the trigger anyway\n");
    cli_reply_free(&r);
    return cli_delete_entity(c, "triggers", "trigger");
}

int cli_trigger_fire(struct cli_ctx *c) {
    const char *name = c->args.pos[0];
    struct cli_reply r;
    int rc = cli_api(c, "POST", "triggers", name, NULL, NULL, c->args.params, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status == 202 && cli_json_str(r.json, "activationId", NULL)) {
        if (c->args.json) cli_print_raw(stdout, r.raw.body, r.raw.len);
        else printf("ok: triggered %s with id %s\n", name, cli_json_str(r.json, "activationId", "?"));
    } else if (r.status == 204) {
        if (!c->args.json) printf("ok: triggered %s; it has no active rule, so nothing ran\n", name);
    } else {
        rc = cli_report_error(&r);
    }
    cli_reply_free(&r);
    return rc;
}
