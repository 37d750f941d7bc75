/* cli_rule.c - `tfaas rule create|update|get|list|delete|enable|disable`:
 * rule documents ({trigger, action} as the user names them; the server
 * resolves and checks them) and the status changes (POST {status}). Also
 * the listing triggers and rules share. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_output.h"

#include <stdio.h>
#include <string.h>

static int put_rule(struct cli_ctx *c, bool overwrite, const char *verb) {
    json_t *doc = json_pack("{s:s, s:s}", "trigger", c->args.pos[1], "action", c->args.pos[2]);
    if (!doc) {
        fprintf(stderr, "error: TRIGGER and ACTION must be UTF-8 text\n");
        return CLI_EXIT_FAIL;
    }
    int rc = cli_put_entity(c, "rules", "rule", doc, overwrite, verb);
    json_decref(doc);
    return rc;
}

int cli_rule_create(struct cli_ctx *c) { return put_rule(c, false, "created"); }
int cli_rule_update(struct cli_ctx *c) { return put_rule(c, true, "updated"); }

int cli_rule_get(struct cli_ctx *c) { return cli_get_entity(c, "rules", "rule"); }

int cli_list_entities(struct cli_ctx *c, const char *collection) {
    char query[96] = "";
    cli_page_query(&c->args, query, sizeof query);
    struct cli_reply r;
    int rc = cli_api(c, "GET", collection, NULL, NULL, *query ? query : NULL, NULL, CLI_HTTP_TIMEOUT_S, &r);
    if (rc) return rc;
    if (r.status != 200 || !json_is_array(r.json)) {
        rc = cli_report_error(&r);
    } else if (c->args.json) {
        cli_print_raw(stdout, r.raw.body, r.raw.len);
    } else {
        bool rules = !strcmp(collection, "rules");
        printf("%-40s %-10s %s\n", "NAME", rules ? "STATUS" : "VERSION", rules ? "TRIGGER -> ACTION" : "");
        size_t i;
        json_t *e;
        json_array_foreach(r.json, i, e) {
            if (rules)
                printf("%-40s %-10s %s -> %s\n", cli_json_str(e, "name", "?"), cli_json_str(e, "status", "-"),
                       cli_json_str(json_object_get(e, "trigger"), "name", "?"),
                       cli_json_str(json_object_get(e, "action"), "name", "?"));
            else printf("%-40s %s\n", cli_json_str(e, "name", "?"), cli_json_str(e, "version", "-"));
        }
    }
    cli_reply_free(&r);
    return rc;
}

int cli_rule_list(struct cli_ctx *c) { return cli_list_entities(c, "rules"); }

int cli_rule_delete(struct cli_ctx *c) { return cli_delete_entity(c, "rules", "rule"); }

static int set_status(struct cli_ctx *c, const char *status, const char *verb) {
    json_t *body = json_pack("{s:s}", "status", status);
    struct cli_reply r;
    int rc = cli_api(c, "POST", "rules", c->args.pos[0], NULL, NULL, body, CLI_HTTP_TIMEOUT_S, &r);
    json_decref(body);
    if (rc) return rc;
    if (r.status != 200) rc = cli_report_error(&r);
    else if (!c->args.json) printf("ok: %s rule %s\n", verb, c->args.pos[0]);
    else cli_print_raw(stdout, r.raw.body, r.raw.len);
    cli_reply_free(&r);
    return rc;
}

int cli_rule_enable(struct cli_ctx *c) { return set_status(c, "active", "enabled"); }
int cli_rule_disable(struct cli_ctx *c) { return set_status(c, "inactive", "disabled"); }
