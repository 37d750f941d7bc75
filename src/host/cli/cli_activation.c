/* cli_activation.c - `tfaas activation list|get|result|logs`: reads
 * activation records and prints summaries, results and log lines. */
#include "host/cli/cli_cmd.h"
#include "host/cli/cli_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GETs /activations[/id[/suffix]]; on a 200 JSON reply returns 0 with *r
 * filled (caller frees), otherwise the exit status after reporting. */
static int fetch(struct cli_ctx *c, const char *id, const char *suffix, const char *query,
                 struct cli_reply *r) {
    int rc = cli_api(c, "GET", "activations", id, suffix, query, NULL, CLI_HTTP_TIMEOUT_S, r);
    if (rc) return rc;
    if (r->status != 200 || !r->json) {
        rc = cli_report_error(r);
        cli_reply_free(r);
        return rc;
    }
    if (c->args.json) cli_print_raw(stdout, r->raw.body, r->raw.len);
    return 0;
}

int cli_activation_list(struct cli_ctx *c) {
    const struct cli_args *a = &c->args;
    /* name (escaped, up to 3x) plus paging fits comfortably */
    size_t qlen = (a->npos ? 3 * strlen(a->pos[0]) : 0) + 96;
    char *query = malloc(qlen), *ename = NULL;
    if (!query || (a->npos && !(ename = cli_url_escape(a->pos[0])))) {
        free(query);
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    size_t n = 0;
    query[0] = '\0';
    if (ename) n += (size_t)snprintf(query + n, qlen - n, "name=%s", ename);
    if (a->limit != CLI_UNSET) n += (size_t)snprintf(query + n, qlen - n, "%slimit=%ld", n ? "&" : "", a->limit);
    if (a->skip != CLI_UNSET) snprintf(query + n, qlen - n, "%sskip=%ld", n ? "&" : "", a->skip);
    free(ename);
    struct cli_reply r;
    int rc = fetch(c, NULL, NULL, *query ? query : NULL, &r);
    free(query);
    if (rc) return rc;
    if (!json_is_array(r.json)) {
        rc = cli_report_error(&r);
    } else if (!a->json) {
        printf("%-19s  %-32s  %-17s  %9s  %s\n", "START", "ACTIVATION ID", "STATUS", "DURATION", "NAME");
        size_t i;
        json_t *act;
        json_array_foreach(r.json, i, act) {
            char when[32], dur[24];
            cli_format_time(cli_json_int(act, "start", 0), when, sizeof when);
            int64_t d = cli_json_int(act, "duration", -1);
            if (d >= 0) snprintf(dur, sizeof dur, "%lldms", (long long)d);
            else snprintf(dur, sizeof dur, "-");
            printf("%-19s  %-32s  %-17s  %9s  %s\n", when, cli_json_str(act, "activationId", "?"),
                   cli_activation_status(act), dur, cli_json_str(act, "name", "?"));
        }
    }
    cli_reply_free(&r);
    return rc;
}

int cli_activation_get(struct cli_ctx *c) {
    struct cli_reply r;
    int rc = fetch(c, c->args.pos[0], NULL, NULL, &r);
    if (rc) return rc;
    if (!c->args.json) {
        printf("ok: got activation %s\n", c->args.pos[0]);
        cli_print_json(stdout, r.json);
    }
    cli_reply_free(&r);
    return CLI_EXIT_OK;
}

int cli_activation_result(struct cli_ctx *c) {
    struct cli_reply r;
    int rc = fetch(c, c->args.pos[0], "result", NULL, &r);
    if (rc) return rc;
    if (!c->args.json) {
        /* OpenWhisk answers {"result": ..., "status": ..., "success": ...}. */
        json_t *result = json_object_get(r.json, "result");
        cli_print_json(stdout, result ? result : r.json);
    }
    cli_reply_free(&r);
    return CLI_EXIT_OK;
}

int cli_activation_logs(struct cli_ctx *c) {
    struct cli_reply r;
    int rc = fetch(c, c->args.pos[0], "logs", NULL, &r);
    if (rc) return rc;
    if (!c->args.json) {
        json_t *logs = json_object_get(r.json, "logs");
        if (!json_is_array(logs)) {
            rc = cli_report_error(&r);
        } else {
            size_t i;
            json_t *line;
            json_array_foreach(logs, i, line) {
                if (json_is_string(line)) puts(json_string_value(line));
                else cli_print_json(stdout, line);
            }
        }
    }
    cli_reply_free(&r);
    return rc;
}
