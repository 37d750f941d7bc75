/* cli_file.c - bounded whole-file reads for the client (see cli_file.h). */
#include "host/cli/cli_file.h"

#include "host/cli/cli_config.h"
#include "host/util/file.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_file_read(const char *path, size_t max, char **data, size_t *len,
                  char *err, size_t errlen) {
    *data = NULL;
    *len = 0;
    int from_stdin = strcmp(path, "-") == 0;
    const char *shown = from_stdin ? "(stdin)" : path;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", shown, strerror(errno));
        return -1;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max) { /* one byte past max already read: too big */
                snprintf(err, errlen, "%s is larger than the limit of %zu MiB", shown, max >> 20);
                rc = -1;
                break;
            }
            size_t ncap = cap ? cap * 2 : 64 * 1024;
            if (ncap > max + 1) ncap = max + 1;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                snprintf(err, errlen, "out of memory reading %s", shown);
                rc = -1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            snprintf(err, errlen, "%s is larger than the limit of %zu MiB", shown, max >> 20);
            rc = -1;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read %s: %s", shown, strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    if (!from_stdin) fclose(f);
    if (rc) {
        free(buf);
        return -1;
    }
    if (!buf) {
        buf = malloc(1);
        if (!buf) {
            snprintf(err, errlen, "out of memory reading %s", shown);
            return -1;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

char *cli_file_beside_config(const char *env, const char *name) {
    const char *p = getenv(env);
    if (p && *p) return strdup(p);
    char *config = cli_config_default_path();
    if (!config) return NULL;
    char *dir = dirname(config); /* may point into config */
    char *out = NULL;
    if (asprintf(&out, "%s/%s", dir, name) < 0) out = NULL;
    free(config);
    return out;
}

int cli_file_write_json(const char *path, const json_t *j, const char *what, char *err, size_t errlen) {
    /* The directory may not exist yet (a first `tfaas attest`). */
    char *copy = strdup(path);
    if (copy) {
        mkdir(dirname(copy), 0700);
        free(copy);
    }
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = file_write_atomic(path, text, strlen(text), 0644);
    free(text);
    if (rc != 0) snprintf(err, errlen, "cannot write the %s %s: %s", what, path, strerror(errno));
    return rc != 0 ? -1 : 0;
}
