/* cli_output.c - the client's printing helpers (see cli_output.h). */
#include "host/cli/cli_output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void cli_print_json(FILE *f, const json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s) {
        fputs("null\n", f);
        return;
    }
    fputs(s, f);
    fputc('\n', f);
    free(s);
}

void cli_print_raw(FILE *f, const char *body, size_t len) {
    fwrite(body, 1, len, f);
    if (len == 0 || body[len - 1] != '\n') fputc('\n', f);
}

void cli_format_time(int64_t ms, char *out, size_t outlen) {
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    if (ms <= 0 || !localtime_r(&t, &tm) || !strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, outlen, "-");
}

int64_t cli_json_int(const json_t *obj, const char *key, int64_t def) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

const char *cli_json_str(const json_t *obj, const char *key, const char *def) {
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

const char *cli_activation_status(const json_t *activation) {
    static const char *const names[] = {"success", "application error", "developer error",
                                        "internal error"};
    const json_t *resp = json_object_get(activation, "response");
    const char *s = cli_json_str(resp, "status", NULL);
    if (s) return s;
    int64_t code = cli_json_int(activation, "statusCode", cli_json_int(resp, "statusCode", -1));
    if (code >= 0 && code < 4) return names[code];
    return "-";
}
