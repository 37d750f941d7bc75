/* entity_name.c - splitting "[/NS/][PKG/]NAME"; see entity_name.h. */
#include "host/gateway/entity_name.h"

#include <string.h>

/* Copies the part [p, p+len) into dst (ACTION_MAX_NAME + 1 bytes); 0 when
 * it is a valid entity name (or "_" with allow_underscore). */
static int take(char *dst, const char *p, size_t len, int allow_underscore) {
    if (len == 0 || len > ACTION_MAX_NAME) return -1;
    memcpy(dst, p, len);
    dst[len] = '\0';
    if (allow_underscore && !strcmp(dst, "_")) return 0;
    return action_name_valid(dst) ? 0 : -1;
}

entity_name_result entity_name_parse(const char *text, entity_name *out) {
    memset(out, 0, sizeof *out);
    if (!text || !*text) return ENTITY_NAME_EMPTY;
    const char *parts[4];
    size_t lens[4];
    int n = 0;
    const char *p = text[0] == '/' ? text + 1 : text;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (n == 4) return ENTITY_NAME_TOO_DEEP;
        parts[n] = p;
        lens[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    int qualified = text[0] == '/';
    /* relative: NAME or PKG/NAME; qualified: /NS/NAME or /NS/PKG/NAME */
    if (qualified ? (n < 2 || n > 3) : n > 2) return ENTITY_NAME_TOO_DEEP;
    int i = 0;
    if (qualified) {
        if (take(out->ns, parts[0], lens[0], 1) < 0) return ENTITY_NAME_BAD_NAMESPACE;
        i = 1;
    }
    if (n - i == 2) {
        if (take(out->pkg, parts[i], lens[i], 0) < 0) return ENTITY_NAME_BAD_PACKAGE;
        i++;
    }
    if (take(out->name, parts[i], lens[i], 0) < 0) return ENTITY_NAME_BAD_NAME;
    return ENTITY_NAME_OK;
}

const char *entity_name_result_name(entity_name_result r) {
    switch (r) {
    case ENTITY_NAME_OK: return "ok";
    case ENTITY_NAME_EMPTY: return "the name is empty";
    case ENTITY_NAME_BAD_NAMESPACE: return "the namespace is not a valid name";
    case ENTITY_NAME_BAD_PACKAGE: return "the package is not a valid name";
    case ENTITY_NAME_BAD_NAME: return "the name is not a valid entity name";
    case ENTITY_NAME_TOO_DEEP: return "a name is NAME, PKG/NAME, /NS/NAME or /NS/PKG/NAME";
    }
    return "unknown";
}
